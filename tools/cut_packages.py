#!/usr/bin/env python3
"""Cut the `repro` package by pipeline (issue 20, item 7): a one-off dev tool.

    python tools/cut_packages.py            # at the repository root, on a clean tree
    python tools/cut_packages.py --dry-run  # print what it would do, change nothing

It `git mv`s the modules named in MOVES below, then rewrites every reference to them:

- imports inside repro/ (relative ones are re-expressed from the module's new place) and
  `from repro import x` / `from repro.x import y` anywhere (tests, bench, tools);
- dotted names in any text: `import repro.x`, monkeypatch targets, `-m repro.x`,
  `python -m repro.x` in docs, "repro.x" in test lists of modules that must not import torch;
- paths `repro/x.py`, `repro/x/` in any tracked text file (README, ARCHITECTURE, bench/README,
  docs/, templates/, .ci/, pyproject.toml);
- package-relative paths in lines that name RUN_MODULES (planner's cache-key hash list and
  the tests and docs that quote it);
- `Path(__file__).parent` / `.parents[n]` in moved modules, and `Path(m.__file__)...` where
  `m` is a moved module, when the path climbs out of what moved (a module one level deeper
  needs one more `parent` to reach the same folder);
- ARCHITECTURE.md's "## Modules" table, regrouped by package.

Any module of repro/ that is neither in MOVES nor in KEEP is listed and left in place: add it
to one of them and run again. It refuses to run on a tree with uncommitted changes to tracked
files (so an interrupted run is undone with `git reset --hard` and `git clean -fd repro/`), and
running it again after committing is a no-op. Outputs (results/, site/) and paper folders'
code (cache-key inputs) are never rewritten. Delete this file once the cut is merged.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import subprocess
import sys
from pathlib import Path

PKG = "repro"

# old path -> new path, both relative to repro/. A folder moves with everything in it.
MOVES: dict[str, str] = {
    # literature/: an arXiv id -> a runnable paper folder (`repro new`, `repro check`'s arch part)
    "arxiv_ids.py": "literature/arxiv_ids.py",
    "fetch.py": "literature/fetch.py",
    "archive.py": "literature/archive.py",
    "sandbox.py": "literature/sandbox.py",
    "pdftext.py": "literature/pdftext.py",
    "links.py": "literature/links.py",
    "extract": "literature/extract",
    "scaffold.py": "literature/scaffold.py",
    "families": "literature/families",
    "newpaper.py": "literature/newpaper.py",
    "archcheck.py": "literature/archcheck.py",
    # runs/: configs x seeds planned, executed, cached, resumed, tracked (`repro run/status/track`)
    "planner.py": "runs/planner.py",
    "sweep.py": "runs/sweep.py",
    "training.py": "runs/training.py",
    "worker.py": "runs/worker.py",
    "interrupts.py": "runs/interrupts.py",
    "lock.py": "runs/lock.py",
    "progress.py": "runs/progress.py",
    "tracking.py": "runs/tracking.py",
    "executors": "runs/executors",
    "trackers.py": "runs/trackers.py",
    "status.py": "runs/status.py",
    "callbacks.py": "runs/callbacks.py",
    "paper_code.py": "runs/paper_code.py",
    "diskfull.py": "runs/diskfull.py",
    "worker_messages.py": "runs/worker_messages.py",
    # judging/: statistics, verdicts, report.md and the site (`repro report/site/check`).
    # Not `judge/`: `repro.judge` is the public function (repro/__init__.py), and importing a
    # subpackage of that name would replace it as an attribute of `repro`.
    "stats.py": "judging/stats.py",
    "verdicts.py": "judging/verdicts.py",
    "decide.py": "judging/decide.py",
    "flags.py": "judging/flags.py",
    "sequential.py": "judging/sequential.py",
    "report.py": "judging/report.py",
    "report_text.py": "judging/report_text.py",
    "site": "judging/site",
}

# Stay at the top: the entry points, the public API, the shared records and helpers.
KEEP: set[str] = {
    "__init__.py", "__main__.py", "cli.py", "api.py", "commands",
    "errors.py", "atomic.py", "yamlio.py", "names.py", "numfmt.py", "clock.py", "templating.py",
    "envinfo.py", "paper.py", "configs.py", "signatures.py", "results.py", "claims.py",
    "claim_types.py", "verdict_types.py",
}

NEW_PACKAGES: dict[str, str] = {
    "literature": "A paper into a runnable folder (`repro new`): arXiv ids and downloads, safe\n"
                  "archive and PDF reading, extraction of tables, claims and hyperparameters, the\n"
                  "scaffold and its architecture family, and the architecture check (archcheck,\n"
                  "which builds models on torch's meta device).",
    "runs": "Configs x seeds planned, executed, cached and resumed (`repro run`, `status`, `track`):\n"
            "the planner and its cache key, the sweep, the training loop and its workers, the\n"
            "executors, locks, interrupts, progress and trackers. torch and Lightning are imported\n"
            "by training.py, in a run's own process (and by tracking.py when it sends runs).",
    "judging": "Claims judged against runs (`repro report`, `site`, `check`): statistics, verdicts,\n"
               "flags for tests that cannot fail, sequential looks, report.md and the static site.",
}

# ARCHITECTURE.md's module map: one table per package, in this order.
GROUPS: list[tuple[str, str]] = [
    ("", "### `repro/`: entry points, the library API, the shared records and helpers"),
    ("literature", "### `repro/literature/`: a paper into a folder (`repro new`)"),
    ("runs", "### `repro/runs/`: planning, running and caching runs (`repro run`, `status`, `track`)"),
    ("judging", "### `repro/judging/`: statistics, verdicts, report and site (`repro report`, `site`, `check`)"),
]
TABLE_HEAD = ["| module | does |", "| --- | --- |"]

TEXT_SUFFIXES = {".py", ".md", ".toml", ".txt", ".cfg", ".ini", ".yaml", ".yml", ".sh", ".j2",
                 ".html", ".rst", ".in", ""}
OUTPUT_PREFIXES = ("results/", "results-", "site/")  # generated by repro (envinfo.OUTPUT_DIRS)
SELF = "tools/cut_packages.py"


def say(msg: str) -> None:
    print(msg, flush=True)


def git(*args: str, check: bool = True) -> str:
    r = subprocess.run(["git", *args], capture_output=True, text=True)
    if check and r.returncode != 0:
        sys.exit(f"git {' '.join(args)} failed: {r.stderr.strip()}")
    return r.stdout


# -- module names --------------------------------------------------------------------------

def dotted(rel: str) -> str:
    """'runs/executors/ddp.py' -> 'repro.runs.executors.ddp'; 'site' -> 'repro.site'."""
    parts = rel[:-3].split("/") if rel.endswith(".py") else rel.rstrip("/").split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([PKG, *parts])


def walk_modules(root: Path) -> set[str]:
    out = {PKG}
    for p in root.rglob("*.py"):
        if "__pycache__" in p.parts:
            continue
        out.add(dotted(p.relative_to(root).as_posix()))
    return out


DOT_MOVES = {dotted(old): dotted(new) for old, new in MOVES.items()}


def new_name(name: str) -> str:
    for old, new in DOT_MOVES.items():
        if name == old or name.startswith(old + "."):
            return new + name[len(old):]
    return name


def old_name(name: str) -> str:
    for old, new in DOT_MOVES.items():
        if name == new or name.startswith(new + "."):
            return old + name[len(new):]
    return name


def check_table() -> None:
    olds, news = set(DOT_MOVES), set(DOT_MOVES.values())
    for n in news:  # a new name must never be read as an old one (idempotence)
        parts = n.split(".")
        clash = [".".join(parts[:i]) for i in range(2, len(parts) + 1) if ".".join(parts[:i]) in olds]
        if clash:
            sys.exit(f"MOVES: new name {n} starts with the old name {clash[0]}")
    both = set(MOVES) & KEEP
    if both:
        sys.exit(f"in both MOVES and KEEP: {sorted(both)}")


# -- imports -------------------------------------------------------------------------------

def package_of(mod: str, is_pkg: bool) -> str:
    return mod if is_pkg else mod.rpartition(".")[0]


def relative(target: str, pkg: str) -> str:
    """`target` as seen from inside package `pkg` ('repro.atomic' from 'repro.runs' -> '..atomic')."""
    t, p = target.split("."), pkg.split(".")
    common = 0
    while common < min(len(t), len(p)) and t[common] == p[common]:
        common += 1
    return "." * (len(p) - common + 1) + ".".join(t[common:])


def rewrite_imports(src: str, cur_mod: str | None, orig_mod: str | None, is_pkg: bool,
                    modules: set[str], where: str, log: list[str]) -> str:
    """Re-point `from X import a, b` statements. cur_mod/orig_mod: this file's module name now
    and before the move (None outside repro/: relative imports are left alone)."""
    try:
        tree = ast.parse(src)
    except SyntaxError as e:
        log.append(f"  ! {where}: not parsed ({e.msg}); imports left as they are")
        return src
    lines = src.splitlines(keepends=True)
    edits: list[tuple[int, int, list[str]]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level == 0:
            if not node.module or not (node.module == PKG or node.module.startswith(PKG + ".")):
                continue
            base = node.module
        else:
            if cur_mod is None:
                continue
            pkg = package_of(orig_mod or cur_mod, is_pkg).split(".")
            if node.level - 1 >= len(pkg):
                log.append(f"  ! {where}:{node.lineno}: relative import above the package; left")
                continue
            base = ".".join(pkg[: len(pkg) - (node.level - 1)] + ([node.module] if node.module else []))
        groups: dict[str, list[ast.alias]] = {}
        for a in node.names:
            full = f"{base}.{a.name}"
            src_mod = new_name(full).rpartition(".")[0] if full in modules else new_name(base)
            groups.setdefault(src_mod, []).append(a)
        if node.level == 0:
            rendered = {m: m for m in groups}
        else:
            here = package_of(cur_mod, is_pkg)
            rendered = {m: relative(m, here) for m in groups}
        original = ("." * node.level) + (node.module or "")
        if len(groups) == 1 and next(iter(rendered.values())) == original:
            continue
        first = lines[node.lineno - 1]
        if len(groups) == 1:
            new_from = next(iter(rendered.values()))
            pat = re.compile(r"(\bfrom\s+)" + re.escape(original) + r"(\s+import\b)")
            m = pat.search(first, node.col_offset)
            if not m:
                log.append(f"  ! {where}:{node.lineno}: could not find `from {original} import`; left")
                continue
            new_line = first[: m.start()] + m.group(1) + new_from + m.group(2) + first[m.end():]
            edits.append((node.lineno, node.lineno, [new_line]))
            log.append(f"  {where}:{node.lineno}: from {original} -> from {new_from}")
            continue
        # Names now in different modules: one statement per module.
        indent = first[: len(first) - len(first.lstrip())]
        if first[len(indent):len(indent) + 4] != "from" or node.col_offset != len(indent):
            log.append(f"  ! {where}:{node.lineno}: shares its line with other code; left")
            continue
        last = lines[node.end_lineno - 1]
        comment = ""
        if "#" in last:
            comment = "  #" + last.split("#", 1)[1].rstrip("\n")
        new_lines = []
        for m, names in groups.items():
            ns = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in names)
            new_lines.append(f"{indent}from {rendered[m]} import {ns}{comment}\n")
        edits.append((node.lineno, node.end_lineno, new_lines))
        log.append(f"  {where}:{node.lineno}: from {original} split into "
                   + "; ".join(f"from {rendered[m]}" for m in groups))
    for start, end, new_lines in sorted(edits, reverse=True):
        lines[start - 1:end] = new_lines
    return "".join(lines)


# -- Path(__file__) climbing out of what moved ---------------------------------------------

CLIMB = re.compile(r"(Path\((?P<who>[\w.]*?)__file__\)(?:\.resolve\(\))?)"
                   r"(?P<up>(?:\.parent(?![\w\[]))+|\.parents\[(?P<n>\d+)\])")


def moved_units(moved: dict[str, tuple[str, str]]) -> dict[str, tuple[int, int]]:
    """new module name -> (folders inside what moved, extra depth), for modules moved now."""
    out = {}
    for new_mod, (old_rel, unit) in moved.items():
        unit_parts = unit.rstrip("/").split("/")
        old_parts = old_rel.split("/")
        inside = len(old_parts) - len(unit_parts)  # folders of the moved unit above the file
        k = len(MOVES[unit].split("/")) - len(unit_parts)
        out[new_mod] = (inside, k)
    return out


def aliases(src: str, cur_mod: str | None, is_pkg: bool, modules: set[str]) -> dict[str, str]:
    """Local name -> module name, for names bound to repro modules by this file's imports."""
    out: dict[str, str] = {}
    try:
        tree = ast.parse(src)
    except SyntaxError:
        return out
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module or ""
            elif cur_mod is not None:
                pkg = package_of(cur_mod, is_pkg).split(".")
                base = ".".join(pkg[: len(pkg) - (node.level - 1)] + ([node.module] if node.module else []))
            else:
                continue
            for a in node.names:
                if f"{base}.{a.name}" in modules:
                    out[a.asname or a.name] = f"{base}.{a.name}"
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.asname and a.name in modules:
                    out[a.asname] = a.name
    return out


