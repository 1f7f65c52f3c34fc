"""Config sets: `--config-set NAME` runs papers/<id>/configs-NAME/ into results/<id>@NAME/."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from helpers.cli import run_repro
from helpers.site_synth import make_paper, make_results
from helpers.site_checks import check_site
from helpers.tinypaper import make_tiny_paper

from repro.errors import UsageError
from repro.paper import config_sets, load_paper
from repro.results import load_results, paper_results_dir, results_name, run_dir, split_results_name
from repro.judging.site.build import build_site

PID = "0000.00001"


def tiny_with_small_set(root: Path, **kw) -> Path:
    """The tiny paper plus configs-small/: the same layout, a different method width."""
    folder = make_tiny_paper(root, seeds=(0,), epochs=2, **kw)
    shutil.copytree(folder / "configs", folder / "configs-small")
    (folder / "configs-small" / "method.yaml").write_text("model:\n  hidden: 12\n")
    return folder


def tree_digest(folder: Path) -> dict[str, str]:
    return {str(f.relative_to(folder)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(folder.rglob("*")) if f.is_file()}


def test_one_helper_maps_paper_and_set_to_the_results_folder(tmp_path):
    assert results_name(PID) == PID and results_name(PID, None) == PID
    assert results_name(PID, "gpu") == f"{PID}@gpu"
    assert split_results_name(f"{PID}@gpu") == (PID, "gpu") and split_results_name(PID) == (PID, None)
    assert paper_results_dir(tmp_path, PID) == tmp_path / PID
    assert paper_results_dir(tmp_path, PID, "gpu") == tmp_path / f"{PID}@gpu"
    assert run_dir(tmp_path, PID, "method", 2, "gpu") == tmp_path / f"{PID}@gpu" / "method" / "seed-2"
    # The default set is still results/<id>/<config>/seed-<n>/.
    assert run_dir(tmp_path, PID, "method", 2) == tmp_path / PID / "method" / "seed-2"


def test_config_set_resolves_its_own_folder_with_the_same_checks(tmp_path):
    from repro.configs import resolve_configs
    from repro.errors import ConfigError, YamlError
    from repro.runs.planner import plan

    folder = tiny_with_small_set(tmp_path)
    assert config_sets(folder) == ["small"]
    p = load_paper(folder, "small")
    assert p.config_set == "small" and p.configs_dir == folder / "configs-small"
    assert p.results_name == f"{PID}@small"
    configs = {c.name: c for c in resolve_configs(p)}
    assert configs["method"].model["hidden"] == 12 and configs["method"].path.parent.name == "configs-small"
    assert {c.name: c.model["hidden"] for c in resolve_configs(load_paper(folder))}["method"] == 16
    planned = plan(p, tmp_path / "results")
    assert {Path(r.spec.run_dir).relative_to(tmp_path / "results").parts[0] for r in planned} == {f"{PID}@small"}

    (folder / "configs-small" / "method.yaml").write_text("model:\n  hiden: 12\n")
    with pytest.raises(ConfigError) as e:
        resolve_configs(load_paper(folder, "small"))
    assert "configs-small/method.yaml" in e.value.where and "hidden" in e.value.hint
    (folder / "configs-small" / "method.yaml").write_text("model:\n  hidden: 12\n lr: [0.1\n")
    with pytest.raises(YamlError) as e:
        resolve_configs(load_paper(folder, "small"))
    assert "configs-small/method.yaml:" in str(e.value) and "YAML syntax error" in str(e.value)


def test_unknown_config_set_is_a_usage_error_listing_the_sets(tmp_path):
    tiny_with_small_set(tmp_path)
    (tmp_path / "papers" / PID / "configs-gpu").mkdir()
    (tmp_path / "papers" / PID / "configs-gpu" / "base.yaml").write_text("model: {}\n")
    with pytest.raises(UsageError) as e:
        load_paper(tmp_path / "papers" / PID, "smal")
    assert "did you mean 'small'" in e.value.hint and "gpu (configs-gpu/)" in e.value.hint
    for cmd in ("run", "status", "report"):
        r = run_repro(cmd, f"papers/{PID}", "--config-set", "gpux", cwd=tmp_path)
        assert r.returncode == 2, (cmd, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr
        assert "error: invalid value for --config-set: 'gpux'" in r.stderr
        assert "gpu (configs-gpu/), small (configs-small/)" in r.stderr
    r = run_repro("run", f"papers/{PID}", "--config-set", "../configs", cwd=tmp_path)
    assert r.returncode == 2 and "not a valid set name" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "results").exists()  # nothing written for a bad set


def test_paper_without_sets_says_so(tmp_path):
    make_tiny_paper(tmp_path)
    r = run_repro("run", f"papers/{PID}", "--config-set", "gpu", "--dry-run", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "has only the default set, configs/" in r.stderr


def test_help_explains_the_option(tmp_path):
    for cmd in ("run", "status", "report"):
        r = run_repro(cmd, "--help", cwd=tmp_path)
        assert r.returncode == 0 and "--config-set NAME" in r.stdout, cmd
        squeezed = "".join(r.stdout.split())  # click wraps the help text
        assert "configs-NAME/" in squeezed and "results/<id>@NAME/" in squeezed and "GPU-scale" in squeezed, cmd


@pytest.mark.slow
def test_config_set_runs_into_its_own_results_folder_and_site_page(tmp_path):
    tiny_with_small_set(tmp_path)
    r = run_repro("run", f"papers/{PID}", "--workers", "2", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    default = tmp_path / "results" / PID
    before = tree_digest(default)

    dry = run_repro("run", f"papers/{PID}", "--config-set", "small", "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert f"{PID}@small" in dry.stdout and "configs-small" in dry.stdout
    actions = {line.split()[0]: line.split()[1] for line in dry.stdout.splitlines() if "/seed-" in line}
    assert actions == {"baseline/seed-0": "todo", "method/seed-0": "todo"}  # not the default set's cache

    r = run_repro("run", f"papers/{PID}", "--config-set", "small", "--workers", "2", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    small = tmp_path / "results" / f"{PID}@small"
    for config in ("baseline", "method"):
        s = json.loads((small / config / "seed-0" / "summary.json").read_text())
        assert s["status"] == "finished" and s["paper"] == PID
    assert "hidden: 12" in (small / "method" / "seed-0" / "config.yaml").read_text()
    assert "--config-set small" in json.loads((small / "method" / "seed-0" / "env.json").read_text())["command"]
    assert tree_digest(default) == before  # the default set's results are untouched
    assert load_results(tmp_path / "results", PID, "small").finished("method")
    assert "(config set: small)" in (small / "report.md").read_text()
    assert "config set" not in (default / "report.md").read_text()

    again = run_repro("run", f"papers/{PID}", "--config-set", "small", "--no-site", cwd=tmp_path)
    assert again.returncode == 0 and f"all 2 runs of {PID}@small are cached" in again.stdout
    st = run_repro("status", f"papers/{PID}", "--config-set", "small", cwd=tmp_path)
    assert st.returncode == 0 and "2 finished" in st.stdout

    site = tmp_path / "site"
    page = (site / "papers" / f"{PID}@small" / "index.html").read_text()
    assert "config set: small" in page and "configs-small/" in page
    assert "--config-set small" in page
    main = (site / "papers" / PID / "index.html").read_text()
    assert 'href="../0000.00001%40small/index.html"' in main and "config set: small" in main
    index = (site / "index.html").read_text()
    assert 'href="papers/0000.00001%40small/index.html"' in index and "config set: small" in index
    check_site(site)


def test_site_renders_a_set_page_linked_from_the_paper(tmp_path):
    pid = "2001.00001"
    folder = make_paper(tmp_path, pid)
    shutil.copytree(folder / "configs", folder / "configs-gpu")
    make_results(tmp_path, pid)
    make_results(tmp_path / "gpu", pid, rng_seed=1, seeds=(0, 1))
    (tmp_path / "gpu" / "results" / pid).rename(tmp_path / "results" / f"{pid}@gpu")
    # Not a set: an unrelated folder and one for a paper that does not exist.
    (tmp_path / "results" / "9999.99999@gpu").mkdir()

    build_site(tmp_path / "papers", tmp_path / "results", tmp_path / "site", jobs=1)
    site = tmp_path / "site"
    assert check_site(site)["pages"] == 4  # + verdicts.html
    assert not (site / "papers" / "9999.99999@gpu").exists()
    page = (site / "papers" / f"{pid}@gpu" / "index.html").read_text()
    assert "<title>Synthetic paper 2001.00001 — config set: gpu — repro</title>" in page
    assert "the GPU-scale set" in page and f"papers/{pid}/configs-gpu/" in page
    assert f"results/{pid}@gpu/" in page and 'href="../2001.00001/index.html"' in page
    row = json.loads((site / "_index" / f"{pid}@gpu.json").read_text())
    assert row["config_set"] == "gpu" and row["paper_id"] == pid and row["n_runs"] == 8
    default_row = json.loads((site / "_index" / f"{pid}.json").read_text())
    assert default_row["config_set"] is None and default_row["n_runs"] == 20
    index = (site / "index.html").read_text()
    assert index.count("config set: gpu") == 1 and "1 paper " in index
    assert "Not run:" not in (site / "papers" / pid / "index.html").read_text()

    # Rebuilding only the set's page works; its results gone, a full build drops the page.
    build_site(tmp_path / "papers", tmp_path / "results", site, only=[f"{pid}@gpu"], jobs=1)
    shutil.rmtree(tmp_path / "results" / f"{pid}@gpu")
    build_site(tmp_path / "papers", tmp_path / "results", site, jobs=1)
    assert not (site / "papers" / f"{pid}@gpu").exists()
    assert "config set" not in (site / "index.html").read_text()
    page = (site / "papers" / pid / "index.html").read_text()
    # The set is still in the paper folder: the page says it was not run, never silently omits it.
    assert "config set: gpu" not in page
    assert "<strong>Not run:</strong> the config set <code>configs-gpu/</code> (the GPU-scale set)" in page
    assert f"repro run papers/{pid} --config-set gpu" in page


def test_set_results_without_the_set_folder_show_an_error_page(tmp_path):
    pid = "2001.00001"
    make_paper(tmp_path, pid)
    make_results(tmp_path / "gpu", pid, seeds=(0,))
    (tmp_path / "results").mkdir()
    (tmp_path / "gpu" / "results" / pid).rename(tmp_path / "results" / f"{pid}@gpu")
    build_site(tmp_path / "papers", tmp_path / "results", tmp_path / "site", jobs=1)
    page = (tmp_path / "site" / "papers" / f"{pid}@gpu" / "index.html").read_text()
    assert "could not be judged" in page and "configs-gpu" in page
    check_site(tmp_path / "site")
