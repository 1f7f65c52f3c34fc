from pathlib import Path

import pytest
import yaml

from repro.literature.extract.claims import ablation_configs
from repro.literature.extract.tables import Cell, accuracy, tables_from_latex

PAPER = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "papers" / "1706.03762"
TRUTH = Path(__file__).parent / "data" / "1706.03762_tables.yaml"

SMALL = r"""
\newcommand{\dmodel}{d_{\text{model}}}
\begin{table}[t]
\caption{Results on two sets.\footnote{a note}}
\begin{tabular}{l|cc|c}
\toprule
\multirow{2}{*}{Method} & \multicolumn{2}{c}{Accuracy} & $\dmodel$ \\
\cmidrule{2-3}
 & CIFAR & SVHN & \\
\midrule
Baseline \cite{x} & 88.1 $\pm$ 0.4 & 47.21 (0.34) & 512 \\
Ours\footnotemark & \textbf{90.3} & & 1024 \\ % a comment & 1 & 2
\multirow{2}{*}{(A)} & 85.0$^\dagger$ & {\bf 96.0} & \\
 & 84.0 & 95.0 & 256 \\
\hline
\end{tabular}
\end{table}
\begin{table}\caption{Drawn as an image}\includegraphics{t.png}\end{table}
"""


def test_small_latex_table():
    t, img = tables_from_latex(SMALL)
    assert (t.number, t.caption) == ("1", "Results on two sets.")
    assert t.columns == ["Accuracy / CIFAR", "Accuracy / SVHN", "d_model"]
    labels = [lab for lab, _ in t.rows]
    assert labels == ["Baseline", "Ours", "(A)", "(A)"]
    base = t.rows[0][1]
    assert (base[0].value, base[0].spread) == (88.1, 0.4)
    assert (base[1].value, base[1].spread) == (47.21, 0.34)
    ours = t.rows[1][1]
    assert ours[0].bold and ours[0].value == 90.3 and ours[1] is None and ours[2].value == 1024
    a0 = t.rows[2][1]
    assert a0[0].value == 85.0 and a0[1].bold and a0[2] is None
    assert img.number == "2" and img.image_only and not img.rows


@pytest.mark.fixtures
def test_latex_1706_tables_2_and_3_exact():
    if not PAPER.is_dir():
        pytest.skip("../shared/fixtures is absent")
    tables = tables_from_latex((PAPER / "source.tex").read_text(encoding="utf-8"))
    truth = yaml.safe_load(TRUTH.read_text(encoding="utf-8"))["tables"]
    r = accuracy(tables, truth)
    assert r["expected"] == 126
    assert r["recall"] == 1.0 and r["precision"] == 1.0, r
    t2 = next(t for t in tables if t.number == "2")
    big = dict(t2.rows)["Transformer (big)"]
    assert [c.value for c in big[:2]] == [28.4, 41.8] and all(c.bold for c in big[:2])


# -- issue 12: the LaTeX path on papers it was not built on ------------------------------------

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "papers"

BLOCKS = r"""
\newcommand{\ours}{SciFact}
\newcommand{\thickmid}{\arrayrulecolor{black}\midrule}
\begin{table}
\begin{tabularx}{\columnwidth}{l *{3}{c} *{3}{c}}
\toprule
 & \multicolumn{3}{c}{\textsc{Select.}} & \multicolumn{3}{c}{\textsc{Label}} \\
\midrule
\textbf{Training data} & P & R & F1 & \multicolumn{3}{c}{Acc.} \\
\arrayrulecolor{black!30}\midrule
Fever & 41.5 & 57.9 & 48.4 & \multicolumn{3}{c}{67.6} \\
\ours & 73.7 & 70.5 & \textbf{72.1} & \multicolumn{3}{c}{75.7} \\
% Old run & 1.0 & 2.0 & 3.0 & \multicolumn{3}{c}{4.0} \\
\thickmid
\textbf{Model inputs} & P & R & F1 & \multicolumn{3}{c}{Acc.} \\
\arrayrulecolor{black!30}\midrule
Claim-only & - & - & - & \multicolumn{3}{c}{44.5} \\
No abstract & -1.5 & 60.9 & 60.5 & \multicolumn{3}{c}{53.3} \\
\bottomrule
\end{tabularx}
\caption{Comparison of different training datasets.}
\end{table}
"""