def fix_climbs(src: str, self_mod: str | None, units: dict[str, tuple[int, int]],
               names: dict[str, str], where: str, log: list[str]) -> str:
    def sub(m: re.Match) -> str:
        who = m.group("who").rstrip(".")
        mod = self_mod if who == "" else names.get(who)
        if mod not in units:
            return m.group(0)
        inside, k = units[mod]
        n = int(m.group("n")) if m.group("n") is not None else m.group("up").count(".parent") - 1
        if n < inside or k == 0:
            return m.group(0)  # stays within what moved
        new = f"{m.group(1)}.parents[{n + k}]"
        log.append(f"  {where}: {m.group(0)} -> {new}")
        return new

    return CLIMB.sub(sub, src)


# -- text rewrites -------------------------------------------------------------------------

def text_rules():
    """(regex, replace) for dotted names and paths of moved modules."""
    tops = sorted({old.split("/")[0].removesuffix(".py") for old in MOVES}, key=len, reverse=True)
    dot_re = re.compile(r"(?<![\w.])" + PKG + r"\.(" + "|".join(map(re.escape, tops)) + r")(?![\w])")

    def dot_sub(m: re.Match) -> str:
        return new_name(f"{PKG}.{m.group(1)}")

    keys = sorted(MOVES, key=len, reverse=True)
    alts = [re.escape(k) + (r"(?![\w])" if k.endswith(".py") else r"(?![\w.])") for k in keys]
    path_re = re.compile(r"(?<![\w.\-/])" + PKG + r"/(?:" + "|".join(f"(?P<k{i}>{a})" for i, a in enumerate(alts)) + ")")

    def path_sub(m: re.Match) -> str:
        for i, k in enumerate(keys):
            if m.group(f"k{i}") is not None:
                return f"{PKG}/{MOVES[k]}"
        return m.group(0)

    # package-relative paths (or bare module names) quoted in a line that names RUN_MODULES
    run_re = re.compile(r"""(["'`])([\w/]+(?:\.py)?)\1""")

    def run_sub(m: re.Match) -> str:
        q, rel = m.group(1), m.group(2)
        for old, new in MOVES.items():
            if rel == old or (not old.endswith(".py") and rel.startswith(old + "/")):
                return q + new + rel[len(old):] + q
            if old.endswith(".py") and rel + ".py" == old:
                return q + new.removesuffix(".py") + q
        return m.group(0)

    return dot_re, dot_sub, path_re, path_sub, run_re, run_sub


