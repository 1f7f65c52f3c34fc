"""Write a new paper folder from templates/scaffold/ (Jinja2), atomically.

The folder is built in a temporary sibling (`papers/.<id>.tmp-*`) and renamed into place,
so a failure leaves no half-written folder; an existing folder is replaced only with
`force=True` (the old one is moved aside first and removed only after the rename).
Every YAML file is parsed back before the rename: a template bug cannot ship broken YAML.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..atomic import atomic_write_text
from ..errors import PaperFolderError
from ..names import slug
from ..templating import jinja_env

# What the toy model logs (model.py.j2), with the direction that is better.
TOY_METRICS: tuple[tuple[str, str], ...] = (
    ("val_acc", "max"), ("val_loss", "min"), ("train_acc", "max"), ("train_loss", "min"),
)
TOY_PROXY = ("toy stand-in written by `repro new`: a residual MLP on generated Gaussian blobs, "
             "not the paper's model or data; replace model.py and data.py")
RESERVED = ("base", "baseline", "method")

# Paper setting names (as tables and text spell them) -> the toy model's keyword, with the
# range in which the toy can use the paper's value as is.
_TOY_KEYS: dict[str, tuple[str, float, float, type]] = {}
for _names, _key, _lo, _hi, _typ in (
    (("dropout", "p_drop", "pdrop", "dropout_rate", "drop"), "dropout", 0.0, 0.95, float),
    (("label_smoothing", "eps_ls", "epsilon_ls", "ls", "ε_ls", "epsls"), "label_smoothing", 0.0, 0.95, float),
    (("num_layers", "n_layers", "layers", "n", "depth"), "num_layers", 0, 12, int),
    (("hidden_dim", "hidden_size", "hidden", "d_model", "dmodel", "width"), "hidden_dim", 2, 1024, int),
):
    for _n in _names:
        _TOY_KEYS[_n] = (_key, _lo, _hi, _typ)


@dataclass
class ScaffoldData:
    """Everything the templates need; built by `repro new`."""

    folder: str                               # normalised id or name: the folder name
    meta: dict[str, Any]                      # paper.yaml's top fields
    links: dict[str, list[str]] = field(default_factory=lambda: {"code": [], "data": [], "project": []})
    tables: list[Any] = field(default_factory=list)       # extract.tables.Table
    claims: list[dict[str, Any]] = field(default_factory=list)
    ablations: dict[str, dict[str, Any]] = field(default_factory=dict)
    hparams: list[Any] = field(default_factory=list)      # extract.hparams.Hparam
    pages: list[str] | None = None            # PDF text, kept as paper.txt
    arxiv_id: str | None = None               # "1706.03762v7" for the REVIEW.md link; None off arXiv
    family: Any = None                        # families.FamilyPlan: the paper's architecture; None: the toy


@dataclass
class ScaffoldResult:
    path: Path
    files: list[str]
    claims: list[dict[str, Any]]
    ablations: list[str]


# The folder's files, each rendered from templates/scaffold/<name>.j2 (ablation configs apart).
_FILES = ("paper.yaml", "claims.yaml", "configs/base.yaml", "configs/baseline.yaml", "configs/method.yaml",
          "model.py", "data.py", "REVIEW.md", "report.md.j2")


# -- Jinja filters -------------------------------------------------------------------------

def _yaml_inline(value: Any) -> str:
    """A YAML flow scalar/sequence on one line, safely quoted (paper text can hold anything)."""
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=float("inf"))
    text = text.strip()
    if text.endswith("\n..."):
        text = text[: -len("\n...")]
    if text.endswith("..."):
        text = text[: -3].rstrip()
    return text


def _yaml_block(value: Any, indent: int = 0) -> str:
    # libyaml's emitter when there is one (the same text; claims.yaml was most of the scaffold's time)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text = yaml.dump(value, Dumper=dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)
    pad = " " * indent
    return "\n".join(pad + line if line else line for line in text.rstrip("\n").splitlines())


def _printable(value: Any) -> str:
    return "".join(c if c.isprintable() else " " for c in str(value))


def _comment(value: Any, limit: int = 200) -> str:
    """Text safe inside a one-line `#` comment."""
    text = " ".join(_printable(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _pydoc(value: Any) -> str:
    """Text safe inside a Python triple-quoted docstring."""
    text = " ".join(_printable(value).split()).replace("\\", "/").replace('"""', "'''")
    return text.rstrip('"')


