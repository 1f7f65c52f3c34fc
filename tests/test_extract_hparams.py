import subprocess
import sys
from pathlib import Path

import pytest

from repro.literature.extract.hparams import find_hparams, first_per_key

PAPER = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "papers" / "1706.03762"


def test_hparams_from_text():
    pages = ["We train with AdamW optimizer and a learning rate of 3e-4 and batch size of 256.",
             "Dropout of 0.2 is used. We use a weight decay of 0.01 for 90 epochs."]
    got = {h.key: (h.value, h.page) for h in find_hparams(pages)}
    assert got["optimizer"] == ("AdamW", 1) and got["learning_rate"] == (pytest.approx(3e-4), 1)
    assert got["batch_size"] == (256, 1) and got["dropout"] == (0.2, 2)
    assert got["weight_decay"] == (0.01, 2) and got["epochs"] == (90, 2)


@pytest.mark.fixtures
def test_hparams_1706():
    if not PAPER.is_dir():
        pytest.skip("../shared/fixtures is absent")
    from pypdf import PdfReader

    pages = [p.extract_text() for p in PdfReader(str(PAPER / "paper.pdf")).pages]
    h = first_per_key(find_hparams(pages))
    expect = {"warmup_steps": (4000, 7), "dropout": (0.1, 8), "label_smoothing": (0.1, 8),
              "beta1": (0.9, 7), "beta2": (0.98, 7), "d_model": (512, 3), "heads": (8, 5),
              "layers": (6, 3), "optimizer": ("Adam", 7), "d_ff": (2048, 5), "max_steps": (100000, 7)}
    for key, (value, page) in expect.items():
        assert (h[key].value, h[key].page) == (value, page), key
    assert h["eps"].value == pytest.approx(1e-9) and h["eps"].page == 7
    assert "warmup_steps = 4000" in h["warmup_steps"].sentence