FROM_PKG = re.compile(r"\bfrom (" + PKG + r"(?:\.\w+)*) import (\w+(?:, *\w+)*)")


def from_pkg_in_text(line: str, modules: set[str], where: str, log: list[str]) -> str:
    """`from repro import training` inside strings (code run by `python -c`, bench scripts):
    the statements ast sees are rewritten already."""
    def sub(m: re.Match) -> str:
        base, names = m.group(1), [n.strip() for n in m.group(2).split(",")]
        groups: dict[str, list[str]] = {}
        for n in names:
            full = f"{base}.{n}"
            groups.setdefault(new_name(full).rpartition(".")[0] if full in modules else new_name(base), []).append(n)
        if len(groups) == 1:
            return f"from {next(iter(groups))} import {m.group(2)}"
        if line[: m.start()].strip() or line[m.end():].strip():
            log.append(f"  ! {where}: {m.group(0)!r}: names now in several modules; split it by hand")
            return m.group(0)
        indent = line[: m.start()]
        return ("\n" + indent).join(f"from {g} import {', '.join(ns)}" for g, ns in groups.items())

    return FROM_PKG.sub(sub, line)


def rewrite_text(src: str, where: str, log: list[str], modules: set[str]) -> str:
    dot_re, dot_sub, path_re, path_sub, run_re, run_sub = text_rules()
    out = []
    for i, line in enumerate(src.splitlines(keepends=True), 1):
        new = from_pkg_in_text(line, modules, where, log)
        new = dot_re.sub(dot_sub, new)
        new = path_re.sub(path_sub, new)
        if "RUN_MODULES" in new:
            new = run_re.sub(run_sub, new)
        if new != line:
            log.append(f"  {where}:{i}: {line.strip()[:70]!s} -> {new.strip()[:70]!s}")
        out.append(new)
    text = "".join(out)
    # `RUN_MODULES = (...)` over several lines, or prose: "RUN_MODULES: `a.py`,\n `b.py`)"
    def block(m: re.Match) -> str:
        return run_re.sub(run_sub, m.group(0))
    return re.sub(r"RUN_MODULES[^)\]]{0,400}[)\]]", block, text)


