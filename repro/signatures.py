"""What a paper's classes and Lightning's Trainer accept, read from source with `ast`.

Config keys are checked before anything runs, and a run with nothing to do must not pay
for importing torch and lightning. So the keyword arguments are read from the source
text: the paper's `model.py` / `data.py`, and the installed `lightning` package's
`Trainer.__init__` (located with `importlib.util.find_spec`, which does not import it).
"""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .errors import PaperFolderError


@dataclass(frozen=True)
class Signature:
    owner: str                   # "model.py: class Model(LightningModule)"
    params: tuple[str, ...]      # keyword-acceptable parameter names
    required: tuple[str, ...]    # parameters without defaults
    var_kwargs: bool             # accepts **kwargs: any key goes


def _init_signature(cls: ast.ClassDef, owner: str) -> Signature:
    for node in cls.body:
        if isinstance(node, ast.FunctionDef) and node.name == "__init__":
            a = node.args
            positional = [p.arg for p in a.posonlyargs + a.args][1:]  # drop self
            kwonly = [p.arg for p in a.kwonlyargs]
            n_pos_defaults = len(a.defaults)
            pos_required = positional[: len(positional) - n_pos_defaults] if n_pos_defaults else positional
            kw_required = [p.arg for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is None]
            posonly = {p.arg for p in a.posonlyargs}
            params = tuple(p for p in positional + kwonly if p not in posonly)
            return Signature(owner, params, tuple(pos_required + kw_required), a.kwarg is not None)
    return Signature(owner, (), (), False)  # no __init__: takes no arguments


def _base_names(cls: ast.ClassDef) -> list[str]:
    names = []
    for b in cls.bases:
        if isinstance(b, ast.Name):
            names.append(b.id)
        elif isinstance(b, ast.Attribute):
            names.append(b.attr)
    return names


def find_lightning_class(path: Path, base: str) -> tuple[str, Signature]:
    """The single top-level class in `path` deriving from `base` (e.g. LightningModule)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as e:
        raise PaperFolderError(f"Python syntax error: {e.msg}", where=f"{path}:{e.lineno}") from None
    except FileNotFoundError:
        raise PaperFolderError(f"file not found: {path}", where=str(path)) from None
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef) and base in _base_names(n)]
    if not classes:
        raise PaperFolderError(
            f"no class deriving from {base} in {path.name}",
            hint=f"define one top-level `class ...({base})`",
            where=str(path),
        )
    if len(classes) > 1:
        names = ", ".join(c.name for c in classes)
        raise PaperFolderError(
            f"several {base} classes in {path.name} ({names}); repro needs exactly one",
            where=str(path),
        )
    cls = classes[0]
    return cls.name, _init_signature(cls, f"{path.name}: class {cls.name}({base})")


@lru_cache(maxsize=1)
def trainer_signature() -> Signature:
    """lightning.Trainer's keyword arguments, from its source file."""
    spec = importlib.util.find_spec("lightning")
    if spec is None or not spec.submodule_search_locations:
        raise PaperFolderError("the `lightning` package is not installed", hint="pip install lightning")
    root = Path(list(spec.submodule_search_locations)[0])
    src = root / "pytorch" / "trainer" / "trainer.py"
    tree = ast.parse(src.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Trainer":
            return _init_signature(node, "lightning.Trainer")
    raise PaperFolderError(f"could not find class Trainer in {src}")
