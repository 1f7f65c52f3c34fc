"""`repro new`: the command end to end on the real paper, the scaffold, failures that leave nothing."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import repro.literature.fetch as fetch_mod
from repro.cli import main
from repro.configs import resolve_configs
from repro.paper import load_paper
from repro.literature.pdftext import read_text_file
from repro.literature.scaffold import ScaffoldData, prepare_claims, toy_settings, write_scaffold
from helpers.arxiv_server import ArxivServer, recorded_answers
from helpers.trainer import quiet_trainer

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO.parent / "shared" / "fixtures"
PAPER = FIXTURES / "papers" / "1706.03762"


@pytest.fixture
def paper_files() -> tuple[Path, Path]:
    if not (PAPER / "paper.pdf").is_file():
        pytest.skip("../shared/fixtures is absent")
    return PAPER / "paper.pdf", PAPER / "source.tex"


@pytest.fixture(autouse=True)
def quick_fetch(monkeypatch, tmp_path):
    """A private cache, and no 3-second waits between loopback requests."""
    monkeypatch.setenv("REPRO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(fetch_mod, "DELAY_S", 0.0)
    monkeypatch.setattr(fetch_mod, "BACKOFF_S", 0.01)
    monkeypatch.setattr(fetch_mod, "TIMEOUT_S", 2.0)
    monkeypatch.setattr(fetch_mod, "RETRIES", 1)


@pytest.fixture
def server(monkeypatch):
    s = ArxivServer(recorded_answers())
    monkeypatch.setenv("REPRO_ARXIV_API_URL", s.url + "/api/query")
    monkeypatch.setenv("REPRO_ARXIV_URL", s.url)
    yield s
    s.close()


def repro(*args: str, cwd: Path, monkeypatch) -> int:
    monkeypatch.chdir(cwd)
    return main(list(args))


def _no_leftovers(papers: Path) -> None:
    assert not papers.exists() or not [p.name for p in papers.iterdir() if p.name.startswith(".")]


# -- the real paper, offline --------------------------------------------------------------

@pytest.fixture
def transformer_folder(paper_files, tmp_path, monkeypatch, capsys) -> Path:
    pdf, tex = paper_files
    # The toy stand-in (--family toy); the paper's own architecture: tests/test_families.py.
    rc = repro("new", "1706.03762", "--pdf", str(pdf), "--source", str(tex), "--offline", "--family", "toy",
               cwd=tmp_path, monkeypatch=monkeypatch)
    assert rc == 0
    return tmp_path / "papers" / "1706.03762"


def test_new_offline_on_the_real_paper(transformer_folder, paper_files, capsys):
    folder = transformer_folder
    out = capsys.readouterr()
    assert "wrote papers/1706.03762/" in out.out
    assert "tables" in out.out and "candidate claims" in out.out and "hyperparameters" in out.out
    assert "code: https://github.com/tensorflow/tensor2tensor" in out.out
    assert "repro run papers/1706.03762" in out.out  # next steps
    assert "not in the cache" in out.err  # offline without metadata: said, not hidden

    meta = yaml.safe_load((folder / "paper.yaml").read_text())
    assert meta["id"] == "1706.03762"
    assert meta["title"] == "Attention Is All You Need"  # from the LaTeX \title
    assert meta["abstract"].startswith("The dominant sequence transduction models")
    assert meta["pdf_sha256"] == hashlib.sha256(paper_files[0].read_bytes()).hexdigest()
    assert meta["links"]["code"] == ["https://github.com/tensorflow/tensor2tensor"]
    assert set(meta["reproduction"]["metrics"]) == {"val_acc", "val_loss", "train_acc", "train_loss"}

    pages = read_text_file(folder / "paper.txt")
    assert len(pages) == 15 and "Attention Is All You Need" in pages[0]
    review = (folder / "REVIEW.md").read_text()
    assert "The dominant sequence transduction" in review and "Failure cases" in review
    assert (folder / "report.md.j2").read_text().startswith('{% extends "report.md.j2" %}')

    # Claims: all candidates; any with a config must name a config that exists.
    claims = yaml.safe_load((folder / "claims.yaml").read_text())["claims"]
    names = {c.name for c in resolve_configs(load_paper(folder))}
    assert {"baseline", "method"} <= names
    ids = [c["id"] for c in claims]
    assert len(ids) == len(set(ids))
    for c in claims:
        assert c["status"] == "candidate"
        if c.get("kind", "value") == "value":
            assert c["config"] is None or c["config"] in names
            if c["config"] is None:
                assert c["note"]


def test_extracted_values_reach_claims_and_base_config(transformer_folder):
    """Ground truth from the paper (fixtures README), when the extractor is installed."""
    if importlib.util.find_spec("repro.literature.extract.claims") is None:
        pytest.skip("repro.literature.extract.claims not installed yet")
    folder = transformer_folder
    claims = yaml.safe_load((folder / "claims.yaml").read_text())["claims"]
    values = {(c["source"]["table"], c["source"]["row"], c.get("value")) for c in claims}
    assert any(t == "2" and "big" in str(r) and v == 28.4 for t, r, v in values)
    assert any(t == "2" and v == 41.8 for t, r, v in values)
    base = (folder / "configs" / "base.yaml").read_text()
    assert "# warmup_steps: 4000" in base
    # Ablation rows became override files whose keys the toy model accepts.
    ablations = sorted((folder / "configs" / "ablations").glob("*.yaml"))
    assert ablations
    assert all(yaml.safe_load(p.read_text()).get("description") for p in ablations)


@pytest.mark.slow
def test_scaffold_trains_with_lightning(transformer_folder):
    import lightning as L

    folder = transformer_folder
    cfg = {c.name: c for c in resolve_configs(load_paper(folder))}["method"]

    def load(name):
        spec = importlib.util.spec_from_file_location(f"scaffold_{name}", folder / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod

    model_cls, data_cls = load("model").PaperModel, load("data").PaperData
    results = []
    for _ in range(2):  # deterministic after seed_everything
        L.seed_everything(0, verbose=False)
        model, dm = model_cls(**cfg.model), data_cls(**cfg.data)
        trainer = quiet_trainer(max_epochs=2)
        trainer.fit(model, dm)
        results.append({k: float(v) for k, v in trainer.callback_metrics.items()})
    metrics = set(yaml.safe_load((folder / "paper.yaml").read_text())["reproduction"]["metrics"])
    assert metrics <= set(results[0])  # every metric in paper.yaml is logged
    assert results[0] == results[1]
    assert results[0]["val_acc"] > 0.5  # 4 classes: chance is 0.25


@pytest.mark.slow
def test_repro_new_then_repro_run_as_a_user_types_it(paper_files, tmp_path):
    pdf, tex = paper_files
    import os

    env = {**os.environ, "REPRO_CACHE": str(tmp_path / "cache")}
    cmd = [sys.executable, "-m", "repro"]
    new = subprocess.run(cmd + ["new", "1706.03762", "--pdf", str(pdf), "--source", str(tex), "--offline",
                                "--family", "toy"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert new.returncode == 0, new.stderr
    run = subprocess.run(cmd + ["run", "papers/1706.03762", "--only", "baseline,method", "--seeds", "0",
                                "--no-site"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    for config in ("baseline", "method"):
        summary = tmp_path / "results" / "1706.03762" / config / "seed-0" / "summary.json"
        assert '"status": "finished"' in summary.read_text()


def test_new_imports_no_torch():
    code = ("import sys, repro.commands.new, repro.literature.newpaper, repro.literature.fetch, repro.literature.scaffold, repro.literature.archive, "
            "repro.literature.pdftext, repro.literature.links, repro.literature.sandbox; assert 'torch' not in sys.modules and 'lightning' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# -- existing folders -----------------------------------------------------------------------

def test_folder_mode_follows_the_umask(transformer_folder):
    import os
    import stat

    umask = os.umask(0)
    os.umask(umask)
    mode = stat.S_IMODE(transformer_folder.stat().st_mode)
    assert mode == 0o777 & ~umask


def test_existing_folder_is_kept_unless_force(transformer_folder, paper_files, tmp_path, monkeypatch, capsys):
    pdf, tex = paper_files
    (transformer_folder / "model.py").write_text("# my edits\n")
    rc = repro("new", "1706.03762", "--pdf", str(pdf), "--offline", cwd=tmp_path, monkeypatch=monkeypatch)
    assert rc == 2
    assert "already exists" in capsys.readouterr().err
    assert (transformer_folder / "model.py").read_text() == "# my edits\n"
    rc = repro("new", "1706.03762", "--pdf", str(pdf), "--source", str(tex), "--offline", "--force",
               cwd=tmp_path, monkeypatch=monkeypatch)
    assert rc == 0
    assert "PaperModel" in (transformer_folder / "model.py").read_text()
    _no_leftovers(tmp_path / "papers")


def test_failed_write_leaves_nothing_and_keeps_the_old_folder(tmp_path, monkeypatch):
    import repro.literature.scaffold as sc

    data = ScaffoldData(folder="2101.00001", meta={"id": "2101.00001", "version": None, "title": "T",
                        "authors": [], "abstract": "", "published": None, "updated": None,
                        "categories": [], "doi": None, "comments": None, "pdf_sha256": None,
                        "source_sha256": None})
    calls = []

    def flaky(path, text):
        calls.append(path)
        if len(calls) == 4:
            raise OSError("disk full")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text)

    monkeypatch.setattr(sc, "atomic_write_text", flaky)
    papers = tmp_path / "papers"
    with pytest.raises(OSError):
        write_scaffold(papers, data)
    assert not (papers / "2101.00001").exists()
    _no_leftovers(papers)
    old = papers / "2101.00001"
    old.mkdir()
    (old / "keep.txt").write_text("mine")
    calls.clear()
    with pytest.raises(OSError):
        write_scaffold(papers, data, force=True)
    assert (old / "keep.txt").read_text() == "mine"
    _no_leftovers(papers)


# -- online, against recorded arXiv answers -------------------------------------------------

@pytest.mark.slow
def test_new_online_with_recorded_metadata_then_offline_from_cache(server, paper_files, tmp_path, monkeypatch,
                                                                   capsys):
    pdf, tex = paper_files
    server.files["/pdf/1605.08386v1"] = pdf.read_bytes()
    server.files["/src/1605.08386v1"] = gzip.compress(tex.read_bytes())  # arXiv's single gzipped .tex
    assert repro("new", "https://arxiv.org/abs/1605.08386", cwd=tmp_path, monkeypatch=monkeypatch) == 0
    meta = yaml.safe_load((tmp_path / "papers" / "1605.08386" / "paper.yaml").read_text())
    assert meta["title"] == "Heat-bath random walks with Markov bases"
    assert meta["authors"] == ["Caprice Stanley", "Tobias Windisch"]
    assert meta["version"] == "v1" and meta["published"] == "2016-05-26"
    assert meta["categories"] == ["math.CO", "math.ST"] and meta["comments"] == "20 pages, 3 figures"
    assert meta["pdf_sha256"] == hashlib.sha256(pdf.read_bytes()).hexdigest()
    assert meta["source_sha256"] == hashlib.sha256(server.files["/src/1605.08386v1"]).hexdigest()
    assert "arxiv.org/abs/1605.08386v1" in (tmp_path / "papers" / "1605.08386" / "REVIEW.md").read_text()
    assert [p.split("?")[0] for p in server.requests] == ["/api/query", "/pdf/1605.08386v1", "/src/1605.08386v1"]
    # Again, offline: everything from the cache, not one request.
    n = len(server.requests)
    assert repro("new", "1605.08386", "--offline", "--force", cwd=tmp_path, monkeypatch=monkeypatch) == 0
    assert len(server.requests) == n
    assert yaml.safe_load((tmp_path / "papers" / "1605.08386" / "paper.yaml").read_text())["title"] == meta["title"]


@pytest.mark.slow
def test_old_style_id_makes_an_underscore_folder(server, paper_files, tmp_path, monkeypatch):
    server.files["/pdf/astro-ph/0601001v1"] = paper_files[0].read_bytes()
    assert repro("new", "astro-ph/0601001", cwd=tmp_path, monkeypatch=monkeypatch) == 0
    folder = tmp_path / "papers" / "astro-ph_0601001"
    meta = yaml.safe_load((folder / "paper.yaml").read_text())
    assert meta["id"] == "astro-ph/0601001" and meta["title"].startswith("Frequency of Hot Jupiters")
    assert not (tmp_path / "papers" / "astro-ph").exists()


def test_nonexistent_id_errors_and_writes_nothing(server, tmp_path, monkeypatch, capsys):
    server.answers["2501.99999"] = server.answers["0000.0000"]  # arXiv's real empty answer
    assert repro("new", "2501.99999", cwd=tmp_path, monkeypatch=monkeypatch) == 3
    err = capsys.readouterr().err
    assert "no paper 2501.99999" in err and "hint:" in err
    assert not (tmp_path / "papers").exists()


def test_malformed_id_never_reaches_the_network(server, tmp_path, monkeypatch, capsys):
    assert repro("new", "abc", cwd=tmp_path, monkeypatch=monkeypatch) == 2
    err = capsys.readouterr().err
    assert "'abc' is not an arXiv id" in err and "hint:" in err
    assert server.requests == []


def test_5xx_and_network_failures_have_their_own_errors(server, tmp_path, monkeypatch, capsys):
    server.fail = [503] * 5
    assert repro("new", "1605.08386", cwd=tmp_path, monkeypatch=monkeypatch) == 3
    assert "HTTP 503" in capsys.readouterr().err
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("REPRO_ARXIV_API_URL", f"http://127.0.0.1:{port}/api/query")
    assert repro("new", "1605.08386", cwd=tmp_path, monkeypatch=monkeypatch) == 3
    err = capsys.readouterr().err
    assert "network failure" in err and "--offline" in err
    assert not (tmp_path / "papers").exists()


@pytest.mark.slow
def test_network_failure_with_local_files_only_warns(paper_files, tmp_path, monkeypatch, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("REPRO_ARXIV_API_URL", f"http://127.0.0.1:{port}/api/query")
    rc = repro("new", "1706.03762", "--pdf", str(paper_files[0]), cwd=tmp_path, monkeypatch=monkeypatch)
    assert rc == 0
    assert "warning:" in capsys.readouterr().err
    assert (tmp_path / "papers" / "1706.03762" / "paper.txt").is_file()


def test_paper_not_on_arxiv_by_name(paper_files, tmp_path, monkeypatch, capsys):
    assert repro("new", "--name", "../evil", "--pdf", str(paper_files[0]), cwd=tmp_path, monkeypatch=monkeypatch) == 2
    assert repro("new", "--name", "my-transformer", "--source", str(paper_files[1]),
                 cwd=tmp_path, monkeypatch=monkeypatch) == 0
    meta = yaml.safe_load((tmp_path / "papers" / "my-transformer" / "paper.yaml").read_text())
    assert meta["id"] == "my-transformer" and meta["title"] == "Attention Is All You Need"
    assert not (tmp_path / "papers" / "my-transformer" / "paper.txt").exists()  # no PDF given
    assert "arxiv.org" not in (tmp_path / "papers" / "my-transformer" / "REVIEW.md").read_text()


def test_bad_pdf_gives_pdf_error_and_no_folder(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "bad.pdf"
    bad.write_text("<html>")
    assert repro("new", "1706.03762", "--pdf", str(bad), "--offline", cwd=tmp_path, monkeypatch=monkeypatch) == 2
    assert "not a PDF" in capsys.readouterr().err
    assert not (tmp_path / "papers").exists()


# -- claims and configs ----------------------------------------------------------------------

def test_prepare_claims_marks_what_the_scaffold_cannot_run():
    claims = [
        {"id": "T3 (A) h=1", "kind": "value", "config": "(A) h=1", "metric": "ppl_dev", "value": 5.29},
        {"id": "acc", "kind": "value", "config": "method", "metric": "val_acc", "value": 0.9,
         "status": "confirmed"},
        {"id": "acc", "kind": "value", "config": "nowhere", "metric": "val_acc", "value": 0.9},
        {"id": "cmp", "kind": "comparison", "a": "(A) h=1", "b": "baseline", "metric": "bleu_dev",
         "relation": "less"},
    ]
    out = prepare_claims(claims, {"baseline", "method", "a-h-1"}, {"val_acc"}, {"(A) h=1": "a-h-1"})
    assert [c["id"] for c in out] == ["t3-a-h-1", "acc", "acc-2", "cmp"]
    assert all(c["status"] == "candidate" for c in out)  # a machine never confirms
    assert out[0]["config"] is None and "ppl_dev" in out[0]["note"] and "a-h-1" in out[0]["note"]
    assert out[1]["config"] == "method" and out[1]["note"] is None
    assert out[2]["config"] is None and "no config 'nowhere'" in out[2]["note"]
    # a comparison on a metric model.py does not log cannot name configs (claims.yaml would not
    # load): its configs wait in the note
    assert out[3]["a"] is None and out[3]["b"] is None
    assert "bleu_dev" in out[3]["note"] and "a: a-h-1, b: baseline" in out[3]["note"]


def test_toy_settings_take_only_what_fits():
    assert toy_settings({"P_drop": 0.3, "N": 2, "d_model": 256, "h": 16, "train steps": 300000}) == {
        "dropout": 0.3, "num_layers": 2, "hidden_dim": 256}
    assert toy_settings({"N": 2.5, "d_model": 100000, "dropout": "none"}) == {}


def test_hostile_paper_text_cannot_break_the_yaml_or_python(tmp_path):
    evil = 'x"\n: {a: [b\n"""\\\nimport os  # \'\'\' \x00'
    data = ScaffoldData(folder="2101.00002", meta={"id": "2101.00002", "version": "v1", "title": evil,
                        "authors": [evil], "abstract": evil, "published": None, "updated": None,
                        "categories": [], "doi": None, "comments": evil, "pdf_sha256": None,
                        "source_sha256": None},
                        links={"code": [evil], "data": [], "project": []},
                        ablations={evil: {"description": evil, "paper_settings": {evil: evil}, "claims": [evil]}})
    res = write_scaffold(tmp_path, data)
    meta = yaml.safe_load((res.path / "paper.yaml").read_text())
    assert meta["title"] == evil and meta["authors"] == [evil]
    compile((res.path / "model.py").read_text(), "model.py", "exec")
    compile((res.path / "data.py").read_text(), "data.py", "exec")
    abl = list((res.path / "configs" / "ablations").glob("*.yaml"))
    assert len(abl) == 1 and yaml.safe_load(abl[0].read_text())["description"] == evil
    assert resolve_configs(load_paper(res.path))


