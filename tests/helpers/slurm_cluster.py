"""A real single-node SLURM cluster on 127.0.0.1, in a temporary folder, for the tests.

Starts munged (own key and socket), slurmctld and slurmd from Debian's packages with a
generated slurm.conf: no accounting database (so no sacct), processes tracked by
linuxproc, no cgroups. `env()` is what a client (sbatch, squeue, submitit) needs to talk to
it. `stop()` kills the daemons it started, by pid.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path


def slurm_available() -> bool:
    return all(shutil.which(b) for b in ("slurmctld", "slurmd", "munged", "sbatch", "squeue", "scontrol"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SlurmCluster:
    def __init__(self, root: Path, cpus: int = 2) -> None:
        self.root = root
        self.cpus = cpus
        self.node = socket.gethostname().split(".")[0]
        self.procs: list[subprocess.Popen] = []
        self.conf = root / "etc" / "slurm.conf"
        self.munge_socket = root / "munge" / "munge.socket"

    def env(self) -> dict[str, str]:
        return {"SLURM_CONF": str(self.conf)}

    def _write_conf(self) -> None:
        r = self.root
        for d in ("etc", "state", "spool", "log", "munge"):
            (r / d).mkdir(parents=True, exist_ok=True)
        conf = f"""\
ClusterName=repro-test
SlurmctldHost={self.node}(127.0.0.1)
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={self.munge_socket}
CredType=cred/munge
StateSaveLocation={r / "state"}
SlurmdSpoolDir={r / "spool"}
SlurmctldPidFile={r / "slurmctld.pid"}
SlurmdPidFile={r / "slurmd.pid"}
SlurmctldLogFile={r / "log" / "slurmctld.log"}
SlurmdLogFile={r / "log" / "slurmd.log"}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerParameters=sched_interval=1
JobRequeue=1
MinJobAge=300
KillWait=5
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName={self.node} NodeAddr=127.0.0.1 CPUs={self.cpus} State=UNKNOWN
PartitionName=debug Nodes={self.node} Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
"""
        self.conf.write_text(conf)

    def _start_munge(self) -> None:
        key = self.root / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o600)
        (self.root / "munge").chmod(0o700)
        subprocess.run(
            ["munged", "--force", f"--key-file={key}", f"--socket={self.munge_socket}",
             f"--pid-file={self.root / 'munge' / 'munged.pid'}", f"--log-file={self.root / 'log' / 'munged.log'}",
             f"--seed-file={self.root / 'munge' / 'seed'}"],
            check=True, timeout=20, capture_output=True,
        )  # munged daemonises: its pid is in the pid file

    def start(self, timeout: float = 60) -> "SlurmCluster":
        self._write_conf()
        self._start_munge()
        env = {**os.environ, **self.env()}
        for cmd in (["slurmctld", "-D", "-i", "-f", str(self.conf)],
                    ["slurmd", "-D", "-N", self.node, "-f", str(self.conf)]):
            log = open(self.root / "log" / f"{cmd[0]}.out", "ab")
            self.procs.append(subprocess.Popen(cmd, env=env, stdout=log, stderr=log, start_new_session=True))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for p in self.procs:
                if p.poll() is not None:
                    raise RuntimeError(f"{p.args[0]} exited: {self.logs()}")
            out = subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True, text=True, timeout=10).stdout
            if out.strip() and out.split()[0].rstrip("*") in ("idle", "mixed", "allocated"):
                return self
            time.sleep(0.5)
        raise RuntimeError(f"SLURM node never became idle: {self.logs()}")

    def logs(self) -> str:
        out = []
        for f in sorted((self.root / "log").glob("*")):
            out.append(f"--- {f.name}\n" + f.read_text(errors="replace")[-3000:])
        return "\n".join(out)

    def stop(self) -> None:
        # Jobs still running would outlive slurmd (linuxproc): cancel them first.
        env = {**os.environ, **self.env()}
        try:
            subprocess.run(["scancel", "--full", "-u", "root"], env=env, timeout=10, capture_output=True)
            time.sleep(1)
        except (OSError, subprocess.TimeoutExpired):
            pass
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)
        pidf = self.root / "munge" / "munged.pid"
        if pidf.is_file():
            try:
                os.kill(int(pidf.read_text().strip()), signal.SIGTERM)
            except (ValueError, ProcessLookupError):
                pass
