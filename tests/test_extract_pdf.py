import sys
from pathlib import Path

import pytest
import yaml

from repro.literature.extract.tables import accuracy, tables_from_pdf

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


# ---------------------------------------------------------------- layouts made here (matplotlib PDF)

FILLER = ("the model is trained on the data with care and the results are shown here "
          "for every split we report the mean over several seeds as is usual").split()


def _page_pdf(path: Path, items: list[tuple[float, float, str]], size: float = 9) -> Path:
    """One letter page with each (x, y, text) placed at PDF points (y from the bottom)."""
    import matplotlib
    matplotlib.use("pdf")
    import matplotlib.pyplot as plt

    with matplotlib.rc_context({"pdf.fonttype": 42}):
        fig = plt.figure(figsize=(8.5, 11))
        for x, y, s in items:
            fig.text(x / 612, y / 792, s, fontsize=size)
        fig.savefig(path)
        plt.close(fig)
    return path


def _prose(x: float, y_top: float, n: int, words: int = 8) -> list[tuple[float, float, str]]:
    """n lines of filler prose (one column wide) starting at y_top, 11 pt apart."""
    return [(x, y_top - 11 * i, " ".join(FILLER[(i * 3 + k) % len(FILLER)] for k in range(words)))
            for i in range(n)]


def _grid(x_cols: list[float], y: float, rows: list[list[str]], step: float = 12) -> list[tuple[float, float, str]]:
    return [(x, y - step * i, s) for i, row in enumerate(rows) for x, s in zip(x_cols, row) if s]


def _by_number(tables):
    return {t.number: t for t in tables}


def test_table_in_the_right_column_beside_prose(tmp_path):
    items = _prose(60, 740, 40) + _prose(320, 740, 12)
    items += _grid([320, 420, 480], 590, [["", "Dev", "Test"], ["Baseline", "71.2", "70.4"],
                                          ["Ours", "74.9", "73.8"], ["Ours large", "76.1", "75.0"]])
    items += [(320, 530, "Table 3: Results on the two splits.")] + _prose(320, 500, 20)
    tables = _by_number(tables_from_pdf(str(_page_pdf(tmp_path / "p.pdf", items))))
    t = tables["3"]
    assert not t.image_only and t.columns == ["Dev", "Test"]
    rows = dict(t.rows)
    assert list(rows) == ["Baseline", "Ours", "Ours large"]    # no prose from the left column
    assert [c.value for c in rows["Ours large"]] == [76.1, 75.0]


def test_two_tables_side_by_side_keep_their_own_labels(tmp_path):
    items = _prose(60, 740, 8, words=14)
    items += _grid([60, 150, 200], 620, [["", "Acc", "F1"], ["BERT", "81.0", "79.5"], ["Ours", "84.2", "83.1"]])
    items += _grid([320, 440, 500], 620, [["", "Acc", "F1"], ["Full model", "84.2", "83.1"],
                                          ["w/o attention", "80.3", "78.8"]])
    items += [(60, 570, "Table 1: Main results."), (320, 570, "Table 2: Ablation.")] + _prose(60, 540, 10, words=14)
    tables = _by_number(tables_from_pdf(str(_page_pdf(tmp_path / "p.pdf", items))))
    assert list(dict(tables["1"].rows)) == ["BERT", "Ours"]
    assert list(dict(tables["2"].rows)) == ["Full model", "w/o attention"]
    assert [c.value for c in dict(tables["2"].rows)["w/o attention"]] == [80.3, 78.8]


def test_multi_level_header_and_multirow_labels(tmp_path):
    items = [(60, 740, "Table 4: Retrieval accuracy.")]
    items += [(228, 720, "Dev"), (346, 720, "Test")]    # centred over their two columns
    items += _grid([60, 130, 210, 260, 330, 380], 706,
                   [["Training", "Model", "F1", "EM", "F1", "EM"],
                    ["None", "BM25", "59.1", "66.9", "55.0", "70.9"],
                    ["Single", "DPR", "78.4", "79.4", "73.2", "79.8"],
                    ["", "BM25 + DPR", "76.6", "79.8", "71.0", "85.2"],
                    ["Multi", "DPR", "79.4", "78.8", "75.0", "89.1"]])
    items += _prose(60, 600, 10, words=14)
    t = _by_number(tables_from_pdf(str(_page_pdf(tmp_path / "p.pdf", items))))["4"]
    assert t.columns == ["Dev / F1", "Dev / EM", "Test / F1", "Test / EM"]
    rows = dict(t.rows)
    assert list(rows) == ["None / BM25", "Single / DPR", "Single / BM25 + DPR", "Multi / DPR"]
    assert [c.value for c in rows["Single / BM25 + DPR"]] == [76.6, 79.8, 71.0, 85.2]