def test_blocks_with_repeated_headers_and_a_multicolumn_cell():
    (t,) = tables_from_latex(BLOCKS)
    assert t.columns == ["Select. / P", "Select. / R", "Select. / F1", "Label / Acc."]
    rows = dict(t.rows)
    assert list(rows) == ["Fever", "SciFact", "Claim-only", "No abstract"]  # header rows and comments gone
    assert [c.value for c in rows["Fever"]] == [41.5, 57.9, 48.4, 67.6]
    assert rows["Claim-only"][:3] == [Cell("-", None, None)] * 3 and rows["Claim-only"][3].value == 44.5
    assert rows["No abstract"][0].value == -1.5


THREE_LEVELS = r"""
\begin{table*}
\begin{subtable}{\linewidth}
\begin{tabular}{lll cccc}
\toprule
& & & \multicolumn{4}{c}{\textbf{Sentence-level}} \\
& & & \multicolumn{2}{c}{Sel.} & \multicolumn{2}{c}{Sel.+Label} \\
\cmidrule(lr){4-5} \cmidrule(lr){6-7}
Retrieval & Model & Row & P & R & P & R \\
\midrule
\multirow{2}{*}{\shortstack[c]{\textbf{Oracle} \\ \textbf{abstract}}} &
Zero-shot & 1 & $42.6_{2.2}$ & $45.2_{3.2}$ & $36.2^{\pm 2.5}$ & 38.4 $\pm$ 3.0 \\
& Ours & 2 & $76.2_{2.9}$ & $63.9_{3.6}$ & $66.5_{3.4}$ & $\mathbf{55.7}_{3.7}$ \\
\multirow{2}{*}{Open} & Zero-shot & 3 & $28.7_{2.3}$ & $37.6_{3.4}$ & $23.8_{2.3}$ & $31.1_{3.1}$ \\
& Ours & 4 & \bf{45.0} $\pm$ 3.0 & $47.4_{3.8}$ & $38.5_{3.0}$ & $40.6_{3.6}$ \\
\end{tabular}
\subcaption{Sentence-level.}
\end{subtable}
\begin{subtable}{\linewidth}
\begin{tabular}{lll cc}
\toprule
& & & \multicolumn{2}{c}{\textbf{Abstract-level}} \\
Retrieval & Model & Row & P & R \\
\midrule
\multirow{2}{*}{Oracle abstract} & Zero-shot & 1 & $86.9_{2.9}$ & $53.6_{3.4}$ \\
& Ours & 2 & $87.3_{2.6}$ & $65.3_{3.2}$ \\
\multirow{2}{*}{Open} & Zero-shot & 3 & $56.0_{3.9}$ & $42.3_{3.4}$ \\
& Ours & 4 & $47.5_{3.3}$ & $47.3_{3.5}$ \\
\end{tabular}
\subcaption{Abstract-level.}
\end{subtable}
\caption{Test results with standard deviations as subscripts.}
\end{table*}
"""


def test_three_level_header_label_columns_index_column_and_stacked_subtables():
    (t,) = tables_from_latex(THREE_LEVELS)
    assert t.columns == ["Sentence-level / Sel. / P", "Sentence-level / Sel. / R", "Sentence-level / Sel.+Label / P",
                         "Sentence-level / Sel.+Label / R", "Abstract-level / P", "Abstract-level / R"]
    labels = [lab for lab, _ in t.rows]
    assert labels == ["Oracle abstract / Zero-shot", "Oracle abstract / Ours", "Open / Zero-shot", "Open / Ours"]
    cells = dict(t.rows)
    assert [(c.value, c.spread) for c in cells["Oracle abstract / Zero-shot"]] == [
        (42.6, 2.2), (45.2, 3.2), (36.2, 2.5), (38.4, 3.0), (86.9, 2.9), (53.6, 3.4)]
    assert cells["Oracle abstract / Ours"][3].bold and cells["Oracle abstract / Ours"][3].value == 55.7
    assert cells["Open / Ours"][0].bold and (cells["Open / Ours"][0].value, cells["Open / Ours"][0].spread) == (45.0, 3.0)
    assert not any(c.value in (1, 2, 3, 4) for _, cs in t.rows for c in cs)  # the "Row" index is not a result


