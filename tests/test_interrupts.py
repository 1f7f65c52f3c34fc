"""Stop signals (repro/runs/interrupts.py)."""

from __future__ import annotations

import signal
from types import SimpleNamespace

import pytest

from repro.runs import interrupts


@pytest.fixture
def fresh(monkeypatch):
    monkeypatch.setattr(interrupts, "_received", None)
    monkeypatch.setattr(interrupts, "_exiting", False)


def test_a_stop_signal_raises_where_the_process_is(fresh):
    with pytest.raises(KeyboardInterrupt, match="SIGTERM"):
        interrupts._handler(signal.SIGTERM, SimpleNamespace(f_code=test_a_stop_signal_raises_where_the_process_is.__code__))
    assert interrupts.interrupted()


def test_a_stop_signal_on_the_first_line_of_the_way_out_is_only_recorded(fresh):
    # The race CI met: the parent's death closed the worker's pipe (it left its loop without a
    # signal) and its PR_SET_PDEATHSIG SIGTERM landed as ignore_stop_signals_now was entered.
    frame = SimpleNamespace(f_code=interrupts.ignore_stop_signals_now.__code__)
    interrupts._handler(signal.SIGTERM, frame)  # does not raise
    assert interrupts.interrupted()
