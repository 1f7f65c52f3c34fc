from pathlib import Path

import pytest
import yaml

from repro.extract.tables import accuracy, tables_from_pdf

PAPER = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "papers" / "1706.03762"
TRUTH = Path(__file__).parent / "data" / "1706.03762_tables.yaml"


def _toy_pdf(path: Path) -> None:
    """A page with text at known positions: empty cells, a footnote mark, a bold cell, an image table."""
    import matplotlib
    matplotlib.use("pdf")
    import matplotlib.pyplot as plt
    import numpy as np

    with matplotlib.rc_context({"pdf.fonttype": 42}):
        fig = plt.figure(figsize=(8.5, 11))

        def t(x, y, s, size=10, **kw):
            fig.text(x / 612, y / 792, s, fontsize=size, **kw)

        t(100, 700, "Table 1: Toy results on two datasets.")
        t(300, 670, "CIFAR")
        t(380, 670, "SVHN")
        t(100, 650, "Baseline"); t(300, 650, "88.1"); t(380, 650, "95.2")
        t(100, 636, "Ours"); t(300, 636, "90.3")
        t(100, 622, "Ours + aug"); t(380, 622, "96.0")
        t(100, 608, "Wide"); t(300, 608, "91.2"); t(322, 612, "*", size=7); t(380, 608, "97.5", weight="bold")
        t(100, 400, "Table 2: A table drawn as an image.")
        ax = fig.add_axes([0.15, 0.3, 0.5, 0.15])
        ax.imshow(np.arange(25).reshape(5, 5))
        ax.axis("off")
        fig.savefig(path)
        plt.close(fig)


def test_generated_pdf_table(tmp_path):
    pdf = tmp_path / "toy.pdf"
    _toy_pdf(pdf)
    t1, t2 = tables_from_pdf(str(pdf))
    assert t1.columns == ["CIFAR", "SVHN"] and t1.page == 1
    rows = dict(t1.rows)
    assert [c and c.value for c in rows["Ours"]] == [90.3, None]          # empty cell keeps its column
    assert [c and c.value for c in rows["Ours + aug"]] == [None, 96.0]
    assert rows["Wide"][0].value == 91.2 and not rows["Wide"][0].bold   # footnote mark dropped
    assert rows["Wide"][1].bold and rows["Wide"][1].value == 97.5
    assert t2.number == "2" and t2.image_only and not t2.rows


@pytest.mark.fixtures
def test_pdf_1706_tables_2_and_3_accuracy():
    if not PAPER.is_dir():
        pytest.skip("../shared/fixtures is absent")
    tables = tables_from_pdf(str(PAPER / "paper.pdf"))
    truth = yaml.safe_load(TRUTH.read_text(encoding="utf-8"))["tables"]
    r = accuracy(tables, truth)
    assert r["recall"] >= 0.95 and r["precision"] >= 0.95, r
    pages = {t.number: t.page for t in tables}
    assert pages["2"] == 8 and pages["3"] == 9
    t2 = next(t for t in tables if t.number == "2")
    assert dict(t2.rows)["Deep-Att + PosUnk"][3].value == pytest.approx(1.0e20)  # 10^20, not 1020


def test_broken_pdf_is_a_repro_error(tmp_path):
    from repro.errors import PdfError

    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4\nnot really")
    with pytest.raises(PdfError) as e:
        tables_from_pdf(str(bad))
    assert e.value.where == str(bad) and e.value.hint