def test_citations_read_as_printed_from_the_bbl(tmp_path):
    from repro.literature.archive import read_source_bibliography, read_source_tex

    (tmp_path / "tables").mkdir()
    (tmp_path / "main.tex").write_text(
        "\\documentclass{article}\\begin{document}\n"
        "\\begin{table}\\caption{Accuracy.}\\input{tables/results}\\end{table}\n"
        "% \\input{tables/old}\n\\bibliography{refs}\\end{document}\n")
    (tmp_path / "tables" / "results.tex").write_text(
        "\\begin{tabular}{lS}\\toprule Method & {accuracy} \\\\ \\midrule\n"
        "\\citet{jiang2019} (rerun) & 94.95 \\\\\n\\citet{cohen2019} (S2R) & 97.5 \\\\\n"
        "% \\todo{check} & 1.0 \\\\\nOurs & -0.980 \\\\ \\bottomrule\\end{tabular}\n")
    (tmp_path / "tables" / "old.tex").write_text(
        "\\begin{table}\\caption{Never shown.}\\begin{tabular}{ll} A & 1 \\\\ \\end{tabular}\\end{table}")
    (tmp_path / "main.bbl").write_text(
        "\\begin{thebibliography}{2}\n\\bibitem[Cohen et~al.(2019)Cohen, Weiler]{cohen2019}\nT. Cohen.\n"
        "\\bibitem[{Jiang et~al.}(2019)Jiang, Huang]{jiang2019}\nC. Jiang.\n\\end{thebibliography}\n")
    tables = tables_from_latex(read_source_tex(tmp_path) + read_source_bibliography(tmp_path))
    assert [t.caption for t in tables] == ["Accuracy."]  # only what the main file \input s
    assert dict(tables[0].rows).keys() == {"Jiang et al. (2019) (rerun)", "Cohen et al. (2019) (S2R)", "Ours"}
    assert dict(tables[0].rows)["Ours"][0].value == -0.98


def test_latex_tables_get_their_page_from_the_pdf_text():
    from repro.literature.extract.latex_tables import place_on_pages

    tables = tables_from_latex(SMALL)
    pages = ["Intro. As Table 1 shows, we win.", "Method.",
             "Model Acc\nOurs 90.3\nTable 1: Results on two\nsets.\nMore text.", "Table 2: Drawn as an image"]
    place_on_pages(tables, pages)
    assert [t.page for t in tables] == [3, 4]


@pytest.mark.fixtures
def test_latex_sources_of_the_fixture_papers():
    if not FIXTURES.is_dir():
        pytest.skip("../shared/fixtures is absent")
    import tempfile

    from repro.literature.archive import extract_source, read_source_bibliography, read_source_tex

    def tables(paper: str) -> dict:
        with tempfile.TemporaryDirectory() as d:
            root = extract_source(FIXTURES / paper / "source.tar.gz", Path(d) / "s")
            tex = read_source_tex(root) + read_source_bibliography(root)
        return {t.number: t for t in tables_from_latex(tex)}

    scifact = tables("2004.14974")
    t3 = scifact["3"]
    assert t3.columns == ["Rational-Select. / P", "Rational-Select. / R", "Rational-Select. / F1", "Label-Pred. / Acc."]
    assert len(t3.rows) == 10 and dict(t3.rows)["Claim-only"][3].value == 44.5
    t6 = scifact["6"]
    assert len(t6.columns) == 12 and len(t6.rows) == 6
    first = dict(t6.rows)["Oracle abstract / VeriSci"][0]
    assert (first.value, first.spread) == (76.2, 2.9)
    deepsphere = tables("2012.15000")
    assert "Jiang et al. (2019) (rerun)" in dict(deepsphere["6"].rows)
    imputing = tables("2005.12359")
    assert len(imputing) == 7 and dict(imputing["1"].rows)["GP-PoM / DeepSig"][0].spread == 0.671