# -- ARCHITECTURE.md ----------------------------------------------------------------------

def regroup_module_map(text: str, log: list[str]) -> str:
    lines = text.splitlines()
    try:
        start = next(i for i, ln in enumerate(lines) if ln.startswith("## Modules"))
    except StopIteration:
        log.append("  ! ARCHITECTURE.md: no '## Modules' section; module map not regrouped")
        return text
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    body = lines[start + 1:end]
    generated = set(TABLE_HEAD) | {h for _, h in GROUPS}
    rows_at = [i for i, ln in enumerate(body) if ln.startswith("| ") and ln not in generated]
    if not rows_at:
        log.append("  ! ARCHITECTURE.md: no module table found")
        return text
    first_gen = next(i for i, ln in enumerate(body) if ln in generated or ln.startswith("| "))
    lead = body[:first_gen]
    tail = [ln for ln in body[rows_at[-1] + 1:] if ln not in generated]
    rows = [body[i] for i in rows_at]
    by_group: dict[str, list[str]] = {g: [] for g, _ in GROUPS}
    seen: dict[str, str] = {}
    for row in rows:
        paths = re.findall(r"`" + PKG + r"/([^`]+)`", row.split("|")[1])
        groups = {p.split("/")[0] if p.split("/")[0] in NEW_PACKAGES else "" for p in paths}
        g = (paths[0].split("/")[0] if paths and paths[0].split("/")[0] in NEW_PACKAGES else "")
        if len(groups) > 1:
            log.append(f"  ! ARCHITECTURE.md: row names modules of several packages: {row[:80]}")
        cell = row.split("|")[1].strip()
        if cell in seen:
            log.append(f"  ! ARCHITECTURE.md: two rows for {cell} (kept both; merge them by hand)")
        seen[cell] = row
        by_group[g].append(row)
    out = lead[:] if lead and lead[-1] == "" else [*lead, ""]
    for g, heading in GROUPS:
        if not by_group[g]:
            continue
        out += [heading, "", *TABLE_HEAD, *by_group[g], ""]
    while tail and tail[0] == "":
        tail = tail[1:]
    out += tail
    new = lines[: start + 1] + out + lines[end:]
    result = "\n".join(new) + ("\n" if text.endswith("\n") else "")
    if result != text:
        log.append("  ARCHITECTURE.md: module map regrouped by package")
    return result


