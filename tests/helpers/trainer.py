"""A plain Lightning Trainer for tests that fit a model directly, quiet and on the CPU, with
the callback `repro run` adds for the epoch's mean training loss (model.py leaves it to the
runner), so the metrics the tests read are the ones a run records."""

from __future__ import annotations

from typing import Any


def quiet_trainer(**kwargs: Any):
    import lightning as L

    from repro.runs.callbacks import EpochMeans

    settings: dict[str, Any] = dict(accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                                    enable_progress_bar=False, enable_model_summary=False)
    return L.Trainer(callbacks=[EpochMeans()], **{**settings, **kwargs})