def test_negative_multirow_and_siunitx_units():
    (t,) = tables_from_latex(r"""\begin{table}\caption{Sizes.}\begin{tabular}{llS}\toprule
    Group & Model & {Params} \\ \midrule
     & A & 1400\,k \\
    \multirow{-2}{*}{Small} & B & 12\,M \\
    \bottomrule\end{tabular}\end{table}""")
    assert [(lab, cells[0].value) for lab, cells in t.rows] == [("Small / A", 1.4e6), ("Small / B", 1.2e7)]


def test_longtable_is_a_table_with_its_repeated_head_read_once():
    tables = tables_from_latex(r"""
\begin{table}\caption{First.}\begin{tabular}{lc} Model & Acc \\ A & 1.5 \\\end{tabular}\end{table}
\begin{longtable}{lcc}
\caption{All runs.}\label{t:all} \\
\toprule Model & Acc & F1 \\ \midrule
\endfirsthead
\toprule Model & Acc & F1 \\ \midrule
\endhead
\bottomrule \multicolumn{3}{r}{continued} \\
\endfoot
\endlastfoot
Base & 80.1 & 70.2 \\
Ours & 82.3 & 71.0 \\
\end{longtable}""")
    t = tables[1]
    assert (t.number, t.caption, t.columns) == ("2", "All runs.", ["Acc", "F1"])
    assert [(lab, [c.value for c in cells]) for lab, cells in t.rows] == [("Base", [80.1, 70.2]), ("Ours", [82.3, 71.0])]


def test_macros_with_arguments_rules_with_widths_and_small_print():
    (t,) = tables_from_latex(r"""
\newcommand{\std}[1]{\scriptsize{$\pm$#1}}
\newcommand{\best}[2][red]{\textcolor{#1}{\textbf{#2}}}
\def\name#1{\textsc{#1}}
\begin{table}\caption{Std as a macro.}
\begin{tabular}{lcc}\toprule[1.5pt]
Method & Acc. & F1 \\ \midrule[0.8pt]
\multirow{2}{*}{\rotatebox{90}{\name{Base}}} & 88.1\std{0.4} & 70.2\textsuperscript{*} \\
 & \best{90.3} & 71.0\textsubscript{0.5} \\
\bottomrule[1.5pt]
\end{tabular}\end{table}""")
    assert t.columns == ["Acc.", "F1"]
    rows = [(lab, [(c.value, c.spread, c.bold) for c in cells]) for lab, cells in t.rows]
    assert rows == [("Base", [(88.1, 0.4, False), (70.2, None, False)]),
                    ("Base", [(90.3, None, True), (71.0, 0.5, False)])]


def test_side_by_side_tables_in_minipages_are_two_tables():
    tables = tables_from_latex(r"""
\begin{table}
\begin{minipage}{0.48\linewidth}\caption{Main results.}
\begin{tabular}{lc} Model & Acc \\ Ours & 90.3 \\ \end{tabular}\end{minipage}\hfill
\begin{minipage}{0.48\linewidth}\caption{Ablation.}
\begin{tabular}{lc} Model & Acc \\ Full model & 90.3 \\ w/o X & 85.0 \\ \end{tabular}\end{minipage}
\end{table}
\begin{table}\caption{Later.}\begin{tabular}{lc} A & 1.5 \\ \end{tabular}\end{table}""")
    assert [(t.number, t.caption, len(t.rows)) for t in tables] == [
        ("1", "Main results.", 1), ("2", "Ablation.", 2), ("3", "Later.", 1)]
    assert ablation_configs(tables).keys() == {"w-o-x"}


def test_a_table_numbered_otherwise_in_print_is_found_by_its_caption():
    from repro.literature.extract.latex_tables import place_on_pages

    tables = tables_from_latex(r"""\begin{table}\caption{Hyperparameters of every model we trained.}
    \begin{tabular}{lc} Learning rate & 0.1 \\ \end{tabular}\end{table}""")
    place_on_pages(tables, ["Intro.", "Table A1: Hyperparameters of every model we trained.\nLearning rate 0.1"])
    assert tables[0].page == 2