# -- issue 12: LaTeX + PDF of a paper it has never seen ----------------------------------------

ABLATION_TEX = r"""\documentclass{article}
\begin{document}
\section{Setup}
We train with Adam, a learning rate of $3 \cdot 10^{-4}$ and a batch size of 64 for 20 epochs.
\begin{table}
\caption{Ablation of our model on the dev set.}
\begin{tabular}{lcc}
\toprule
 & \multicolumn{2}{c}{Dev} \\
Model & Acc. & Loss \\
\midrule
Full model & \textbf{88.1} $\pm$ 0.4 & 0.31 \\
w/o attention & 84.0 $\pm$ 0.6 & 0.42 \\
+ extra layer & $88.9_{0.3}$ & 0.30 \\
\bottomrule
\end{tabular}
\end{table}
\end{document}
"""


def _two_page_pdf(path: Path) -> None:
    """Page 1 prose, page 2 the table and its caption (matplotlib's PDF backend places the text)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    with PdfPages(path) as pdf:
        for lines in (["1 Setup", "We train with Adam for 20 epochs."],
                      ["Model Acc. Loss", "Full model 88.1 0.31", "Table 1: Ablation of our model on the dev set."]):
            fig = Figure(figsize=(8.5, 11))
            for i, line in enumerate(lines):
                fig.text(0.1, 0.9 - 0.05 * i, line, fontsize=11)
            pdf.savefig(fig)


def test_new_with_latex_and_pdf_fills_pages_ablations_and_comparisons(tmp_path, monkeypatch):
    from repro.claims import load_claims

    pdf, tex = tmp_path / "paper.pdf", tmp_path / "paper.tex"
    _two_page_pdf(pdf)
    tex.write_text(ABLATION_TEX)
    assert repro("new", "--name", "abl", "--pdf", str(pdf), "--source", str(tex), "--offline",
                 cwd=tmp_path, monkeypatch=monkeypatch) == 0
    folder = tmp_path / "papers" / "abl"
    claims = yaml.safe_load((folder / "claims.yaml").read_text())
    claims = claims["claims"] if isinstance(claims, dict) else claims
    values = [c for c in claims if c["kind"] == "value"]
    assert {c["source"]["page"] for c in values} == {2}  # from the PDF, although the cells came from LaTeX
    acc = next(c for c in values if c["source"]["row"] == "+ extra layer" and c["source"]["column"] == "Dev / Acc.")
    assert (acc["value"], acc["spread"]) == (88.9, 0.3)
    ablations = sorted(p.name for p in (folder / "configs" / "ablations").iterdir())
    assert ablations == ["extra-layer.yaml", "w-o-attention.yaml"]
    assert "removes: attention" in (folder / "configs" / "ablations" / "w-o-attention.yaml").read_text()
    comps = {(c["source"]["row"], c["metric"]): c for c in claims if c["kind"] == "comparison"}
    assert comps[("w/o attention", "dev_acc")]["text"].startswith("Table 1: Full model > w/o attention")
    assert comps[("+ extra layer", "dev_loss")]["text"].startswith("Table 1: Full model > + extra layer")
    assert all(c["status"] == "candidate" for c in comps.values())
    load_claims(load_paper(folder))  # the folder's claims.yaml is valid as written


def test_bibliography_names_tables_rows_but_not_the_papers_links(tmp_path, monkeypatch):
    src = tmp_path / "src"
    src.mkdir()
    (src / "main.tex").write_text(
        "\\documentclass{article}\\begin{document}Code: \\url{https://github.com/me/mine}.\n"
        "\\begin{table}\\caption{Accuracy.}\\begin{tabular}{lc} Method & Acc \\\\ \\hline\n"
        "\\citet{other} & 90.1 \\\\ Ours & 91.5 \\\\ \\end{tabular}\\end{table}\n"
        "\\bibliography{refs}\\end{document}\n")
    (src / "main.bbl").write_text("\\begin{thebibliography}{1}\n\\bibitem[Other et~al.(2020)]{other}\n"
                                  "A. Other. \\url{https://github.com/someone/else}\n\\end{thebibliography}\n")
    assert repro("new", "--name", "bib", "--source", str(src), "--offline", cwd=tmp_path, monkeypatch=monkeypatch) == 0
    folder = tmp_path / "papers" / "bib"
    claims = yaml.safe_load((folder / "claims.yaml").read_text())
    claims = claims["claims"] if isinstance(claims, dict) else claims
    assert {c["source"]["row"] for c in claims if c["kind"] == "value"} == {"Other et al. (2020)", "Ours"}
    meta = yaml.safe_load((folder / "paper.yaml").read_text())
    assert "someone/else" not in str(meta) and "me/mine" in str(meta)