# -- main ----------------------------------------------------------------------------------

def text_files() -> list[str]:
    out = []
    for f in git("ls-files").splitlines():
        if f == SELF or f.startswith(OUTPUT_PREFIXES):
            continue
        if f.startswith("papers/") and not f.endswith(".md"):
            continue  # a paper's code and data are cache-key inputs; never rewritten
        if Path(f).suffix not in TEXT_SUFFIXES or not os.path.isfile(f) or os.path.islink(f):
            continue
        out.append(f)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dry-run", action="store_true", help="print what would move; change nothing")
    ap.add_argument("--force", action="store_true", help="run on a tree with uncommitted changes")
    args = ap.parse_args()
    root = Path(PKG)
    if not (root / "__init__.py").is_file():
        sys.exit("run this at the repository root (repro/__init__.py not found)")
    check_table()
    dirty = git("status", "--porcelain", "--untracked-files=no").strip()
    if dirty and not args.force and not args.dry_run:
        sys.exit("uncommitted changes to tracked files; commit them first (or --force):\n" + dirty)

    # 1. what moves, what is unmapped
    present = sorted(p.name for p in root.iterdir()
                     if p.name != "__pycache__" and (p.suffix == ".py" or (p / "__init__.py").is_file()))
    unmapped = [n for n in present if n not in MOVES and n not in KEEP and n not in NEW_PACKAGES]
    old_modules = walk_modules(root)
    todo, done, missing = [], [], []
    for old, new in MOVES.items():
        src, dst = root / old, root / new
        if real(src) and real(dst):
            sys.exit(f"both repro/{old} and repro/{new} exist: resolve by hand")
        (todo if real(src) else done if real(dst) else missing).append(old)
    say(f"cut_packages: {len(todo)} to move, {len(done)} moved already, {len(missing)} not in this tree")
    for old in missing:
        say(f"  - repro/{old}: in MOVES but not in this tree (skipped)")
    if args.dry_run:
        for old in todo:
            say(f"  would git mv repro/{old} repro/{MOVES[old]}")
        report_unmapped(unmapped)
        return 0

    # 2. new packages and moves
    log: list[str] = []
    for pkg, doc in NEW_PACKAGES.items():
        if not any(MOVES[o].startswith(pkg + "/") for o in todo + done):
            continue
        init = root / pkg / "__init__.py"
        if not init.exists():
            init.parent.mkdir(parents=True, exist_ok=True)
            init.write_text(f'"""{doc}\n\nNothing is imported here: `import repro.{pkg}` stays cheap."""\n')
            git("add", str(init))
            log.append(f"  created repro/{pkg}/__init__.py")
    moved: dict[str, tuple[str, str]] = {}  # new module -> (old rel path, MOVES key)
    for old in todo:
        src = root / old
        files = [src] if src.is_file() else [p for p in src.rglob("*.py") if "__pycache__" not in p.parts]
        for f in files:
            rel = f.relative_to(root).as_posix()
            moved[dotted(MOVES[old] + rel[len(old):])] = (rel, old)
        if (root / MOVES[old]).is_dir():
            subprocess.run(["rm", "-rf", str(root / MOVES[old])], check=True)  # bytecode of an earlier try
        (root / MOVES[old]).parent.mkdir(parents=True, exist_ok=True)
        git("mv", str(src), str(root / MOVES[old]))
        log.append(f"  git mv repro/{old} repro/{MOVES[old]}")
        if src.is_dir() and not any(p for p in src.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            subprocess.run(["rm", "-rf", str(src)], check=True)  # only bytecode was left behind
    modules = old_modules | walk_modules(root)
    modules |= {old_name(m) for m in modules}  # either name of a moved module is a module
    units = moved_units(moved)

    # 3. references
    changed = []
    for f in text_files():
        p = Path(f)
        try:
            src = p.read_text()
        except UnicodeDecodeError:
            continue
        new = src
        flog: list[str] = []
        cur_mod = orig_mod = None
        is_pkg = p.name == "__init__.py"
        if f.endswith(".py"):
            if f.startswith(PKG + "/"):
                cur_mod = dotted(Path(f).relative_to(PKG).as_posix())
                orig_mod = old_name(cur_mod) if cur_mod in moved else cur_mod
            new = rewrite_imports(new, cur_mod, orig_mod, is_pkg, modules, f, flog)
        new = rewrite_text(new, f, flog, modules)
        if f.endswith(".py"):
            new = fix_climbs(new, cur_mod, units, aliases(new, cur_mod, is_pkg, modules), f, flog)
        if f == "ARCHITECTURE.md":
            new = regroup_module_map(new, flog)
        if new != src:
            p.write_text(new)
            changed.append(f)
        log += flog

    for line in log:
        say(line)
    say(f"cut_packages: moved {len(todo)} modules/packages, rewrote {len(changed)} files")
    if changed:
        git("add", *changed)
    report_unmapped(unmapped)
    run_files = set()
    for f in root.rglob("planner.py"):
        m = re.search(r"RUN_MODULES[^=\n]*=\s*[(\[]([^)\]]*)[)\]]", f.read_text())
        run_files |= {f"{PKG}/{r}" for r in re.findall(r"[\"']([^\"']+)[\"']", m.group(1))} if m else set()
    moved_files = {f"{PKG}/{MOVES[unit]}{rel[len(unit):]}" for rel, unit in moved.values()}
    hit = sorted(run_files & (set(changed) | moved_files))
    if hit:
        say(f"\nThe run code's hash (planner.RUN_MODULES: {', '.join(hit)} moved or changed) is new:\n"
            "every shipped result is `outdated` until rerun (`repro run papers/<id>`), as after any\n"
            "change to training.py.")
    if todo:
        say("Pending SLURM jobs pickled under the old module names will not unpickle.")
        say("\nNew tree:")
        for line in tree(root):
            say(line)
    return 0


def real(p: Path) -> bool:
    """A module file, or a folder with more in it than bytecode (a reset leaves __pycache__)."""
    if p.is_file():
        return True
    return p.is_dir() and any(f.is_file() and "__pycache__" not in f.parts for f in p.rglob("*"))


def report_unmapped(unmapped: list[str]) -> None:
    if unmapped:
        say("\nNOT MAPPED (left in place; add each to MOVES or KEEP at the top of tools/cut_packages.py):")
        for n in unmapped:
            say(f"  repro/{n}")
    else:
        say("every module of repro/ is in MOVES or KEEP")


def tree(root: Path, prefix: str = "") -> list[str]:
    out = []
    entries = sorted((p for p in root.iterdir() if p.name != "__pycache__"
                      and (p.suffix == ".py" or (p / "__init__.py").is_file())),
                     key=lambda p: (p.is_dir(), p.name))
    for p in entries:
        if p.is_dir():
            out.append(f"{prefix}{p.name}/")
            out += tree(p, prefix + "    ")
        else:
            out.append(f"{prefix}{p.name}")
    return out


if __name__ == "__main__":
    raise SystemExit(main())
