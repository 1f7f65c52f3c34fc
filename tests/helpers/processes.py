"""Killing a `repro` subprocess at the moment a condition holds (interruption tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import time


def _kill_when(proc: subprocess.Popen, cond, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "condition never met"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
