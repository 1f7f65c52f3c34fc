"""git_state: the dirty flag a run records describes its code, not the outputs beside it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from repro.envinfo import git_state


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def test_results_waiting_to_be_committed_do_not_make_a_run_dirty_but_code_does(tmp_path: Path) -> None:
    repo = tmp_path / "proj"
    (repo / "papers" / "p").mkdir(parents=True)
    (repo / "results" / "p").mkdir(parents=True)
    (repo / "papers" / "p" / "model.py").write_text("x = 1\n")
    (repo / "results" / "p" / "summary.json").write_text("{}\n")
    _git(repo, "init", "-q")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    paper = repo / "papers" / "p"
    assert git_state(paper)["dirty"] is False
    (repo / "results" / "p" / "summary.json").write_text('{"status": "finished"}\n')  # another sweep's output
    assert git_state(paper) == {"commit": git_state(paper)["commit"], "dirty": False}
    (paper / "model.py").write_text("x = 2\n")                                          # the code changed
    assert git_state(paper)["dirty"] is True