def test_extract_does_not_import_torch():
    code = ("import sys, repro.literature.extract, repro.literature.extract.claims, repro.literature.extract.hparams, "
            "repro.literature.extract.latex_tables, repro.literature.extract.pdf_tables; "
            "assert 'torch' not in sys.modules and 'lightning' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


# -- issue 12: hyperparameters of papers it was not built on -----------------------------------

def _got(*sentences: str) -> dict:
    out: dict = {}
    for h in find_hparams(list(sentences)):
        out.setdefault(h.key, []).append(h.value)
    return out


def test_training_settings_in_their_usual_phrasings():
    got = _got("Each experiment optimized for 10000 minibatches of size 100 using the Adam algorithm [13].",
               "We trained for up to 40 epochs with a learning rate of 10−5 using Adam and dropout rate 0.1.",
               "On XFUN, the learning rate and batch size are set as 5 × 10−5 and 32, respectively.",
               "For the RE task, the batch size is 8 with 2500 iterations for training.",
               "We use SGD with momentum 0.9, weight decay of 5e-4 and betas (0.9, 0.999).")
    assert got["max_steps"] == [10000, 2500] and got["batch_size"] == [100, 32, 8]
    assert got["optimizer"] == ["Adam", "SGD"] and got["epochs"] == [40] and got["dropout"] == [0.1]
    assert got["learning_rate"] == [pytest.approx(1e-5), pytest.approx(5e-5)]
    assert got["momentum"] == [0.9] and got["weight_decay"] == [pytest.approx(5e-4)] and got["betas"] == [[0.9, 0.999]]


def test_model_sizes_protocol_and_grids():
    got = _got("We set hidden size d = 768 and use a 12-layer 12-head transformer.",
               "We use a two-layer bidirectional LSTM.",
               "We run a randomised hyperparameter search of 20 calls and train until convergence (at most 100 "
               "epochs; we stop early if the validation loss does not improve for 20 epochs).",
               "We repeat 5 ﬁts with 10 MC samples and perform 5-fold cross validation.",
               "We hold out 20% of the training split as a validation set.",
               "The learning rate is tuned in {1e-5, 2e-5, 3e-5}.")
    assert got["hidden_size"] == [768] and got["layers"] == [12, 2] and got["heads"] == [12]
    assert got["hpo_trials"] == [20] and got["epochs"] == [100] and got["early_stopping_patience"] == [20]
    assert got["repetitions"] == [5] and got["mc_samples"] == [10] and got["cv_folds"] == [5]
    assert got["validation_fraction"] == [0.2]
    assert got["learning_rate"] == [[1e-5, 2e-5, 3e-5]]  # a grid stays a grid


def test_prompts_plans_and_code_are_not_the_papers_settings():
    plan = ("Below is a roadmap you can follow; you will reproduce the paper; your code must match.\n"
            "• Use the Adam optimizer with β1 = 0.9.\n– Train for 100,000 steps.\n• Set dropout to 0.1.\n"
            "• Use a batch size of 25,000 tokens.\n• Implement a 6-layer encoder.\n• Average the last 5 checkpoints.\n")
    code = 'optimizer = torch.optim.Adam(lr=1e-4) # config = {"learning_rate": 0.001, "batch_size": 64}'
    assert find_hparams([plan, code]) == []


def test_latex_prose_as_plain_text():
    from repro.literature.extract.latex_text import latex_plain_text

    tex = (r"\documentclass{article}\newcommand{\ours}{DeepSphere}\begin{document}"
           r"\section{Setup}The learning rate is $5 \cdot 10^{-2}$ and the batch size is 32 for \ours."
           "\n\n% the learning rate was 0.1\n"
           r"\begin{lstlisting}lr = 0.3\end{lstlisting}"
           r"\begin{table}\caption{Data}\begin{tabular}{ll}Batch size & 999 \\\end{tabular}\end{table}"
           r"\end{document}")
    text = latex_plain_text(tex)
    assert "DeepSphere" in text and "0.1" not in text and "999" not in text and "0.3" not in text
    got = _got(text)
    assert got["learning_rate"] == [pytest.approx(0.05)] and got["batch_size"] == [32]


@pytest.mark.fixtures
def test_hparams_of_the_fixture_papers():
    import yaml

    root = PAPER.parent
    if not root.is_dir():
        pytest.skip("../shared/fixtures is absent")
    from repro.literature.pdftext import pdf_pages

    found = total = 0
    for truth_file in sorted(root.glob("*/truth.yaml")):
        truth = yaml.safe_load(truth_file.read_text(encoding="utf-8"))
        if not truth.get("pdf") or not truth.get("hparams"):
            continue
        got = {(h.key, str(h.value)) for h in find_hparams(pdf_pages(truth_file.parent / truth["pdf"]))}
        for h in truth["hparams"]:
            total += 1
            found += (h["key"], str(h["value"])) in got
    assert total >= 30 and found / total >= 0.7, (found, total)  # misses: paper-specific names (margin, λ)
    plans = find_hparams(pdf_pages(root / "2504.17192" / "paper.pdf"))  # prompts and generated plans only
    assert len(plans) <= 1


def test_hyperparameter_tables():
    from repro.literature.extract.hparams import from_tables
    from repro.literature.extract.tables import tables_from_latex

    tables = tables_from_latex(r"""\begin{table}\caption{Hyperparameters.}
    \begin{tabular}{lcc}\toprule Hyperparameter & GLUE & SQuAD \\ \midrule
    Learning rate & $\{1, 2, 3\} \times 10^{-5}$ & 3e-5 \\ Batch size & 32 & 48 \\ Optimizer & AdamW & AdamW \\
    \# Epochs & 3 & 2 \\ Warm-up & 10\% & 10\% \\ \bottomrule\end{tabular}\end{table}""")
    got = {(h.key, h.value) for h in from_tables(tables)}
    assert {("learning_rate", 3e-5), ("batch_size", 32), ("batch_size", 48), ("optimizer", "AdamW"),
            ("epochs", 3), ("epochs", 2)} <= got
    assert not any(k == "warmup_steps" for k, _ in got)  # "10%" is not a number of steps
    h = next(h for h in from_tables(tables) if h.key == "batch_size")
    assert h.sentence == "Table 1 (GLUE): Batch size = 32"


def test_grids_written_out_in_words():
    got = _got("We tried learning rates of 1e-5, 2e-5 and 3e-5.", "The batch size is chosen from 16, 32, or 64.",
               "We use a learning rate of 1e-4 and 3 epochs.")
    assert got["learning_rate"] == [[1e-5, 2e-5, 3e-5], pytest.approx(1e-4)]
    assert got["batch_size"] == [[16, 32, 64]]
