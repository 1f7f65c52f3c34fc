import re
from pathlib import Path

import pytest

from repro.extract.claims import ablation_configs, claims_from_tables
from repro.extract.tables import tables_from_latex, tables_from_pdf

PAPER = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "papers" / "1706.03762"


@pytest.mark.fixtures
def test_claims_and_ablations_1706():
    if not PAPER.is_dir():
        pytest.skip("../shared/fixtures is absent")
    latex = tables_from_latex((PAPER / "source.tex").read_text(encoding="utf-8"))
    pdf = tables_from_pdf(str(PAPER / "paper.pdf"))
    claims = claims_from_tables(latex, pdf)
    ids = [c["id"] for c in claims]
    assert len(ids) == len(set(ids)) and all(re.fullmatch(r"[a-z0-9-]+", i) for i in ids)
    big = next(c for c in claims if c["source"]["row"] == "Transformer (big)" and c["metric"] == "bleu_en_de")
    assert big["value"] == 28.4 and big["best"] is True and big["source"]["page"] == 8
    assert big["status"] == "candidate" and big["config"] is None and big["kind"] == "value"
    abl = ablation_configs(latex)
    a1 = abl["a-h1-dk512-dv512"]
    assert a1["paper_settings"] == {"h": 1, "d_k": 512, "d_v": 512}
    by_id = {c["id"]: c for c in claims}
    assert sorted(by_id[i]["value"] for i in a1["claims"]) == [5.29, 24.9]
    assert all(by_id[i]["config"] == "a-h1-dk512-dv512" and by_id[i]["source"]["page"] == 9 for i in a1["claims"])
    # settings columns of the ablation table are settings, not claims
    assert not any(c["source"]["table"] == "3" and c["source"]["column"] == "h" for c in claims)
    assert len(abl) == 19


def test_image_table_is_listed():
    tables = tables_from_latex(r"\begin{table}\caption{Scores}\includegraphics{x}\end{table}")
    (claim,) = claims_from_tables(tables)
    assert claim["value"] is None and "image" in claim["note"] and claim["source"]["table"] == "1"


def test_value_claims_get_a_tolerance_from_the_printed_precision():
    tables = tables_from_latex(r"""\begin{table}\caption{Results}
\begin{tabular}{lcc}\hline Model & Acc & BLEU \\ \hline
Ours & 95.30 & 28.4 $\pm$ 0.3 \\ \hline\end{tabular}\end{table}""")
    claims = {c["metric"]: c for c in claims_from_tables(tables)}
    acc, bleu = claims["acc"], claims["bleu"]
    assert acc["tolerance"] == {"abs": pytest.approx(5 * 0.01 * acc["value"] / 95.30)}   # 5 units of 0.01
    assert "printed precision 95.30" in acc["tolerance_from"]
    assert bleu["spread"] == 0.3 and bleu["tolerance"] == {"abs": pytest.approx(0.9)}   # 3 x the paper's ±
