from pathlib import Path

import pytest
import yaml

from repro.extract.tables import accuracy, tables_from_latex

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