def test_uncaptioned_table_found_by_layout_with_spreads_and_dashes(tmp_path):
    items = _prose(60, 740, 6, words=14)
    items += _grid([60, 200, 300], 660, [["Method", "MAE", "RMSE"], ["Linear", "4.29 ± 0.40", "5.10 ± 0.22"],
                                         ["GNN", "1.13 ± 0.03", "–"], ["Random forest", "2.07 (0.11)", "3.30 (0.15)"]])
    items += _prose(60, 590, 6, words=14)
    tables = tables_from_pdf(str(_page_pdf(tmp_path / "p.pdf", items)))
    assert len(tables) == 1
    t = tables[0]
    assert t.number == "U1" and not t.captioned and not t.image_only
    rows = dict(t.rows)
    assert (rows["Linear"][0].value, rows["Linear"][0].spread) == (4.29, 0.40)
    assert rows["GNN"][0].spread == 0.03 and rows["GNN"][1].value is None     # "–" keeps its column
    assert (rows["Random forest"][1].value, rows["Random forest"][1].spread) == (3.30, 0.15)


def test_full_width_table_on_a_two_column_page(tmp_path):
    items = _prose(60, 740, 10) + _prose(320, 740, 10)
    items += _grid([60, 150, 230, 310, 390, 470, 530], 610,
                   [["Model", "NQ", "TQA", "WQ", "TREC", "SQuAD", "Avg"],
                    ["BM25", "59.1", "66.9", "55.0", "70.9", "68.8", "64.1"],
                    ["DPR", "78.4", "79.4", "73.2", "79.8", "63.2", "74.8"]])
    items += [(200, 565, "Table 2: Top-20 accuracy on five test sets.")]
    items += _prose(60, 540, 10) + _prose(320, 540, 30)
    # below it, a one-column table in the left column, its rows level with prose on the right
    items += _grid([60, 170, 230], 420, [["Batch", "Top-5", "Top-20"], ["Large batch", "65.8", "78.0"], ["Small batch", "64.5", "76.4"]])
    items += [(60, 375, "Table 3: Effect of the batch size.")] + _prose(60, 350, 12)
    tables = _by_number(tables_from_pdf(str(_page_pdf(tmp_path / "p.pdf", items))))
    t = tables["2"]
    assert t.columns == ["NQ", "TQA", "WQ", "TREC", "SQuAD", "Avg"]
    assert [c.value for c in dict(t.rows)["DPR"]] == [78.4, 79.4, 73.2, 79.8, 63.2, 74.8]
    t3 = tables["3"]
    assert t3.columns == ["Top-5", "Top-20"] and not t3.image_only
    assert [[c.value for c in cells] for _, cells in t3.rows] == [[65.8, 78.0], [64.5, 76.4]]


# ---------------------------------------------------------------- the fixtures, scored as the bench does

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"


