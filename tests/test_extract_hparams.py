import subprocess
import sys
from pathlib import Path

import pytest

from repro.extract.hparams import find_hparams, first_per_key

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
    code = ("import sys, repro.extract, repro.extract.claims, repro.extract.hparams, "
            "repro.extract.latex_tables, repro.extract.pdf_tables; "
            "assert 'torch' not in sys.modules and 'lightning' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
