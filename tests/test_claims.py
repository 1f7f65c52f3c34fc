"""claims.yaml checking: every mistake names the claim, the file and the line."""

from __future__ import annotations

import pytest

from repro.claims import ComparisonClaim, OrderingClaim, ValueClaim, load_claims
from repro.errors import ClaimsError, PaperFolderError, YamlError
from helpers.results_data import make_paper

GOOD = """\
- id: fits
  text: "Reaches 100% training accuracy"
  source: {table: null, figure: "1a", page: 4}
  kind: value
  config: method
  metric: acc
  value: 1.0
  spread: 0.01
  tolerance: {abs: 0.02}
  status: confirmed
- id: lower-loss
  kind: comparison
  metric: loss
  a: method
  relation: better
  b: baseline
- id: order
  kind: ordering
  metric: loss
  configs: [baseline, method]
  direction: better
- id: bleu
  kind: value
  config: null
  metric: bleu
  value: 28.4
  note: cannot run WMT here
"""
SANITY = """\
- id: fixed
  kind: sanity
  metric: acc
  a: method
  relation: greater
  b: baseline
"""


def test_good_claims_load_with_defaults(tmp_path):
    paper = make_paper(tmp_path, GOOD)
    claims = {c["id"]: c for c in load_claims(paper)}
    assert list(claims) == ["fits", "lower-loss", "order", "bleu"]
    assert claims["fits"]["status"] == "confirmed" and claims["lower-loss"]["status"] == "candidate"
    # loss has goal: min, so "better" is numerically less / increasing-better is decreasing
    assert claims["lower-loss"]["relation"] == "less" and claims["lower-loss"]["relation_claimed"] == "better"
    assert claims["order"]["direction"] == "decreasing"
    assert claims["bleu"]["runnable"] is False and claims["fits"]["runnable"] is True
    assert claims["fits"]["line"].endswith("claims.yaml:2")


def test_each_kind_loads_as_its_own_type(tmp_path):
    claims = {c.id: c for c in load_claims(make_paper(tmp_path, GOOD + SANITY))}
    assert type(claims["fits"]) is ValueClaim and claims["fits"].tolerance_abs == 0.02
    assert type(claims["lower-loss"]) is ComparisonClaim
    assert claims["lower-loss"].configs_involved == ["method", "baseline"]
    assert type(claims["order"]) is OrderingClaim and claims["order"].tested_relation == "greater"
    assert claims["bleu"].configs_involved == [] and not claims["bleu"].runnable
    # kind: sanity is judged as the kind its keys describe, and marked
    assert type(claims["fixed"]) is ComparisonClaim and claims["fixed"].sanity and claims["fixed"].kind == "comparison"


def test_load_paper_checks_metrics_when_the_folder_loads(tmp_path):
    from repro.paper import load_paper

    root = make_paper(tmp_path, GOOD).root
    text = (root / "paper.yaml").read_text()
    (root / "paper.yaml").write_text(text.replace("goal: max", "goal: up"))
    with pytest.raises(PaperFolderError, match="goal must be 'max' or 'min'"):
        load_paper(root)


def test_no_claims_file_means_no_claims(tmp_path):
    paper = make_paper(tmp_path, "[]\n")
    (paper.root / "claims.yaml").unlink()
    assert load_claims(paper) == []


def _error(tmp_path, claims: str) -> ClaimsError:
    paper = make_paper(tmp_path, claims)
    with pytest.raises(ClaimsError) as exc:
        load_claims(paper)
    return exc.value


def test_unknown_config_names_claim_file_and_line(tmp_path):
    e = _error(tmp_path, """\
    - id: ok
      kind: value
      config: method
      metric: acc
      value: 0.5
    - id: typo
      kind: value
      config: metod
      metric: acc
      value: 0.5
    """)
    assert "'typo'" in e.message and "claims.yaml" in e.message and "'metod'" in e.message
    assert e.where.endswith("claims.yaml:9")  # the `config:` line of the second claim
    assert "method" in e.hint


def test_unknown_metric_in_comparison(tmp_path):
    e = _error(tmp_path, """\
    - id: cmp
      kind: comparison
      metric: accuracy
      a: method
      relation: greater
      b: baseline
    """)
    assert "'cmp'" in e.message and "'accuracy'" in e.message and "acc" in e.hint
    assert e.where.endswith(":4")


def test_unknown_config_in_ordering(tmp_path):
    e = _error(tmp_path, """\
    - id: order
      kind: ordering
      metric: acc
      configs: [baseline, nope]
      direction: decreasing
    """)
    assert "'order'" in e.message and "'nope'" in e.message


