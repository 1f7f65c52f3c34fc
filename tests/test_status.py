"""`repro status` as a library: repro.api.run_status, repro.runs.status and lock.held."""

from __future__ import annotations

import json
import socket

from helpers.tinypaper import make_tiny_paper

import repro
from repro.runs.lock import held, paper_lock
from repro.runs.status import RunState, summary_line


def test_held_only_while_a_live_run_holds_the_lock(tmp_path):
    folder = tmp_path / "results" / "p"
    assert not held(folder)  # no folder, no lock
    with paper_lock(folder):
        assert held(folder)
    assert not held(folder)
    # A lock left by a process that is gone (pid 2**22 - 1 is not running here) is not held,
    # and neither is one with garbage in it.
    (folder / ".lock").write_text(json.dumps({"pid": 2 ** 22 - 1, "host": socket.gethostname()}))
    assert not held(folder)
    (folder / ".lock").write_text("not json")
    assert not held(folder)


def test_run_status_is_what_repro_status_prints(tmp_path):
    make_tiny_paper(tmp_path, seeds=(0, 1))
    paper = tmp_path / "papers" / "0000.00001"
    rows = repro.run_status(paper)
    assert rows and all(isinstance(r, RunState) for r in rows)
    assert {r.state for r in rows} == {"not run"} and summary_line(rows) == f"{len(rows)} not run ({len(rows)} runs)"
    assert [r.run for r in repro.run_status(paper, only=["method"])] == ["method/seed-0", "method/seed-1"]
    # While a `repro run` holds the paper's lock, runs not started yet are queued behind it.
    with paper_lock(tmp_path / "results" / "0000.00001"):
        assert {r.state for r in repro.run_status(paper)} == {"queued"}