def _bench():
    import importlib.util

    spec = importlib.util.spec_from_file_location("extraction_accuracy",
                                                  Path(__file__).resolve().parents[1] / "bench" / "extraction_accuracy.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # its dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.fixtures
@pytest.mark.parametrize("paper,recall", [("2203.06947", 0.95), ("2004.04906", 0.85), ("2005.12359", 0.8),
                                          ("1805.02262", 0.7), ("2301.13298", 0.7)])
def test_fixture_papers_labelled_recall(paper, recall):
    """Two-column, stamped (Form XObject) and caption-above papers: cells with value and row label."""
    folder = FIXTURES / "papers" / paper
    if not folder.is_dir():
        pytest.skip("../shared/fixtures is absent")
    from repro.literature.extract.claims import claims_from_tables

    bench = _bench()
    truth = yaml.safe_load((folder / "truth.yaml").read_text(encoding="utf-8"))
    claims = claims_from_tables(tables_from_pdf(str(folder / "paper.pdf")))
    s = bench.score_paper(truth, bench.Output(claims, [], [], 0.0, 0))
    assert s.labelled >= recall * s.cells and s.claims_correct >= 0.9 * s.claims_in_tables, s.misses[:10]


@pytest.mark.fixtures
def test_pdf_parse_bench_pages_without_captions():
    gt_dir = FIXTURES / "pdf-parse-bench" / "ground_truth"
    if not gt_dir.is_dir():
        pytest.skip("../shared/fixtures is absent")
    import json

    from repro.literature.extract.claims import claims_from_tables

    bench = _bench()
    total = found = 0
    for stem in [f"{k:03d}" for k in range(0, 50, 5)]:
        gt = json.loads((gt_dir / f"{stem}.json").read_text(encoding="utf-8"))
        tables = tables_from_pdf(str(FIXTURES / "pdf-parse-bench" / "pdfs" / f"{stem}.pdf"))
        assert all(not t.captioned and t.number.startswith("U") for t in tables)
        s = bench.score_bench_page(gt, bench.Output(claims_from_tables(tables), [], [], 0.0, 0))
        total, found = total + s.cells, found + s.labelled
    assert found >= 0.7 * total, (found, total)


def _raw_pdf(path: Path, content: bytes) -> Path:
    """A one-page PDF with a hand-written content stream (Helvetica as /F1): for text-state
    details matplotlib never writes."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    w = PdfWriter()
    page = w.add_blank_page(612, 792)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): w._add_object(font)})})
    stream = DecodedStreamObject()
    stream.set_data(content)
    page[NameObject("/Contents")] = w._add_object(stream)
    with open(path, "wb") as f:
        w.write(f)
    return path


def test_strings_in_consecutive_tj_arrays_advance_the_position(tmp_path):
    # pdfTeX writes a cited label as several TJ arrays with no Td between; each must start where
    # the previous string ended, or every cell after the citation drifts into the column before
    ops = [b"BT /F1 10 Tf 100 700 Td [(Table 1: Results with cited baselines.)] TJ ET",
           b"BT /F1 10 Tf 100 680 Td (Method) Tj 200 0 Td (A) Tj 60 0 Td (B) Tj ET"]
    y = 664
    # the number after ")" is kerned to x = 300, under "A" (Helvetica widths: label ends at `end`)
    for name, cite, a, b, end in [("Baseline", "Smith", "81.2", "77.5", 198.2), ("Ours", "Lee", "85.1", "80.3", 172.0)]:
        ops.append(f"BT /F1 10 Tf 100 {y} Td [({name})] TJ [( \\()] TJ [({cite} et al.)] TJ "
                   f"[(\\)) {-(300 - end) * 100:.0f} ({a}) -4054 ({b})] TJ ET".encode())
        y -= 14
    (t,) = tables_from_pdf(str(_raw_pdf(tmp_path / "tj.pdf", b"\n".join(ops))))
    assert t.columns == ["A", "B"]
    rows = {label.replace(" ", ""): [c.value for c in cells] for label, cells in t.rows}
    assert rows == {"Baseline(Smithetal.)": [81.2, 77.5], "Ours(Leeetal.)": [85.1, 80.3]}


def _tj(x: float, y: float, s: str, size: float = 8.5) -> bytes:
    return f"BT /F1 {size} Tf {x} {y} Td ({s}) Tj ET".encode()


def test_wrapped_group_label_glued_cells_and_a_caption_beside_the_other_column(tmp_path):
    # a two-column page; in the left column a table whose outer label "Last Letter Concat." is
    # printed over its two rows, glued (gap under half an em) to the inner label "OOD: 3"; two
    # header names glued the same way; the caption's lines share baselines with right-column prose
    ops = [_tj(320, 740 - 11 * i, " ".join(FILLER[(i * 3 + k) % len(FILLER)] for k in range(7)), 10)
           for i in range(40)]
    ops += [_tj(60, 740 - 11 * i, " ".join(FILLER[(i * 5 + k) % len(FILLER)] for k in range(7)), 10)
            for i in range(3)]
    ops += [_tj(140, 700, "Baseline"), _tj(177, 700, "CoT Finetuned")]
    ops += [_tj(60, 680, "Last Letter"), _tj(103, 680, "OOD: 3"), _tj(145, 680, "0.00"), _tj(195, 680, "0.00")]
    ops += [_tj(65, 668, "Concat."), _tj(103, 668, "OOD: 4"), _tj(145, 668, "0.00"), _tj(195, 668, "0.00")]
    ops += [_tj(103, 656, "OOD: 3"), _tj(145, 656, "13.10"), _tj(195, 656, "86.70"), _tj(65, 650, "Coinflip")]
    ops += [_tj(103, 644, "OOD: 4"), _tj(145, 644, "73.80"), _tj(195, 644, "70.50")]
    ops += [_tj(60, 619, "Table 2: Accuracy with different", 10), _tj(60, 608, "amounts of training data.", 10)]
    ops += [_tj(60, 586 - 11 * i, " ".join(FILLER[(i * 5 + k) % len(FILLER)] for k in range(7)), 10)
            for i in range(8)]
    (t,) = tables_from_pdf(str(_raw_pdf(tmp_path / "wrap.pdf", b"\n".join(ops))))
    assert t.caption == "Table 2: Accuracy with different amounts of training data."
    assert t.columns == ["Baseline", "CoT Finetuned"]
    rows = {label: [c.value for c in cells] for label, cells in t.rows}
    assert rows == {"Last Letter Concat. / OOD: 3": [0.0, 0.0], "Last Letter Concat. / OOD: 4": [0.0, 0.0],
                    "Coinflip / OOD: 3": [13.1, 86.7], "Coinflip / OOD: 4": [73.8, 70.5]}


def test_a_label_starting_with_a_number_is_still_a_label(tmp_path):
    items = [(60, 740, "Table 4: Accuracy for different amounts of data.")]
    items += _grid([60, 200, 260], 720, [["Data used", "Acc.", "F1"], ["4% (213 examples)", "6.29", "12.28"],
                                         ["20% (1067 examples)", "11.22", "20.47"],
                                         ["100% (5337 examples)", "21.99", "38.21"]])
    items += _prose(60, 650, 10, words=14)
    t = _by_number(tables_from_pdf(str(_page_pdf(tmp_path / "p.pdf", items))))["4"]
    assert t.columns == ["Acc.", "F1"]
    assert list(dict(t.rows)) == ["4% (213 examples)", "20% (1067 examples)", "100% (5337 examples)"]


def test_each_caption_below_its_own_table_when_the_next_table_is_closer(tmp_path):
    # the caption of the first table ends closer to the second table than it starts to its own
    items = _grid([60, 200, 260], 720, [["Method", "R@3", "R@5"], ["BM25", "0.38", "0.46"], ["ROUGE-1", "0.31", "0.34"]])
    items += [(60, 680, "Table 4: A comparison of algorithms finding the top source sentences for the summary units."),
              (60, 669, "R@k denotes the fraction of times the gold sentence was in the top predictions."),
              (60, 658, "Higher is better; the best value of each column is printed in bold.")]
    items += _grid([60, 200, 260], 648, [["Hints", "Acc.", "Time"], ["None", "93.0", "41.4"], ["Gold", "92.0", "40.4"]])
    items += [(60, 600, "Table 5: Annotator performance with different hints.")] + _prose(60, 570, 10, words=14)
    tables = _by_number(tables_from_pdf(str(_page_pdf(tmp_path / "p.pdf", items))))
    assert list(dict(tables["4"].rows)) == ["BM25", "ROUGE-1"]
    assert list(dict(tables["5"].rows)) == ["None", "Gold"]


def test_small_table_in_the_right_column_read_beside_its_caption(tmp_path):
    # three numbers only (too few for a grid): read from the lines above the caption, in its column;
    # the caption shares its baselines with the left column's prose
    items = _prose(60, 745, 40)
    items += _grid([330, 480], 740, [["Description", "F1"], ["Without LM", "49.9"], ["With LM", "54.1"],
                                     ["Avg. of 15 models with LM", "55.2"]], step=13)
    items += [(320, 680, "Table 3: Results of the entity extraction model on"),
              (320, 669, "the development set of the shared task.")] + _prose(320, 646, 20)
    t = _by_number(tables_from_pdf(str(_page_pdf(tmp_path / "p.pdf", items))))["3"]
    assert t.caption == "Table 3: Results of the entity extraction model on the development set of the shared task."
    assert {label: [c.value for c in cells] for label, cells in t.rows} == {
        "Without LM": [49.9], "With LM": [54.1], "Avg. of 15 models with LM": [55.2]}


def test_two_tables_side_by_side_split_at_the_one_wide_channel(tmp_path):
    # the left table has no empty channel of its own (its header spans it): the channel between
    # the tables is one of only two gaps, and must still count as wide
    items = _prose(60, 760, 4, words=14)
    items += [(60, 700, "Hyperparameter-settings-and-values")]
    items += _grid([60, 170], 686, [["Temperature", "0.6"], ["Top-P", "0.95"], ["Top-K", "20"], ["Max tokens", "2048"]])
    items += _grid([330, 430], 703, [["Parameter", "Value"], ["kT (keV)", "0.51"], ["norm", "0.99"],
                                     ["T (MK)", "5.86"], ["Abundance", "1.11"]], step=13)
    items += _prose(60, 610, 6, words=14)
    tables = tables_from_pdf(str(_page_pdf(tmp_path / "p.pdf", items)))
    rows = {label: [c.value for c in cells] for t in tables for label, cells in t.rows}
    assert rows["Top-K"] == [20.0] and rows["Max tokens"] == [2048.0]
    assert rows["kT (keV)"] == [0.51] and rows["Abundance"] == [1.11]