@pytest.mark.parametrize("body, words", [
    ("- id: a\n  kind: value\n  config: method\n  metric: acc\n  value: 1\n- id: a\n  kind: value\n  config: null\n",
     "duplicate id"),
    ("- id: Bad_Id\n  kind: value\n", "lower-case"),
    ("- id: k\n  kind: valeu\n", "kind must be one of"),
    ("- id: k\n  kind: value\n  config: method\n  metric: acc\n  value: 1\n  tolerence: {abs: 1}\n",
     "unknown key 'tolerence'"),
    ("- id: k\n  kind: value\n  config: method\n  metric: acc\n  value: '95%'\n", "value must be a number"),
    ("- id: k\n  kind: value\n  config: method\n  metric: acc\n  value: 1\n  tolerance: {abs: 1, rel: 0.1}\n",
     "tolerance must be"),
    ("- id: k\n  kind: value\n  config: method\n  metric: acc\n  value: 1\n  spread: -1\n", "spread must be"),
    ("- id: k\n  kind: comparison\n  metric: acc\n  a: method\n  relation: within\n  b: baseline\n",
     "needs margin"),
    ("- id: k\n  kind: comparison\n  metric: acc\n  a: method\n  relation: bigger\n  b: baseline\n",
     "relation must be"),
    ("- id: k\n  kind: comparison\n  metric: acc\n  a: method\n  relation: greater\n  b: method\n",
     "with itself"),
    ("- id: k\n  kind: comparison\n  metric: acc\n  a: method\n  relation: greater\n  b: baseline\n  value: 3\n",
     "unknown key 'value'"),
    ("- id: k\n  kind: ordering\n  metric: acc\n  configs: [baseline]\n  direction: decreasing\n",
     "at least 2"),
    ("- id: k\n  kind: ordering\n  metric: acc\n  configs: [baseline, method]\n  direction: down\n",
     "direction must be"),
    ("- id: k\n  kind: value\n  config: method\n  value: 1\n", "metric is missing"),
    ("- id: k\n  kind: value\n  status: maybe\n", "status must be"),
])
def test_claim_mistakes(tmp_path, body, words):
    e = _error(tmp_path, body)
    assert words in e.message
    assert "claims.yaml" in e.message and "claims.yaml:" in e.where


def test_claims_must_be_a_list(tmp_path):
    paper = make_paper(tmp_path, "[]\n")
    (paper.root / "claims.yaml").write_text("claims:\n  id: x\n")
    with pytest.raises(ClaimsError, match="must be a list"):
        load_claims(paper)
    (paper.root / "claims.yaml").write_text("claim: []\n")
    with pytest.raises(ClaimsError, match="unknown top-level key 'claim'"):
        load_claims(paper)
    (paper.root / "claims.yaml").write_text("claims:\n  - id: x\n   kind: value\n")
    with pytest.raises(YamlError) as exc:
        load_claims(paper)
    assert "claims.yaml:" in exc.value.where


# -- tolerances, sanity claims, factors (issue 13) ----------------------------------------------
def test_every_value_claim_has_a_tolerance_and_says_where_it_came_from(tmp_path):
    paper = make_paper(tmp_path, GOOD + """\
- id: no-tol
  kind: value
  config: method
  metric: acc
  value: 0.953
- id: no-tol-spread
  kind: value
  config: method
  metric: acc
  value: 0.953
  spread: 0.004
- id: said
  kind: value
  config: method
  metric: acc
  value: 0.9
  tolerance: {rel: 0.1}
  tolerance_from: "confirmed by A. Reader: the paper's Table 3 varies by 10%"
""")
    c = {c["id"]: c for c in load_claims(paper)}
    assert c["fits"]["tolerance_abs"] == 0.02 and c["fits"]["tolerance_from"] == "claims.yaml"
    assert c["no-tol"]["tolerance_abs"] == pytest.approx(0.005)
    assert c["no-tol"]["tolerance_from"].startswith("no tolerance: proposed from precision")
    assert c["no-tol-spread"]["tolerance_abs"] == pytest.approx(0.012)          # 3 x 0.004 > 0.005
    assert c["said"]["tolerance_abs"] == pytest.approx(0.09) and c["said"]["tolerance_from"].startswith("confirmed")


def test_propose_tolerance():
    from repro.claims import propose_tolerance

    assert propose_tolerance(28.4)[0] == pytest.approx(0.5)              # 5 x 0.1
    assert propose_tolerance(28.4, spread=0.3)[0] == pytest.approx(0.9)  # 3 x the paper's +-
    assert propose_tolerance(0.953, text="95.3")[0] == pytest.approx(0.005)   # printed as percent
    assert propose_tolerance(0.953, text="95.30")[0] == pytest.approx(0.0005)  # two printed decimals
    assert propose_tolerance(1.0)[0] == pytest.approx(0.05)               # YAML's 1.0: 3 significant digits
    assert "printed precision" in propose_tolerance(0.953, text="95.3")[1]


def test_sanity_claims_take_the_shape_of_their_keys(tmp_path):
    paper = make_paper(tmp_path, """\
- id: s-cmp
  kind: sanity
  metric: acc
  a: method
  relation: greater
  b: baseline
- id: s-val
  kind: sanity
  config: method
  metric: acc
  value: 1.0
""")
    c = {c["id"]: c for c in load_claims(paper)}
    assert c["s-cmp"]["kind"] == "comparison" and c["s-cmp"]["sanity"] is True
    assert c["s-val"]["kind"] == "value" and c["s-val"]["sanity"] is True


def test_factor_and_effect_are_checked(tmp_path):
    e = _error(tmp_path, """\
- id: x
  kind: comparison
  metric: acc
  a: method
  relation: greater
  b: baseline
  factor: {model: dropout}
""")
    assert "factor must be" in str(e) and e.where.endswith("claims.yaml:8")
    e = _error(tmp_path, """\
- id: y
  kind: comparison
  metric: acc
  a: method
  relation: greater
  b: baseline
  effect: large
""")
    assert "effect must be a number" in str(e)
