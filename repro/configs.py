"""Configs: `configs/base.yaml` plus one small override file per config.

A paper may have other config sets with the same layout, `configs-<set>/` (e.g. configs-gpu/),
read instead of configs/ when the paper is loaded with that set (`--config-set <set>`).

A config file has up to five sections:

    model:      keyword arguments of the LightningModule in model.py
    data:       keyword arguments of the LightningDataModule in data.py
    trainer:    keyword arguments of lightning.Trainer
    resources:  repro's own: timeout_s, gpu_mem_gb
    description: one line saying what this config is

Overrides are deep-merged onto base.yaml. Every key is checked against what the classes
accept (read from source, see signatures.py) before anything runs; a typo names the file,
the key and the closest valid names.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError, suggest
from .paper import Paper
from .signatures import Signature, find_lightning_class, trainer_signature
from .yamlio import load_mapping

SECTIONS = ("model", "data", "trainer", "resources", "description")
RESOURCE_KEYS = ("timeout_s", "gpu_mem_gb", "cpus", "checkpoint_every_s")
# The runner owns these Trainer arguments: it wires logging, checkpoints and progress.
RUNNER_OWNED_TRAINER_KEYS = (
    "callbacks", "logger", "default_root_dir", "enable_checkpointing",
    "enable_progress_bar", "enable_model_summary",
)


@dataclass
class ResolvedConfig:
    name: str
    path: Path
    values: dict[str, Any]  # all five sections, merged

    @property
    def model(self) -> dict[str, Any]:
        return self.values["model"]

    @property
    def data(self) -> dict[str, Any]:
        return self.values["data"]

    @property
    def trainer(self) -> dict[str, Any]:
        return self.values["trainer"]

    @property
    def resources(self) -> dict[str, Any]:
        return self.values["resources"]


def deep_merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in override.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _suggest(key: Any, valid: list[str]) -> str:
    return suggest(key, valid, otherwise="valid keys: " + ", ".join(sorted(valid)) if valid else "this section takes no keys")


def _check_section(path: Path, section: str, values: dict, sig: Signature) -> None:
    for key in values:
        if section == "trainer" and key in RUNNER_OWNED_TRAINER_KEYS:
            raise ConfigError(
                f"trainer.{key} is set by repro's runner and cannot be configured",
                where=str(path),
            )
        if sig.var_kwargs or key in sig.params:
            continue
        raise ConfigError(
            f"unknown key {section}.{key}: {sig.owner} does not accept it",
            hint=_suggest(key, list(sig.params)),
            where=str(path),
        )


def check_file(path: Path, raw: dict, sigs: dict[str, Signature]) -> None:
    """Check one config file's keys (base or override)."""
    for section, values in raw.items():
        if section not in SECTIONS:
            raise ConfigError(
                f"unknown section {section!r}",
                hint=_suggest(section, list(SECTIONS)),
                where=str(path),
            )
        if section == "description":
            continue
        if values is None:
            continue
        if not isinstance(values, dict):
            raise ConfigError(
                f"section {section!r} must be a mapping of keys to values", where=str(path)
            )
        if section == "resources":
            for key in values:
                if key not in RESOURCE_KEYS:
                    raise ConfigError(
                        f"unknown key resources.{key}",
                        hint=_suggest(key, list(RESOURCE_KEYS)),
                        where=str(path),
                    )
            continue
        _check_section(path, section, values, sigs[section])


def signatures(paper: Paper) -> dict[str, Signature]:
    _, model_sig = find_lightning_class(paper.root / "model.py", "LightningModule")
    _, data_sig = find_lightning_class(paper.root / "data.py", "LightningDataModule")
    return {"model": model_sig, "data": data_sig, "trainer": trainer_signature()}


def resolve_configs(paper: Paper, only: list[str] | None = None) -> list[ResolvedConfig]:
    """Every config of the paper (or those named in `only`), merged and checked."""
    sigs = signatures(paper)
    cdir = paper.configs_dir  # configs/, or configs-<set>/ with --config-set
    base_path = cdir / "base.yaml"
    base = load_mapping(base_path)
    check_file(base_path, base, sigs)
    files = paper.config_files()
    if not files:
        raise ConfigError(
            f"no configs to run: add {cdir.name}/baseline.yaml, {cdir.name}/method.yaml "
            f"or {cdir.name}/ablations/<name>.yaml",
            where=str(cdir),
        )
    if only:
        unknown = [n for n in only if n not in files]
        if unknown:
            raise ConfigError(
                f"no config named {', '.join(map(repr, unknown))}",
                hint=_suggest(unknown[0], list(files)),
                where=str(cdir),
            )
        files = {n: p for n, p in files.items() if n in only}
    out = []
    for name, path in files.items():
        override = load_mapping(path)
        check_file(path, override, sigs)
        merged = deep_merge(base, override)
        values = {s: dict(merged.get(s) or {}) for s in SECTIONS if s != "description"}
        values["description"] = merged.get("description", "")
        for section in ("model", "data"):
            missing = [r for r in sigs[section].required if r not in values[section]]
            if missing:
                raise ConfigError(
                    f"{sigs[section].owner} needs {', '.join(missing)} but the config does not set it",
                    hint=f"add it under `{section}:` in {cdir.name}/base.yaml",
                    where=str(path),
                )
        out.append(ResolvedConfig(name=name, path=path, values=values))
    return out
