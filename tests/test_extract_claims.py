import re
from pathlib import Path

import pytest

from repro.literature.extract.claims import ablation_configs, claims_from_tables
from repro.literature.extract.tables import tables_from_latex, tables_from_pdf

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


# -- issue 12: ablation tables recognised by their shape ---------------------------------------

from repro.literature.extract.tables import Cell, Table  # noqa: E402


def _table(rows: dict, columns: list[str], caption: str = "Results.", number: str = "3") -> Table:
    return Table(number, caption, 5, columns,
                 [(lab, [None if v is None else Cell.from_text(str(v)) for v in vals]) for lab, vals in rows.items()],
                 "pdf")


def _configs(table: Table) -> dict:
    return ablation_configs([table])


def test_without_rows_against_a_full_model():
    t = _table({"Full model": [54.1, 1.2], "w/o attention": [49.9, 1.5], "− LM": [50.3, 1.1], "No dropout": [52.0, 1.3]},
               ["F1", "Loss (↓)"])
    abl = _configs(t)
    assert set(abl) == {"w-o-attention", "lm", "no-dropout"}
    assert abl["w-o-attention"]["paper_settings"] == {"removes": "attention"}
    assert abl["no-dropout"]["description"].startswith("No dropout")
    comps = [c for c in claims_from_tables([t]) if c["kind"] == "comparison"]
    f1 = {c["b"]: c["relation"] for c in comps if c["metric"] == "f1"}
    assert f1 == {"w-o-attention": "greater", "lm": "greater", "no-dropout": "greater"}
    loss = {c["b"]: c["relation"] for c in comps if c["metric"] == "loss"}
    assert loss == {"w-o-attention": "less", "lm": "greater", "no-dropout": "less"}  # as the numbers show
    assert all(c["a"] == "baseline" and c["status"] == "candidate" and c["source"]["page"] == 5 for c in comps)


def test_cumulative_plus_rows_take_the_row_before_as_reference():
    t = _table({"LayoutXLM": [89.2], "+ CPE": [87.8], "+ 2×CPE": [88.2], "+ XY Cut": [89.0]}, ["SER"],
               caption="Ablation studies of our model.")
    assert set(_configs(t)) == {"cpe", "2xcpe", "xy-cut"}
    # ... unless a row is marked as the paper's own
    t = _table({"Paper": [3.28], "+ Plan": [3.40], "+ Analysis (Ours)": [3.72]}, ["Score"])
    assert set(_configs(t)) == {"paper", "plan"}


def test_with_and_without_and_a_run_repeated_in_blocks():
    t = _table({"Without LM": [49.9], "With LM": [54.1], "Avg. of 15 models with LM": [55.2]}, ["F1"])
    assert set(_configs(t)) == {"without-lm", "avg-of-15-models-with-lm"}
    t = _table({"Fever": [41.5, 67.6], "SciFact": [73.7, 75.7], "SciBERT": [74.5, 69.2], "RoBERTa-large": [73.7, 75.7]},
               ["F1", "Acc."], caption="Comparison of different training datasets and encoders.")
    abl = _configs(t)
    assert set(abl) == {"fever", "scibert", "roberta-large"}
    assert "SciFact" in abl["fever"]["description"]


def test_rows_that_change_one_hyperparameter():
    t = _table({"4% (213 examples)": [6.29], "20% (1067 examples)": [11.22], "100% (5337 examples)": [21.99]},
               ["Acc."], caption="Accuracy with different amounts of training data.")
    assert set(_configs(t)) == {"4-213-examples", "20-1067-examples"}
    t = _table({"default order": [89.2], "XY Cut (0.5, 1)": [89.1], "XY Cut (0.5, 5)": [90.2]}, ["F1"])
    assert set(_configs(t)) == {"xy-cut-0-5-1", "xy-cut-0-5-5"}


def test_a_results_table_is_not_an_ablation():
    t = _table({"BM25": [59.1], "DPR": [78.4], "None": [12.0]}, ["Top-20"],
               caption="Annotator accuracy with different types of hints; results differ from Table 2.")
    assert _configs(t) == {} and not any(c["kind"] == "comparison" for c in claims_from_tables([t]))


@pytest.mark.fixtures
def test_ablation_tables_of_the_fixture_papers_truth_shapes():
    """Every ablation table of the fixtures' truth, rebuilt as a Table: found, with its base."""
    import yaml

    from repro.literature.extract.claims import _is_ablation

    root = PAPER.parent
    if not root.is_dir():
        pytest.skip("../shared/fixtures is absent")
    n = 0
    for truth in sorted(root.glob("*/truth.yaml")):
        for spec in yaml.safe_load(truth.read_text(encoding="utf-8"))["tables"]:
            rows = {str(k): [v[0] if isinstance(v, list) else v for v in vals] for k, vals in spec["rows"].items()}
            ok, _, ref = _is_ablation(_table(rows, spec["columns"], spec["caption"], str(spec["table"])))
            want = (spec.get("ablation") or {}).get("base")
            assert ok == bool(want), (truth.parent.name, spec["table"])
            if want:
                assert list(rows)[ref] == want, (truth.parent.name, spec["table"])
                n += 1
    assert n == 7


def test_a_row_that_sets_one_hyperparameter_becomes_a_model_setting():
    t = _table({"default": [25.8], "dropout = 0.3": [25.1], "dropout = 0.0": [24.6]}, ["BLEU"],
               caption="Effect of dropout.")
    abl = _configs(t)
    assert abl["dropout-0-3"]["paper_settings"] == {"dropout": 0.3}
    from repro.literature.scaffold import toy_settings

    assert toy_settings(abl["dropout-0-0"]["paper_settings"]) == {"dropout": 0.0}
def test_value_claims_get_a_tolerance_from_the_printed_precision():
    tables = tables_from_latex(r"""\begin{table}\caption{Results}
\begin{tabular}{lcc}\hline Model & Acc & BLEU \\ \hline
Ours & 95.30 & 28.4 $\pm$ 0.3 \\ \hline\end{tabular}\end{table}""")
    claims = {c["metric"]: c for c in claims_from_tables(tables)}
    acc, bleu = claims["acc"], claims["bleu"]
    assert acc["tolerance"] == {"abs": pytest.approx(5 * 0.01 * acc["value"] / 95.30)}   # 5 units of 0.01
    assert "printed precision 95.30" in acc["tolerance_from"]
    assert bleu["spread"] == 0.3 and bleu["tolerance"] == {"abs": pytest.approx(0.9)}   # 3 x the paper's ±
