"""Issue 7, item 7: random and mutated input to the parsers never crashes with anything but
the project's own errors (ReproError subclasses)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from repro.literature.arxiv_ids import ArxivId, parse_arxiv_id
from repro.claims import Claim, check_claims, load_claims
from repro.configs import resolve_configs
from repro.errors import ArxivIdError, ReproError
from repro.literature.extract.latex_tables import parse_latex_tables
from repro.literature.extract.numbers import parse_number
from repro.literature.extract.tables import Table
from repro.paper import load_paper
from repro.results import metrics_problem, read_metrics, read_summary
from repro.yamlio import load_mapping
from helpers.tinypaper import make_tiny_paper

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])


@pytest.fixture(scope="module")
def paper(tmp_path_factory):
    return load_paper(make_tiny_paper(tmp_path_factory.mktemp("fuzz"), ablations={"wide": "model:\n  hidden: 32\n"}))


def mutate(text: str, data) -> str:
    """Delete, duplicate or replace a few random slices of `text`."""
    for _ in range(data.draw(st.integers(1, 4))):
        if not text:
            break
        i = data.draw(st.integers(0, len(text) - 1))
        j = data.draw(st.integers(i, min(len(text), i + 40)))
        op = data.draw(st.sampled_from(["delete", "dup", "replace"]))
        if op == "delete":
            text = text[:i] + text[j:]
        elif op == "dup":
            text = text[:j] + text[i:j] + text[j:]
        else:
            text = text[:i] + data.draw(st.text(max_size=8)) + text[j:]
    return text


# -- arXiv ids --------------------------------------------------------------------------------
ID_LIKE = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"(arXiv:|https?://(www\.)?arxiv\.org/(abs|pdf)/)?\d{4}\.\d{4,5}(v\d{1,3})?(\.pdf)?", fullmatch=True),
    st.from_regex(r"[a-z-]{1,10}(\.[A-Z]{2})?/\d{7}(v\d)?", fullmatch=True),
)


@FUZZ
@given(ID_LIKE)
def test_arxiv_id_parser_accepts_or_explains(raw):
    try:
        aid = parse_arxiv_id(raw)
    except ArxivIdError as e:
        assert e.message and e.hint
        return
    assert isinstance(aid, ArxivId)
    assert "/" not in aid.folder and ".." not in aid.folder and aid.folder.strip() == aid.folder
    assert parse_arxiv_id(aid.full) == aid  # normal form is stable


# -- table cells and LaTeX tables ---------------------------------------------------------------
@FUZZ
@given(st.one_of(st.text(max_size=30), st.from_regex(r"[$\\{(]*-?\d{1,3}(\.\d+)?\s*(\\pm|±|\()\s*\d(\.\d+)?[)}$%]*", fullmatch=True)))
def test_number_parser_never_crashes(text):
    value, spread = parse_number(text)
    assert value is None or isinstance(value, float)
    assert spread is None or (isinstance(spread, float) and spread >= 0)


@pytest.mark.parametrize("tail", ["\\", "\\\n1 & 2"])
def test_latex_lone_backslash_is_not_a_crash(tail):
    try:
        parse_latex_tables(r"\begin{table}\caption{x}\begin{tabular}{cc}" + tail)
    except ReproError:
        pass


TABLE = r"""
\newcommand{\best}[1]{\textbf{#1}}
\begin{table}[t]
\caption{Results on the test set}
\begin{tabular}{l|cc}
\toprule
Model & BLEU & PPL \\
\midrule
Base [3] & 25.8 & 4.92 \\
\multicolumn{2}{c}{big} & \best{28.4 $\pm$ 0.2} \\
(A) & 24.9 & 5.29 \\ \hline
\end{tabular}
\end{table}
"""


@FUZZ
@given(st.data())
def test_latex_table_parser_on_mutated_tables(data):
    tex = mutate(TABLE, data)
    try:
        tables = parse_latex_tables(tex)
    except ReproError:
        return
    assert all(isinstance(t, Table) for t in tables)
    for t in tables:
        t.numeric_cells()


@FUZZ
@given(st.text(alphabet=st.sampled_from(list("\\{}[]&$%^_~#\n tabular begin end caption multicolumn 0123.")),
               max_size=300))
def test_latex_table_parser_on_random_latexish_text(tex):
    try:
        parse_latex_tables(r"\begin{table}\caption{x}\begin{tabular}{cc}" + tex)
    except ReproError:
        pass


# -- claims ---------------------------------------------------------------------------------
CLAIMS = """claims:
  - id: fit
    kind: value
    config: method
    metric: val_acc
    value: 0.9
    spread: 0.01
    tolerance: {abs: 0.02}
    source: {table: "2", page: 4}
  - id: beats
    kind: comparison
    metric: val_acc
    a: method
    relation: better
    b: baseline
  - id: order
    kind: ordering
    metric: train_loss
    configs: [baseline, method, wide]
    direction: decreasing
    status: confirmed
"""

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10, 10), st.floats(allow_nan=True),
                    st.sampled_from(["method", "baseline", "wide", "val_acc", "train_loss", "value",
                                     "comparison", "ordering", "within", "better", "abs", "rel", "x"]))
VALUES = st.recursive(SCALARS, lambda kids: st.lists(kids, max_size=3) | st.dictionaries(
    st.sampled_from(["id", "kind", "config", "metric", "value", "a", "b", "relation", "margin", "configs",
                     "direction", "tolerance", "abs", "rel", "spread", "spread_n", "source", "status", "zz"]),
    kids, max_size=6), max_leaves=20)


def test_the_claims_seed_file_is_valid(paper):
    path = paper.root / "claims.yaml"
    path.write_text(CLAIMS)
    assert [c["id"] for c in load_claims(paper)] == ["fit", "beats", "order"]


@FUZZ
@given(st.data())
def test_claims_loader_on_mutated_yaml(paper, data):
    path = paper.root / "claims.yaml"
    path.write_text(mutate(CLAIMS, data), encoding="utf-8")
    try:
        claims = load_claims(paper)
    except ReproError as e:
        assert e.message and e.where and str(path) in e.where
        return
    assert all(isinstance(c, Claim) and isinstance(c.runnable, bool) for c in claims)


@FUZZ
@given(st.one_of(VALUES, st.dictionaries(st.just("claims"), st.lists(VALUES, max_size=4))))
def test_claims_checker_on_random_structures(paper, data):
    if not isinstance(data, dict):
        data = {"claims": data}
    try:
        check_claims(data, paper, paper.root / "claims.yaml")
    except ReproError as e:
        assert e.message


# -- configs and YAML ---------------------------------------------------------------------------------
CONFIG = """description: a wider model
model:
  hidden: 32
  lr: 0.05
data:
  n: 64
trainer:
  max_epochs: 2
resources:
  timeout_s: 60
"""


@FUZZ
@given(st.data())
def test_config_loader_on_mutated_configs(paper, data):
    f = paper.root / "configs" / "ablations" / "wide.yaml"
    f.write_text(mutate(CONFIG, data), encoding="utf-8")
    try:
        configs = resolve_configs(paper)
    except ReproError as e:
        assert e.message and e.where
        return
    assert [c.name for c in configs] == ["baseline", "method", "wide"]


@FUZZ
@given(st.one_of(st.binary(max_size=200),
                 st.recursive(SCALARS, lambda k: st.lists(k, max_size=3) | st.dictionaries(st.text(max_size=5), k, max_size=3),
                              max_leaves=10).map(lambda v: yaml.safe_dump(v).encode())))
def test_yaml_loader_on_random_bytes(tmp_path_factory, raw):
    f = tmp_path_factory.getbasetemp() / "fuzz.yaml"
    f.write_bytes(raw)
    try:
        out = load_mapping(f)
    except ReproError as e:
        assert e.message and e.where
        return
    assert isinstance(out, dict)


# -- run records ----------------------------------------------------------------------------
@FUZZ
@given(st.binary(max_size=300))
def test_run_record_readers_never_crash(tmp_path_factory, raw):
    d = tmp_path_factory.getbasetemp() / "fuzzrun"
    d.mkdir(exist_ok=True)
    (d / "summary.json").write_bytes(raw)
    (d / "metrics.jsonl").write_bytes(raw)
    summary, problem = read_summary(d)
    assert (summary is None) != (problem is None) or (summary is None and problem is None)
    assert isinstance(read_metrics(d / "metrics.jsonl"), list)
    assert metrics_problem(d / "metrics.jsonl") is None or isinstance(metrics_problem(d / "metrics.jsonl"), str)
