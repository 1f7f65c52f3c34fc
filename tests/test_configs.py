"""Config loading: merging, key checks against the real classes, YAML errors."""

import pytest

from repro.configs import deep_merge, resolve_configs
from repro.errors import ConfigError, PaperFolderError, YamlError
from repro.paper import load_paper
from repro.runs.planner import code_hash
from repro.signatures import trainer_signature
from helpers.tinypaper import make_tiny_paper


def test_deep_merge_overrides_leaves_and_keeps_siblings():
    base = {"model": {"a": 1, "b": {"c": 2, "d": 3}}, "trainer": {"max_epochs": 5}}
    out = deep_merge(base, {"model": {"b": {"c": 9}}})
    assert out == {"model": {"a": 1, "b": {"c": 9, "d": 3}}, "trainer": {"max_epochs": 5}}
    assert base["model"]["b"]["c"] == 2  # the base is not mutated


def test_resolved_configs_merge_base_and_overrides(tmp_path):
    paper = load_paper(make_tiny_paper(tmp_path, ablations={"wide": "model:\n  hidden: 64\n"}))
    cfgs = {c.name: c for c in resolve_configs(paper)}
    assert list(cfgs) == ["baseline", "method", "wide"]
    assert cfgs["baseline"].model == {"hidden": 4, "lr": 0.1}
    assert cfgs["wide"].model["hidden"] == 64
    assert cfgs["wide"].trainer["max_epochs"] == 3


def test_typo_in_model_key_names_file_key_and_suggestion(tmp_path):
    folder = make_tiny_paper(tmp_path)
    (folder / "configs" / "method.yaml").write_text("model:\n  hiden: 16\n")
    with pytest.raises(ConfigError) as e:
        resolve_configs(load_paper(folder))
    msg = str(e.value)
    assert "method.yaml" in msg and "model.hiden" in msg
    assert "'hidden'" in e.value.hint


def test_a_key_yaml_reads_as_a_bool_is_a_config_error_not_a_crash(tmp_path):
    # `yes:`/`on:` are booleans to YAML: the suggestion must cope with a non-string key.
    folder = make_tiny_paper(tmp_path)
    (folder / "configs" / "method.yaml").write_text("model:\n  on: 16\n")
    with pytest.raises(ConfigError) as e:
        resolve_configs(load_paper(folder))
    assert "method.yaml" in str(e.value) and e.value.hint


def test_typo_in_trainer_key_is_checked_against_lightning(tmp_path):
    folder = make_tiny_paper(tmp_path)
    (folder / "configs" / "baseline.yaml").write_text("trainer:\n  max_epoch: 3\n")
    with pytest.raises(ConfigError) as e:
        resolve_configs(load_paper(folder))
    assert "trainer.max_epoch" in str(e.value) and "max_epochs" in e.value.hint


def test_trainer_signature_read_from_source_matches_the_real_class():
    import inspect

    import lightning

    real = set(inspect.signature(lightning.Trainer.__init__).parameters) - {"self"}
    assert set(trainer_signature().params) == real


def test_unknown_section_and_runner_owned_keys(tmp_path):
    folder = make_tiny_paper(tmp_path)
    (folder / "configs" / "baseline.yaml").write_text("modle:\n  hidden: 3\n")
    with pytest.raises(ConfigError, match="unknown section 'modle'"):
        resolve_configs(load_paper(folder))
    (folder / "configs" / "baseline.yaml").write_text("trainer:\n  callbacks: []\n")
    with pytest.raises(ConfigError, match="set by repro"):
        resolve_configs(load_paper(folder))


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    folder = make_tiny_paper(tmp_path)
    (folder / "configs" / "method.yaml").write_text("model:\n  hidden: 16\n  lr: [0.1\n")
    with pytest.raises(YamlError) as e:
        resolve_configs(load_paper(folder))
    assert e.value.where.startswith(str(folder / "configs" / "method.yaml") + ":")
    assert int(e.value.where.rsplit(":", 1)[1]) >= 3


def test_only_unknown_config_suggests(tmp_path):
    paper = load_paper(make_tiny_paper(tmp_path))
    with pytest.raises(ConfigError) as e:
        resolve_configs(paper, only=["methdo"])
    assert "'method'" in e.value.hint


def test_missing_required_argument(tmp_path):
    folder = make_tiny_paper(tmp_path)
    model = (folder / "model.py").read_text().replace("hidden: int = 8,", "hidden: int = 8, depth: int,")
    (folder / "model.py").write_text(model.replace("def __init__(self, ", "def __init__(self, *, "))
    with pytest.raises(ConfigError, match="needs depth"):
        resolve_configs(load_paper(folder))


def test_paper_folder_missing_files(tmp_path):
    folder = make_tiny_paper(tmp_path)
    (folder / "data.py").unlink()
    with pytest.raises(PaperFolderError, match="missing data.py"):
        load_paper(folder)
    with pytest.raises(PaperFolderError, match="no paper folder"):
        load_paper(tmp_path / "nope")


def test_notes_and_descriptions_are_not_run_inputs(tmp_path):
    # A tuning log written while runs are going must not orphan them; data files must count.
    folder = make_tiny_paper(tmp_path, seeds=(0,))
    paper = load_paper(folder)
    before = code_hash(paper)
    (folder / "TUNING.md").write_text("# what was tried\n")
    (folder / "notes").mkdir()
    (folder / "notes" / "seed4.md").write_text("an outlier\n")
    (folder / "REVIEW.md").write_text("reviewed\n")
    assert code_hash(paper) == before
    (folder / "vocab.txt").write_text("a b c\n")
    assert code_hash(paper) != before
