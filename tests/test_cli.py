"""The command line: help, errors without tracebacks, and no torch where no training happens."""

import subprocess
import sys

import pytest

from helpers.cli import run_repro

LIGHT_MODULES = [
    "repro.cli", "repro.commands.run", "repro.commands.report", "repro.commands.site",
    "repro.commands.new", "repro.commands.status", "repro.runs.planner", "repro.configs",
    "repro.judging.verdicts", "repro.judging.report", "repro.judging.site.build", "repro.literature.extract.tables",
    "repro.commands.track", "repro.api", "repro.runs.sweep", "repro.runs.tracking",
    "repro.commands.check", "repro.judging.flags", "repro.judging.sequential", "repro.runs.status",
]


@pytest.mark.parametrize("module", LIGHT_MODULES)
def test_commands_without_training_do_not_import_torch(module):
    code = f"import sys, {module}; bad = [m for m in ('torch', 'lightning') if m in sys.modules]; assert not bad, bad"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("cmd", ["new", "run", "status", "report", "site", "track", "check"])
def test_every_command_has_help(cmd, tmp_path):
    r = run_repro(cmd, "--help", cwd=tmp_path)
    assert r.returncode == 0 and "Usage:" in r.stdout and len(r.stdout.splitlines()) > 5


def test_top_level_help_lists_commands(tmp_path):
    r = run_repro("--help", cwd=tmp_path)
    assert r.returncode == 0
    for cmd in ("new", "run", "status", "report", "site"):
        assert f"  {cmd}" in r.stdout


def test_unknown_command_is_a_usage_error(tmp_path):
    r = run_repro("rnu", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
