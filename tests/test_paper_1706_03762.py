"""papers/1706.03762 (Attention Is All You Need): configs resolve, claims load, the
attention has the shapes the paper describes, the task is deterministic, and the model
trains (a shrunk run, in-process with lightning.Trainer)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest
from helpers.trainer import quiet_trainer

ROOT = Path(__file__).resolve().parents[1]
PAPER = ROOT / "papers" / "1706.03762"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"paper_1706_03762_{name}", PAPER / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_configs_resolve_and_scale_table3():
    from repro.configs import resolve_configs
    from repro.paper import load_paper

    paper = load_paper(PAPER)
    configs = {c.name: c for c in resolve_configs(paper)}
    assert "baseline" in configs and "a-h1-dk512-dv512" in configs
    base = configs["baseline"].values["model"]
    # Row (A) keeps computation constant: h * d_v equals d_model in every head setting.
    for name, c in configs.items():
        m = c.values["model"]
        if name.startswith("a-"):
            assert m["h"] * m["d_v"] == m["d_model"] == base["d_model"], name
        assert c.values["model"]["vocab_size"] == c.values["data"]["vocab_size"], name
    assert configs["d-pdrop0-0"].values["model"]["p_drop"] == 0.0
    assert configs["e-positional-embedding-instead-of-sinusoids"].values["model"]["positional"] == "learned"


def test_gpu_configs_use_the_same_keys():
    from repro.claims import load_claims
    from repro.configs import resolve_configs
    from repro.paper import load_paper

    # `repro run papers/1706.03762 --config-set gpu`: every file of configs-gpu/ is checked
    # (raises ConfigError on an unknown key) and merged, and claims.yaml names its configs.
    paper = load_paper(PAPER, "gpu")
    files = sorted((PAPER / "configs-gpu").rglob("*.yaml"))
    assert len(files) >= 20
    configs = resolve_configs(paper)
    assert {c.path for c in configs} == set(files) - {PAPER / "configs-gpu" / "base.yaml"}
    assert load_claims(paper)


def test_claims_load_and_name_real_configs():
    from repro.claims import load_claims
    from repro.paper import load_paper

    claims = load_claims(load_paper(PAPER))
    runnable = [c for c in claims if c["kind"] != "value"]
    assert len(runnable) >= 10 and all(c["status"] == "confirmed" for c in runnable)
    table2 = [c for c in claims if c["source"]["table"] == "2"]
    values = [c for c in table2 if c["kind"] == "value"]
    assert values and all(c["config"] is None and c["note"] for c in values)
    assert all(c["source"]["page"] == 8 for c in table2)
    # Table 2's central claim is judged: the Transformer against the recurrent and the
    # convolutional baseline, each on the BLEU stand-in.
    central = {(c["a"], c["b"], c["metric"]) for c in table2 if c["kind"] == "comparison"}
    assert central == {("baseline", "t2-rnn-attention", "val_seq_acc"), ("baseline", "t2-conv-s2s", "val_seq_acc")}
    # Every BLEU column is judged on the same stand-in, row (E) included.
    assert {c["metric"] for c in runnable if "BLEU" in c["source"]["column"]} == {"val_seq_acc"}
    # Table 4's rows keep their "Training" column (two Zhu et al. rows differ only there).
    table4 = [c for c in claims if c["source"]["table"] == "4"]
    assert len({c["source"]["row"] for c in table4}) == len(table4) == 12


def test_attention_shapes_and_causal_mask():
    torch = pytest.importorskip("torch")
    model = _load("model")
    mha = model.MultiHeadAttention(d_model=32, h=4, d_k=3, d_v=5)
    assert mha.w_q.out_features == 12 and mha.w_v.out_features == 20 and mha.w_o.in_features == 20
    q, kv = torch.randn(2, 7, 32), torch.randn(2, 9, 32)
    assert mha(q, kv).shape == (2, 7, 32)
    # With a causal mask, position t's output must not depend on positions after t.
    x = torch.randn(1, 6, 32)
    causal = torch.ones(6, 6, dtype=torch.bool).tril()
    y1 = mha(x, x, causal)
    x2 = x.clone()
    x2[:, 4:] += 10.0
    y2 = mha(x2, x2, causal)
    assert torch.allclose(y1[:, :4], y2[:, :4], atol=1e-5)
    assert not torch.allclose(y1[:, 4:], y2[:, 4:])


def test_schedule_is_the_papers():
    model = _load("model")
    f = model.noam_lambda(d_model=512, warmup_steps=4000, factor=1.0)
    # Peak at step == warmup: d_model^-0.5 * warmup^-0.5; linear before, inverse sqrt after.
    assert math.isclose(f(3999), 512 ** -0.5 * 4000 ** -0.5)
    assert f(1999) < f(3999) and f(15999) < f(3999)
    assert math.isclose(f(15999), 512 ** -0.5 * 16000 ** -0.5)


def test_proxy_learning_rate_is_the_stated_multiple_of_the_papers():
    from repro.configs import resolve_configs
    from repro.paper import load_paper

    model = _load("model")
    base = {c.name: c for c in resolve_configs(load_paper(PAPER))}["baseline"].values["model"]
    f = model.noam_lambda(base["d_model"], base["warmup_steps"], base["lr_factor"])
    peak = max(f(s) for s in range(2000))
    paper = max(model.noam_lambda(512, 4000, 1.0)(s) for s in range(8000))
    assert math.isclose(paper, 7.0e-4, rel_tol=0.01)
    # configs/base.yaml says: peak 1.0e-2, about 15x the paper's.
    assert math.isclose(peak, 1.03e-2, rel_tol=0.01) and 14 < peak / paper < 16


def _table2_baseline(name: str):
    """Table 2's competitor `name` built from its config, checked to be about the base's size:
    (model module, the competitor in eval mode, vocabulary size)."""
    from repro.configs import resolve_configs
    from repro.paper import load_paper

    model = _load("model")
    configs = {c.name: c for c in resolve_configs(load_paper(PAPER))}
    nets = {k: model.Seq2Seq(**configs[k].values["model"]) for k in ("baseline", name)}
    n = {k: sum(p.numel() for p in m.parameters()) for k, m in nets.items()}
    assert abs(n[name] / n["baseline"] - 1) < 0.05, n                    # "about equal parameters"
    return model, nets[name].eval(), configs[name].values["model"]["vocab_size"]


def _decoder_is_causal(net, memory, V: int):
    """Changing target inputs from position 4 on leaves logits 0-3 unchanged; the logits of y1."""
    import torch

    y1 = torch.randint(0, V + 1, (2, 6))
    y2 = y1.clone()
    y2[:, 4:] = (y2[:, 4:] + 1) % (V + 1)
    out1, out2 = net.decode(y1, memory), net.decode(y2, memory)
    assert out1.shape == (2, 6, V)
    assert torch.allclose(out1[:, :4], out2[:, :4], atol=1e-6) and not torch.allclose(out1[:, 4:], out2[:, 4:])
    return y1, out1


def test_recurrent_baseline_is_causal_and_the_same_size():
    torch = pytest.importorskip("torch")
    model, rnn, V = _table2_baseline("t2-rnn-attention")
    assert isinstance(rnn.net, model.RNNSearchNet)
    _decoder_is_causal(rnn.net, rnn.net.encode(torch.randint(0, V, (2, 6))), V)
    with pytest.raises(ValueError, match="arch"):
        model.Seq2Seq(arch="lstm")


def test_convolutional_baseline_is_causal_the_same_size_and_learns():
    torch = pytest.importorskip("torch")
    model, conv, V = _table2_baseline("t2-conv-s2s")
    assert isinstance(conv.net, model.ConvS2SNet)
    torch.manual_seed(0)
    src = torch.randint(0, V, (2, 6))
    memory = conv.net.encode(src)
    assert memory.shape == (2, 2, 6, 45)                                # keys z and values z + e
    y1, out1 = _decoder_is_causal(conv.net, memory, V)
    # The encoder is not causal: every source word reaches every decoder position.
    src2 = src.clone()
    src2[:, 5] = (src2[:, 5] + 1) % V
    assert not torch.allclose(conv.net.decode(y1, conv.net.encode(src2))[:, 0], out1[:, 0])
    # One optimisation step on a fixed batch lowers the loss on that batch.
    conv.train()
    torch.manual_seed(0)
    tgt = torch.randint(0, V, (16, 6))
    src = torch.randint(0, V, (16, 6))
    opt = torch.optim.Adam(conv.parameters(), lr=1e-2)
    for m in conv.modules():                                            # a deterministic loss
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    before = conv._losses(src, tgt)[1]
    opt.zero_grad()
    conv._losses(src, tgt)[0].backward()
    opt.step()
    assert conv._losses(src, tgt)[1] < before


def test_task_is_deterministic_and_follows_its_rule():
    pytest.importorskip("torch")
    data = _load("data")
    a, b = data.TranslationData(noise=0.0, n_train=50, n_val=10), data.TranslationData(noise=0.0, n_train=50, n_val=10)
    a.setup(), b.setup()
    src, tgt = a.train_set.tensors
    assert (src == b.train_set.tensors[0]).all() and (tgt == b.train_set.tensors[1]).all()
    L = src.shape[1]
    for i in range(L):  # y_i = T[x_{L-1-i}, x_{(i+shift) mod L}]
        assert (tgt[:, i] == a.table[src[:, L - 1 - i], src[:, (i + 3) % L]]).all()


def test_either_table_and_zipfian_words():
    pytest.importorskip("torch")
    data = _load("data")
    d = data.TranslationData(vocab_size=16, rule="either", zipf=1.5, noise=0.0, n_train=4000, n_val=10)
    d.setup()
    T = d.table
    # "either": every T[u, v] is u's translation (constant along its row) or v's (along its column).
    row_word = T.mode(dim=1).values                                    # (V,) the row's A[u], by majority
    col_word = T.mode(dim=0).values                                    # (V,) the column's B[v]
    assert ((T == row_word[:, None]) | (T == col_word[None, :])).all()
    # Zipfian words: word 0 is more frequent than word 15 by about 16^1.5 = 64.
    src = d.train_set.tensors[0]
    counts = src.flatten().bincount(minlength=16)
    assert counts[0] > 20 * counts[15] and counts[0] > counts[1] > counts[4]
    with pytest.raises(ValueError, match="rule"):
        data.TranslationData(rule="sum")


@pytest.mark.slow
def test_model_trains_in_seconds():
    torch = pytest.importorskip("torch")
    L = pytest.importorskip("lightning")
    model, data = _load("model"), _load("data")
    L.seed_everything(0)
    torch.set_num_threads(1)
    m = model.Seq2Seq(vocab_size=6, N=1, d_model=16, d_ff=32, h=2, d_k=8, d_v=8, warmup_steps=20)
    d = data.TranslationData(vocab_size=6, seq_len=5, shift=1, n_train=512, n_val=64, batch_size=32)
    trainer = quiet_trainer(max_epochs=2, num_sanity_val_steps=0)
    trainer.fit(m, d)
    got = {k: float(v) for k, v in trainer.callback_metrics.items()}
    for name in ("train_loss", "train_acc", "val_loss", "val_ppl", "val_acc", "val_seq_acc"):
        assert name in got and math.isfinite(got[name]), name
    assert math.isclose(got["val_ppl"], math.exp(got["val_loss"]), rel_tol=1e-4)
    assert got["val_loss"] < math.log(6)  # learned something beyond the uniform guess


@pytest.mark.slow
@pytest.mark.parametrize("arch,task", [("rnn", {}), ("conv", {"rule": "either", "zipf": 1.0})])
def test_table2_baselines_train_in_seconds(arch, task):
    torch = pytest.importorskip("torch")
    L = pytest.importorskip("lightning")
    model, data = _load("model"), _load("data")
    L.seed_everything(0)
    torch.set_num_threads(1)
    m = model.Seq2Seq(arch=arch, vocab_size=6, N=1, d_model=16, warmup_steps=20)
    d = data.TranslationData(vocab_size=6, seq_len=5, shift=1, n_train=512, n_val=64, batch_size=32, **task)
    trainer = quiet_trainer(max_epochs=2, num_sanity_val_steps=0)
    trainer.fit(m, d)
    got = {k: float(v) for k, v in trainer.callback_metrics.items()}
    assert math.isfinite(got["val_seq_acc"]) and got["val_loss"] < math.log(6)
