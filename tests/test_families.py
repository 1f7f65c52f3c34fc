"""Reference architectures (templates/scaffold/models/), family choice, ablation mapping, archcheck."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from repro.literature.archcheck import ArchClaim, ArchCount, column_unit, judge, param_claims
from repro.literature.families import FAMILIES, MODELS_DIR, choose_family, map_ablation
from helpers.trainer import quiet_trainer

REPO = Path(__file__).resolve().parents[1]
PAPER = REPO.parent / "shared" / "fixtures" / "papers" / "1706.03762"


def _load(family: str, name: str):
    # a family's model.py is its own; its data.py is shared with the families of the same inputs
    path = FAMILIES[family].data_file if name == "data" else MODELS_DIR / family / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"ref_{family}_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _n(model) -> int:
    return sum(p.numel() for p in model.parameters())


def _ln(d):
    return 2 * d


def _lin(i, o, bias=True):
    return i * o + (o if bias else 0)


# Tiny sizes for each family: (model kwargs, data kwargs, hand count of the parameters,
# expected output shape for the data module's first batch of 4).
def _cases():
    V, d, dff, ml = 20, 8, 16, 16
    attn = 4 * _lin(d, d)                       # W^Q, W^K, W^V, W^O with h * d_k = d
    ffn = _lin(d, dff) + _lin(dff, d)
    enc_dec = V * d + (attn + ffn + 2 * _ln(d)) + (2 * attn + ffn + 3 * _ln(d))
    gpt = V * d + ml * d + (2 * _ln(d) + _lin(d, 3 * d) + _lin(d, d) + ffn) + _ln(d)
    bert = V * d + ml * d + _ln(d) + (_lin(d, 3 * d) + _lin(d, d) + ffn + 2 * _ln(d)) + _lin(d, d) + _lin(d, 3)
    conv = lambda i, o, k: i * o * k * k  # noqa: E731
    bn = lambda c: 2 * c  # noqa: E731
    resnet = (conv(3, 4, 3) + bn(4)                                   # cifar stem
              + 2 * conv(4, 4, 3) + 2 * bn(4)                          # stage 1 block
              + conv(4, 8, 3) + conv(8, 8, 3) + 2 * bn(8) + conv(4, 8, 1) + bn(8)  # stage 2 + projection
              + _lin(8, 5))
    mlp = _lin(12, 8) + _lin(8, 8) + _lin(8, 5)
    lstm = V * d + 4 * (d * (d + d) + 2 * d) * 2 + V                   # 2 layers, tied decoder: its bias only
    return {
        "transformer": (dict(vocab_size=V, max_len=ml, n_layers=1, d_model=d, d_ff=dff, n_heads=2),
                        dict(vocab_size=V, src_len=5, n_train=8, n_val=4, batch_size=4), enc_dec, (4, 5, V)),
        "decoder_lm": (dict(vocab_size=V, max_len=ml, n_layers=1, d_model=d, d_ff=dff, n_heads=2),
                       dict(vocab_size=V, seq_len=6, n_train_tokens=200, n_val_tokens=50, batch_size=4), gpt, (4, 6, V)),
        "encoder_classifier": (dict(vocab_size=V, num_classes=3, max_len=ml, n_layers=1, d_model=d, d_ff=dff, n_heads=2),
                               dict(vocab_size=V, num_classes=3, seq_len=7, n_train=8, n_val=4, batch_size=4), bert, (4, 3)),
        "resnet": (dict(num_classes=5, blocks_per_stage=[1, 1], width=4),
                   dict(num_classes=5, channels=3, image_size=8, n_train=8, n_val=4, batch_size=4), resnet, (4, 5)),
        "mlp": (dict(input_dim=12, num_classes=5, hidden_dim=8, n_layers=2),
                dict(num_classes=5, channels=3, image_size=2, n_train=8, n_val=4, batch_size=4), mlp, (4, 5)),
        "rnn": (dict(vocab_size=V, embed_dim=d, hidden_dim=d, n_layers=2),
                dict(vocab_size=V, seq_len=6, n_train_tokens=200, n_val_tokens=50, batch_size=4), lstm, (4, 6, V)),
    }


CASES = _cases()


def test_every_family_has_a_case():
    assert set(CASES) == set(FAMILIES)


@pytest.mark.parametrize("family", sorted(CASES))
def test_reference_model_shapes_and_parameter_count(family):
    import torch

    mk, dk, hand, shape = CASES[family]
    model = _load(family, "model").PaperModel(**mk)
    assert _n(model) == hand
    dm = _load(family, "data").PaperData(**dk)
    dm.setup()
    batch = next(iter(dm.train_dataloader()))
    with torch.no_grad():
        if family == "transformer":
            out = model(batch[0], batch[1][:, :-1])
        elif family in ("decoder_lm", "rnn"):
            out = model(batch[0][:, :-1])
        else:
            out = model(batch[0])
    assert tuple(out.shape) == shape


def test_meta_device_count_equals_a_real_build():
    import torch

    mk = dict(vocab_size=50, n_layers=2, d_model=16, n_heads=4, d_k=8, d_v=2, share_embeddings=False)
    cls = _load("transformer", "model").PaperModel
    with torch.device("meta"):
        meta = cls(**mk)
    assert _n(meta) == _n(cls(**mk))
    assert _n(cls(**{**mk, "share_embeddings": True})) == _n(meta) - 2 * 50 * 16  # one matrix, not three


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(CASES))
def test_reference_model_trains_one_step(family):
    import lightning as L
    import torch

    mk, dk, _, _ = CASES[family]
    L.seed_everything(0, verbose=False)
    model = _load(family, "model").PaperModel(**mk)
    before = [p.detach().clone() for p in model.parameters()]
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=1, limit_val_batches=1)
    trainer.fit(model, _load(family, "data").PaperData(**dk))
    assert trainer.global_step == 1
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    logged = set(trainer.callback_metrics)
    assert {name for name, _ in FAMILIES[family].metrics} <= logged


# -- choosing the family ---------------------------------------------------------------------

def test_family_from_text_with_the_sentences():
    text = ["We propose an encoder-decoder model built on multi-head attention for machine translation. "
            "The encoder stack has six layers. Results on WMT are reported in BLEU. "
            "Multi-head attention lets the model attend to several positions. We trained it for 3 days."]
    c = choose_family(text, None, title="A model", abstract="We study sequence transduction with an encoder and decoder.")
    assert c.family == "transformer"
    assert any("encoder" in e.sentence for e in c.evidence)
    assert "score" in c.why


def test_family_ignores_what_the_paper_does_without_and_the_references():
    body = ("Our network stacks residual blocks of 3x3 convolutions. We train on CIFAR-10 for image classification. "
            "Unlike recurrent neural networks and LSTMs, it needs no state. Each residual block has batch normalization. "
            "We train with SGD.")
    refs = "\nReferences\n" + "LSTM LSTM recurrent neural network GRU " * 30
    c = choose_family([body + refs], None)
    assert c.family == "resnet"
    assert c.scores["rnn"] == 0


def test_nothing_fits_falls_back_to_the_toy_with_a_note():
    c = choose_family(["We surveyed 40 annotators about their reading habits. We trained them for an hour."], None,
                      title="A survey")
    assert c.family is None and "toy" in c.why and "enough evidence" in c.why
    # Plenty of cues, but the paper trains nothing: it evaluates other people's models.
    c = choose_family(["Annotators compared summaries written by BART, an encoder-decoder model. "
                       "BART is an encoder-decoder model for summarization. Each BART summary was rated."], None)
    assert c.family is None and "never says it trains" in c.why


def test_latex_macros_naming_the_model_count():
    tex = (r"\newcommand{\rob}{RoBERTa\xspace} \begin{document} We fine-tune \rob{} for sentence classification. "
           r"\rob is a BERT-style transformer encoder. \rob beats the baselines.")
    assert choose_family(None, tex).family == "encoder_classifier"


def test_family_override():
    assert choose_family(None, None, override="rnn").family == "rnn"
    assert choose_family(None, None, override="toy").family is None
    from repro.errors import UsageError

    with pytest.raises(UsageError):
        choose_family(None, None, override="lstm-ish")


# -- ablation rows ---------------------------------------------------------------------------

def test_ablation_rows_map_onto_model_arguments():
    m, t, bad = map_ablation("transformer", {"N": 2, "dmodel": 256, "d_k": 32, "d_v": 32, "h": 4, "dff": 1024,
                                             "P_drop": 0.0, "ϵ_ls": 0.2, "train steps": 300000})
    assert m == {"n_layers": 2, "d_model": 256, "d_k": 32, "d_v": 32, "n_heads": 4, "d_ff": 1024,
                 "dropout": 0.0, "label_smoothing": 0.2}
    assert t == {"max_steps": 300000} and bad == []
    m, _, bad = map_ablation("transformer", {"dmodel": "positional embedding instead of sinusoids"})
    assert m == {"positional": "learned"} and bad == []
    m, _, bad = map_ablation("resnet", {}, label="w/o residual connections")
    assert m == {"residual": False}
    m, _, bad = map_ablation("resnet", {"beam size": 4}, label="(F)")
    assert m == {} and bad == ["beam size: 4"]


# -- architecture claims ---------------------------------------------------------------------

def test_column_units_and_printed_precision():
    assert column_unit("params ×10^6", 65)[0] == 1e6
    assert column_unit("#Params (M)", 110)[0] == 1e6
    assert column_unit("params", 340_000_000)[0] == 1.0
    claims = [{"id": "t3-base-params", "kind": "value", "config": None, "value": 65.0, "text": "Table 3, base: params = 65",
               "metric": "params", "source": {"table": "3", "row": "base", "column": "params ×10^6"}},
              {"id": "t3-c-n2-params", "kind": "value", "config": None, "value": 36.5, "metric": "params",
               "text": "Table 3, (C): params = 36.5", "source": {"table": "3", "row": "(C)", "column": "params ×10^6"}},
              {"id": "t3-base-bleu", "kind": "value", "config": None, "value": 25.8, "metric": "bleu",
               "source": {"table": "3", "row": "base", "column": "BLEU"}}]
    got = param_claims(claims, ["baseline", "c-n2"])
    assert [(c.config, c.tolerance) for c in got] == [("baseline", 0.5), (None, 0.05)]  # id lacks the table prefix


def test_judge_names_a_common_offset():
    counts = [ArchCount("a", 63_000_000), ArchCount("b", 34_000_000), ArchCount("c", 214_000_000)]
    claims = [ArchClaim("x", "a", "params", "65", 65, 1e6, 0.5), ArchClaim("y", "b", "params", "36", 36, 1e6, 0.5),
              ArchClaim("z", "c", "params", "216", 216, 1e6, 0.5)]
    offset, text = judge(claims, counts)
    assert [c.verdict for c in claims] == ["off"] * 3
    assert offset == pytest.approx(-2.0) and "same" in text
    claims[2].claimed = 214.2
    claims[2].printed = "214.2"
    claims[2].tolerance = 0.05
    offset, text = judge(claims, counts)
    assert claims[2].verdict == "off" and "Most of the gap is one constant" in text


# -- the real paper --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def transformer_paper(tmp_path_factory) -> Path:
    if not (PAPER / "paper.pdf").is_file():
        pytest.skip("../shared/fixtures is absent")
    tmp = tmp_path_factory.mktemp("papers")
    env_code = ("import sys; from repro.cli import main; sys.exit(main(sys.argv[1:]))")
    subprocess.run([sys.executable, "-c", env_code, "new", "1706.03762", "--pdf", str(PAPER / "paper.pdf"),
                    "--source", str(PAPER / "source.tex"), "--offline", "--papers-dir", str(tmp)],
                   check=True, capture_output=True, timeout=300, env={"REPRO_CACHE": str(tmp / "cache"),
                                                                      "PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    return tmp / "1706.03762"


def test_transformer_paper_gets_its_architecture_and_settings(transformer_paper):
    folder = transformer_paper
    assert "encoder-decoder Transformer" in (folder / "model.py").read_text()
    paper = yaml.safe_load((folder / "configs-paper" / "base.yaml").read_text())
    assert {k: paper["model"][k] for k in ("n_layers", "d_model", "n_heads", "d_ff", "dropout", "label_smoothing",
                                           "warmup_steps", "beta2", "vocab_size")} == \
        {"n_layers": 6, "d_model": 512, "n_heads": 8, "d_ff": 2048, "dropout": 0.1, "label_smoothing": 0.1,
         "warmup_steps": 4000, "beta2": 0.98, "vocab_size": 37000}
    assert '# p.5: "In this work we employ h = 8 parallel attention layers' in (folder / "configs-paper" / "base.yaml").read_text()
    proxy = yaml.safe_load((folder / "configs" / "base.yaml").read_text())
    assert proxy["model"]["d_model"] == 32 and proxy["data"]["dataset"] == "synthetic"
    note = yaml.safe_load((folder / "paper.yaml").read_text())["reproduction"]["proxy"]
    assert "model.d_model 512 -> 32" in note
    big = yaml.safe_load((folder / "configs-paper" / "ablations" / "big.yaml").read_text())
    assert big["model"]["d_model"] == 1024 and big["model"]["n_heads"] == 16


def test_transformer_paper_table3_params_judged_on_the_meta_device(transformer_paper):
    from repro.literature.archcheck import check_architecture, report_section

    rep = check_architecture(transformer_paper)
    judged = [c for c in rep.claims if c.computed is not None]
    assert len(judged) >= 10  # every Table 3 row with a params number
    assert all(abs(c.rel_gap) < 0.07 for c in judged)
    assert rep.offset is not None and rep.offset < 0  # the common constant is named
    assert "one constant" in report_section(rep)


def test_new_with_families_imports_no_torch():
    code = ("import sys, repro.literature.families, repro.commands.new; repro.literature.families.accepted_keys('transformer'); "
            "assert 'torch' not in sys.modules and 'lightning' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_imagenet_stem_and_a_resnet_paper_plan():
    mk, dk, hand, _ = CASES["resnet"]
    cls = _load("resnet", "model").PaperModel
    model = cls(**mk, stem="imagenet")
    assert _n(model) == hand + 3 * 4 * (7 * 7 - 3 * 3)  # a 7x7 stem conv instead of 3x3; max-pool has none
    import torch

    assert tuple(model(torch.zeros(2, 3, 64, 64)).shape) == (2, 5)

    from repro.literature.families import plan_family

    text = ["We train a ResNet-50 on ImageNet with SGD. Residual blocks use batch normalization. "
            "Image classification results on ImageNet are in Table 2."]
    choice = choose_family(text, None)
    plan = plan_family(choice, [], text, None)
    assert choice.family == "resnet" and plan.dataset == "ImageNet"
    m = plan.paper["model"]
    assert (m["stem"], m["block"], m["blocks_per_stage"], m["num_classes"]) == ("imagenet", "bottleneck", [3, 4, 6, 3], 1000)
    assert plan.proxy["model"]["num_classes"] == plan.proxy["data"]["num_classes"] == 10
    assert "instead of ImageNet" in plan.proxy_note