def _md(value: Any) -> str:
    """Paper text for Markdown: no raw HTML, one paragraph."""
    text = " ".join(_printable(value or "").split())
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _env():
    env = jinja_env(html=False)
    env.filters.update(yaml=_yaml_inline, yaml_block=_yaml_block, comment=_comment, pydoc=_pydoc, md=_md)
    return env


# -- claims and configs --------------------------------------------------------------------

def toy_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """The paper settings the toy model can take as they are ({'P_drop': 0.0} -> {'dropout': 0.0})."""
    out: dict[str, Any] = {}
    for k, v in (settings or {}).items():
        key = re.sub(r"[\s{}\\$]", "", str(k)).lower()
        if key not in _TOY_KEYS or isinstance(v, bool):
            continue
        toy_key, lo, hi, typ = _TOY_KEYS[key]
        try:
            num = float(v)
        except (TypeError, ValueError):
            continue
        if not (lo <= num <= hi) or (typ is int and num != int(num)):
            continue
        out[toy_key] = typ(num)
    return out


def plan_ablations(ablations: dict[str, dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """File-safe, unique ablation names; returns (name -> spec, old name -> new name)."""
    planned: dict[str, dict[str, Any]] = {}
    renames: dict[str, str] = {}
    for old, spec in (ablations or {}).items():
        base = slug(old, limit=60, fallback="ablation")
        if base in RESERVED:
            base += "-ablation"
        name, i = base, 2
        while name in planned:
            name, i = f"{base}-{i}", i + 1
        spec = spec if isinstance(spec, dict) else {}
        planned[name] = spec
        renames[str(old)] = name
    return planned, renames


def prepare_claims(claims: list[dict[str, Any]], configs: set[str], metrics: set[str],
                   renames: dict[str, str]) -> list[dict[str, Any]]:
    """Claims as claims.yaml takes them: unique ids, status candidate, config null + note
    when the scaffold cannot run them (unknown config, or a metric model.py does not log)."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, raw in enumerate(claims or []):
        if not isinstance(raw, dict):
            continue
        c = dict(raw)
        cid, n = slug(c.get("id") or f"claim-{i + 1}", limit=60, fallback=f"claim-{i + 1}"), 2
        base_id = cid
        while cid in seen:
            cid, n = f"{base_id}-{n}", n + 1
        seen.add(cid)
        c["id"] = cid
        c["status"] = "candidate"  # never confirmed by a machine
        kind = c.get("kind", "value")
        metric = c.get("metric")
        notes = [str(c["note"])] if c.get("note") else []
        unlogged = metric is not None and metric not in metrics
        if kind == "value":
            cfg = c.get("config")
            cfg = renames.get(str(cfg), cfg) if cfg is not None else None
            if cfg is not None and (cfg not in configs or unlogged):
                why = (f"model.py does not log {metric!r} yet" if unlogged
                       else f"there is no config {cfg!r}")
                notes.append(f"cannot run on the scaffold: {why}; set config: {cfg} once it can")
                cfg = None
            elif cfg is None and not notes:
                notes.append("no config in this reproduction runs this claim")
            c["config"] = cfg
        else:
            for key in ("a", "b"):
                if c.get(key) is not None:
                    c[key] = renames.get(str(c[key]), c[key])
            if isinstance(c.get("configs"), list):
                c["configs"] = [renames.get(str(x), x) for x in c["configs"]]
            refs = [c.get("a"), c.get("b")] + list(c.get("configs") or [])
            missing = [r for r in refs if r is not None and r not in configs]
            if unlogged and kind == "comparison" and c.get("a") is not None:
                # an ablation's comparison on the paper's metric: kept, not run, until model.py logs it
                notes.append(f"cannot run on the scaffold: model.py does not log {metric!r} yet; "
                             f"set a: {c['a']}, b: {c.get('b')} once it does")
                c["a"] = c["b"] = None
            elif unlogged:
                notes.append(f"model.py does not log {metric!r} yet")
            if missing:
                notes.append("no config named " + ", ".join(map(str, missing)))
        c["note"] = "; ".join(notes) if notes else None
        out.append(c)
    return out


# -- writing -------------------------------------------------------------------------------

def render_files(data: ScaffoldData) -> tuple[dict[str, str], list[dict[str, Any]], list[str]]:
    """Relative path -> text for every file of the folder (nothing written)."""
    env = _env()
    plan = data.family
    metrics = dict(plan.metrics if plan is not None else TOY_METRICS)
    ablations, renames = plan_ablations(data.ablations)
    configs = {"baseline", "method", *ablations}
    claims = prepare_claims(data.claims, configs, set(metrics), renames)
    hp_by_key = {getattr(h, "key", None): getattr(h, "value", None) for h in data.hparams}
    toy = {"dropout": 0.0, "label_smoothing": 0.0}
    toy.update({k: v for k, v in toy_settings(hp_by_key).items() if k in toy})
    ctx = {
        "folder": data.folder,
        "arxiv_id": data.arxiv_id,
        "meta": data.meta,
        "links": {k: list(data.links.get(k, [])) for k in ("code", "data", "project")},
        "metrics": list(metrics.items()),
        "metric_names": list(metrics),
        "proxy": plan.proxy_note if plan is not None else TOY_PROXY,
        "claims": claims,
        "hparams": data.hparams,
        "toy": toy,
        "tables": data.tables,
        "n_tables": len(data.tables),
        "n_claims": len(claims),
        "n_runnable": sum(1 for c in claims if c.get("config") or (c.get("kind") != "value" and not c.get("note"))),
        "n_hparams": len(data.hparams),
        "today": _dt.date.today().isoformat(),
    }
    # each file from templates/scaffold/<file>.j2
    files = {name: env.get_template(f"scaffold/{name}.j2").render(ctx) for name in _FILES}
    abl_t = env.get_template("scaffold/configs/ablation.yaml.j2")
    for name, spec in ablations.items():
        settings = spec.get("paper_settings") or {}
        files[f"configs/ablations/{name}.yaml"] = abl_t.render(
            name=name,
            description=str(spec.get("description") or f"ablation {name}"),
            paper_settings=settings if isinstance(settings, dict) else {},
            model=toy_settings(settings if isinstance(settings, dict) else {}),
            claim_ids=[str(x) for x in spec.get("claims") or []],
        )
    if plan is not None:  # the family's model, data and configs replace the toy's
        for rel, text in plan.files(ablations).items():
            if text is None:
                files.pop(rel, None)
            else:
                files[rel] = text
    if data.pages is not None:
        from .pdftext import PAGE_MARK

        files["paper.txt"] = PAGE_MARK.join(t.rstrip() + "\n" for t in data.pages)
    # libyaml's parser when there is one: checking the files was a third of `repro new`'s own time
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for rel, text in files.items():
        if rel.endswith(".yaml"):
            try:
                yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
            except yaml.YAMLError as e:  # a template bug, not a user mistake
                raise RuntimeError(f"scaffold template produced invalid YAML for {rel}: {e}") from e
    return files, claims, list(ablations)


def write_scaffold(papers_dir: str | Path, data: ScaffoldData, *, force: bool = False) -> ScaffoldResult:
    """Write papers_dir/<folder>/ from the templates; refuse to replace it unless `force`."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", data.folder) or ".." in data.folder:
        raise PaperFolderError(f"{data.folder!r} is not a valid paper folder name")
    papers_dir = Path(papers_dir)
    target = papers_dir / data.folder
    if (target.exists() or target.is_symlink()) and not force:
        raise PaperFolderError(
            f"{target} already exists",
            hint="nothing was changed; pass --force to replace it (your edits there would be lost)",
            where=str(target),
        )
    files, claims, ablations = render_files(data)
    papers_dir.mkdir(parents=True, exist_ok=True)
    # Not mkdtemp: its 0700 mode would stick to the paper folder after the rename.
    tmp = papers_dir / f".{data.folder}.tmp-{secrets.token_hex(6)}"
    tmp.mkdir()
    old: Path | None = None
    try:
        for rel, text in files.items():
            atomic_write_text(tmp / rel, text)
        (tmp / "configs" / "ablations").mkdir(parents=True, exist_ok=True)
        if target.exists() or target.is_symlink():
            old = papers_dir / f".{data.folder}.old-{secrets.token_hex(6)}"
            target.rename(old)
        tmp.rename(target)
    except BaseException:
        if old is not None and not target.exists():
            old.rename(target)  # put the user's folder back
            old = None
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        if old.is_symlink() or old.is_file():
            old.unlink()
        else:
            shutil.rmtree(old, ignore_errors=True)
    return ScaffoldResult(target, sorted(files), claims, ablations)

