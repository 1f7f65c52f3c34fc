"""papers/1502.03167 (batch normalization): configs resolve, claims load, the model trains."""

from __future__ import annotations

import importlib.util
import sys
import warnings
from pathlib import Path

import pytest
from helpers.trainer import quiet_trainer

PAPER = Path(__file__).resolve().parents[1] / "papers" / "1502.03167"
CONFIGS = {"baseline", "method", "bn-lr-x5", "bn-lr-x30", "nobn-lr-x5", "deep-sigmoid", "deep-sigmoid-bn", "deep-sigmoid-glorot"}


def _load(name: str):
    path = PAPER / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"paper_1502_03167_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def mods():
    return _load("model"), _load("data")


def _fit(model, data, epochs: int = 2, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer = quiet_trainer(max_epochs=epochs, **kw)
        trainer.fit(model, datamodule=data)
    return trainer


def test_configs_resolve_and_claims_load():
    from repro.claims import load_claims
    from repro.configs import resolve_configs
    from repro.paper import load_paper

    paper = load_paper(PAPER)
    configs = {c.name: c for c in resolve_configs(paper)}
    assert set(configs) == CONFIGS
    assert configs["baseline"].model["batch_norm"] is False
    assert configs["method"].model["batch_norm"] is True
    assert configs["bn-lr-x30"].model["lr"] == pytest.approx(30 * configs["method"].model["lr"])
    assert configs["deep-sigmoid"].model["depth"] == 8
    claims = {c["id"]: c for c in load_claims(paper)}
    assert claims["sigmoid-needs-bn"]["a"] == "deep-sigmoid-bn"
    assert claims["inception-72-2"]["config"] is None
    assert all(c.get("status") == "confirmed" for c in claims.values())


def test_gpu_config_set_resolves():
    from repro.claims import load_claims
    from repro.configs import resolve_configs
    from repro.paper import load_paper

    # `repro run papers/1502.03167 --config-set gpu` reads configs-gpu/ in place.
    paper = load_paper(PAPER, "gpu")
    assert paper.results_name == "1502.03167@gpu"
    configs = {c.name: c for c in resolve_configs(paper)}
    assert all(c.path.is_relative_to(PAPER / "configs-gpu") for c in configs.values())
    assert load_claims(paper)  # the same claims.yaml names configs the set has
    assert set(configs) == CONFIGS
    base = configs["baseline"]
    steps = base.trainer["max_epochs"] * base.data["passes_per_epoch"] * -(-base.data["n_train"] // base.data["batch_size"])
    assert steps >= 50_000                        # the paper's 50,000 steps


def test_bn_network_shape(mods):
    import torch

    model_mod, _ = mods
    bn = model_mod.BatchNormMLP(batch_norm=True)
    plain = model_mod.BatchNormMLP(batch_norm=False)
    # BN replaces the bias: z = g(BN(Wu)); the plain net keeps z = g(Wu + b).
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in bn.modules()) == 3
    assert all(m.bias is None for m in bn.body if isinstance(m, torch.nn.Linear))
    assert all(m.bias is not None for m in plain.body if isinstance(m, torch.nn.Linear))
    assert bn(torch.rand(5, 64)).shape == (5, 10)
    with pytest.raises(ValueError, match="activation"):
        model_mod.BatchNormMLP(activation="gelu")


@pytest.mark.slow  # trains
def test_trains_two_epochs_and_logs_paper_metrics(mods):
    import lightning as L

    from repro.paper import load_paper

    model_mod, data_mod = mods
    L.seed_everything(0, verbose=False)
    model = model_mod.BatchNormMLP(batch_norm=True, lr=0.5, target_acc=0.5)
    data = data_mod.DigitsData(n_train=600, n_test=300)
    trainer = _fit(model, data, epochs=2, val_check_interval=0.5)
    logged = trainer.callback_metrics
    for metric in load_paper(PAPER).metrics:
        assert metric.name in logged, metric.name
    # Four evaluations (two per epoch); the speed metrics are consistent with them.
    assert len(model._evals) == 4
    assert float(logged["test_acc_auc"]) == pytest.approx(sum(model._evals) / 4, abs=1e-6)
    reached = [i for i, a in enumerate(model._evals) if a >= 0.5]
    assert reached, model._evals                   # BN gets past 50% within 2 epochs
    assert 0 < float(logged["steps_to_target"]) <= trainer.global_step


@pytest.mark.slow  # trains
def test_steps_to_target_counts_never_as_slowest(mods):
    import lightning as L

    model_mod, data_mod = mods
    L.seed_everything(0, verbose=False)
    model = model_mod.BatchNormMLP(batch_norm=False, lr=0.01, target_acc=0.999)
    trainer = _fit(model, data_mod.DigitsData(n_train=300, n_test=200), epochs=1)
    # Never reached: the budget plus one epoch, more than any run that got there can log.
    assert float(trainer.callback_metrics["steps_to_target"]) == trainer.global_step + trainer.num_training_batches


def test_speed_state_survives_a_checkpoint(mods):
    model_mod, _ = mods
    a = model_mod.BatchNormMLP()
    a._evals, a._reached_at = [0.2, 0.96], 34
    ckpt: dict = {}
    a.on_save_checkpoint(ckpt)
    b = model_mod.BatchNormMLP()
    b.on_load_checkpoint(ckpt)
    assert b._evals == [0.2, 0.96] and b._reached_at == 34
