"""How well `repro new` reads papers it was not built on: cells, columns, spreads, ablations, hparams.

    python bench/extraction_accuracy.py               # every paper (PDF alone, and with LaTeX) + pdf-parse-bench
    python bench/extraction_accuracy.py --quick       # papers' PDF runs + every 5th benchmark page
    python bench/extraction_accuracy.py --paper 2004.04906 --paper bench:012 -v

Runs the real `repro new` pipeline (`newpaper.new_paper`, offline, into a temporary folder) on every
`../shared/fixtures/papers/*/truth.yaml` and on `../shared/fixtures/pdf-parse-bench/`, reads
the claims.yaml and configs/ablations/ it wrote, and scores them by the rules in the fixtures
README ("How a cell counts"); pdf-parse-bench pages by the rule in its own README, with the truth
numbers and row labels parsed here from each table's `tabular` source. Totals are micro-averaged
(every cell weighs the same). Without the fixtures the script says so and exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

FIXTURES = REPO.parent / "shared" / "fixtures"
PAPERS = FIXTURES / "papers"
BENCH = FIXTURES / "pdf-parse-bench"


# ---------------------------------------------------------------- running `repro new`


@dataclass
class Output:
    claims: list[dict]
    ablations: list[tuple[str, str]]      # (config name, description)
    hparams: list[tuple[str, object]]     # (key, value)
    seconds: float
    pages: int
    cpu: float = 0.0                      # CPU seconds, sandboxed children included (load-proof)


def run_new(pdf: Path | None, source: Path | None) -> Output:
    """`repro new --name x [--pdf] [--source] --offline` into a temp dir; what it wrote."""
    from repro.literature.newpaper import new_paper

    with tempfile.TemporaryDirectory(prefix="repro-bench-") as tmp:
        t0, c0 = time.perf_counter(), _cpu()
        with contextlib.redirect_stderr(io.StringIO()):
            info = new_paper(None, "paper", pdf, source, offline=True, papers_dir=Path(tmp))
        seconds, cpu = time.perf_counter() - t0, _cpu() - c0
        folder = Path(info.result.path)
        claims = yaml.safe_load((folder / "claims.yaml").read_text(encoding="utf-8")) or []
        if isinstance(claims, dict):
            claims = claims.get("claims") or []
        abl = []
        for f in sorted((folder / "configs" / "ablations").glob("*.yaml")):
            spec = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
            abl.append((f.stem, str(spec.get("description") or "")))
        hparams = [(h.key, h.value) for h in info.hparams]
        pages = _pdf_page_count(pdf) if pdf else 0
    return Output(claims, abl, hparams, seconds, pages, cpu)


def _cpu() -> float:
    import resource

    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


def _pdf_page_count(pdf: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(str(pdf)).pages)


# ---------------------------------------------------------------- label matching (fixtures README)


_CITE = re.compile(r"\[[\d,\s–-]+\]|\(\s*\d{4}[a-z]?\s*\)")


def _words(text: str) -> list[str]:
    t = _CITE.sub(" ", str(text).lower())
    return re.findall(r"[^\W_]+|[±✓✗]", t)


def _key(text: str) -> str:
    return "".join(_words(text))


def match_level(a: str, b: str) -> int:
    """3 equal, 2 same set of words, 1 one contained in the other (shorter >= 4 chars), 0 none."""
    ka, kb = _key(a), _key(b)
    if not ka or not kb:
        return 0
    if ka == kb:
        return 3
    if set(_words(a)) == set(_words(b)):
        return 2
    short, long_ = sorted((ka, kb), key=len)
    if len(short) >= 4 and short in long_:
        return 1
    return 0


def best_match(label: str, options: list[str], target: str) -> bool:
    """`label` matches `target` at least as well as any other of `options`."""
    lvl = match_level(label, target)
    return lvl > 0 and all(match_level(label, o) <= lvl for o in options)


def _same(a: object, b: object) -> bool:
    try:
        return float(a) == float(b)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(a).strip().lower() == str(b).strip().lower()


# ---------------------------------------------------------------- scoring a paper run


@dataclass
class Score:
    cells: int = 0
    labelled: int = 0
    with_column: int = 0
    pm_cells: int = 0
    pm_found: int = 0
    claims_in_tables: int = 0
    claims_correct: int = 0
    abl_rows: int = 0
    abl_found: int = 0
    hparams: int = 0
    hparams_found: int = 0
    seconds: float = 0.0
    pages: int = 0
    cpu: float = 0.0
    misses: list[str] = field(default_factory=list)

    def add(self, o: "Score") -> None:
        for k in ("cells", "labelled", "with_column", "pm_cells", "pm_found", "claims_in_tables",
                  "claims_correct", "abl_rows", "abl_found", "hparams", "hparams_found", "seconds", "pages", "cpu"):
            setattr(self, k, getattr(self, k) + getattr(o, k))


def score_paper(truth: dict, out: Output) -> Score:
    s = Score(seconds=out.seconds, pages=out.pages, cpu=out.cpu if out.pages else 0.0)
    by_table: dict[str, list[dict]] = {}
    for c in out.claims:
        src = c.get("source") or {}
        if src.get("table") is not None and c.get("value") is not None:
            by_table.setdefault(str(src["table"]), []).append(c)
    for t in truth.get("tables") or []:
        num = str(t["table"])
        columns = [str(c) for c in t.get("columns") or []]
        rows = {str(k): v for k, v in (t.get("rows") or {}).items()}
        labels = list(rows)
        claims = by_table.get(num, [])
        values = set()
        for label, cells in rows.items():
            for j, cell in enumerate(cells or []):
                mean, std = (cell[0], cell[1]) if isinstance(cell, list) else (cell, None)
                if not isinstance(mean, (int, float)) or isinstance(mean, bool):
                    continue
                values.add(float(mean))
                col = columns[j] if j < len(columns) else ""
                s.cells += 1
                s.pm_cells += std is not None
                hit = [c for c in claims if float(c["value"]) == float(mean)
                       and best_match(str(c["source"].get("row") or ""), labels, label)]
                if hit:
                    s.labelled += 1
                    if any(best_match(str(c["source"].get("column") or ""), columns, col) for c in hit):
                        s.with_column += 1
                    else:
                        s.misses.append(f"T{num} {label} | {col} = {mean}: wrong column "
                                        f"({hit[0]['source'].get('column')!r})")
                    if std is not None and any(c.get("spread") is not None and float(c["spread"]) == float(std)
                                               for c in hit):
                        s.pm_found += 1
                else:
                    s.misses.append(f"T{num} {label} | {col} = {mean}: not found")
        s.claims_in_tables += len(claims)
        s.claims_correct += sum(1 for c in claims if float(c["value"]) in values)
        if t.get("ablation"):
            base = str(t["ablation"].get("base"))
            for label in labels:
                if label == base:
                    continue
                s.abl_rows += 1
                if any(best_match(name, labels, label) or best_match(desc.split(":")[0], labels, label)
                       for name, desc in out.ablations):
                    s.abl_found += 1
                else:
                    s.misses.append(f"T{num} ablation row {label!r}: no config")
    for h in truth.get("hparams") or []:
        s.hparams += 1
        if any(k == h["key"] and _same(v, h["value"]) for k, v in out.hparams):
            s.hparams_found += 1
        else:
            s.misses.append(f"hparam {h['key']} = {h['value']}: not found")
    return s


# ---------------------------------------------------------------- pdf-parse-bench truth from `tabular`


def _brace_arg(t: str, i: int) -> tuple[str, int]:
    """The {...} group starting at t[i] (after spaces): (content, index after it)."""
    while i < len(t) and t[i] in " \t\n":
        i += 1
    if i >= len(t) or t[i] != "{":
        return "", i
    depth, j = 0, i
    while j < len(t):
        if t[j] == "{" and (j == 0 or t[j - 1] != "\\"):
            depth += 1
        elif t[j] == "}" and t[j - 1] != "\\":
            depth -= 1
            if depth == 0:
                return t[i + 1:j], j + 1
        j += 1
    return t[i + 1:], len(t)


def _unwrap(t: str, cmd: str, keep: int, nargs: int) -> str:
    """Replace \\cmd{a1}...{an} by argument number `keep` (1-based)."""
    out, i = [], 0
    pat = re.compile(r"\\" + cmd + r"\*?(?![a-zA-Z])\s*(?:\[[^\]]*\])?")
    while True:
        m = pat.search(t, i)
        if not m:
            out.append(t[i:])
            return "".join(out)
        out.append(t[i:m.start()])
        j, args = m.end(), []
        for _ in range(nargs):
            a, j = _brace_arg(t, j)
            args.append(a)
        out.append(args[keep - 1] if keep <= len(args) else "")
        i = j


def tex_cell(cell: str) -> str:
    """A LaTeX cell as plain text: ±, ×10^, % kept; formatting commands dropped."""
    t = _unwrap(cell, "multicolumn", 3, 3)
    t = _unwrap(t, "multirow", 3, 3)
    t = _unwrap(t, "makecell", 1, 1)
    t = re.sub(r"\\(?:cellcolor|rowcolor|color|textcolor)(?:\[[^\]]*\])?\{[^{}]*\}", "", t)
    t = t.replace("\\pm", "±").replace("\\%", "%").replace("\\times", "×").replace("\\cdot", "·")
    t = t.replace("\\dagger", "†").replace("\\ddagger", "‡").replace("\\ast", "*").replace("\\star", "*")
    t = t.replace("\\,", " ").replace("\\;", " ").replace("\\!", "").replace("~", " ").replace("\\ ", " ")
    t = re.sub(r"\\(?:uparrow|downarrow)", "", t)
    t = re.sub(r"\\[a-zA-Z]+\*?", " ", t)
    t = t.replace("$", "").replace("{", "").replace("}", "")
    return re.sub(r"\s+", " ", t).strip()


_TNUM = re.compile(r"^[-+−–]?\s*(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?")


def tex_number(text: str) -> float | None:
    """The number a plain cell denotes (with ±, %, a footnote mark or a unit); else None."""
    t = text.replace("−", "-").replace("–", "-").strip()
    m = _TNUM.match(t)
    if not m or not re.search(r"\d", m.group(0)):
        return None
    mant = m.group(0).replace(",", "").replace(" ", "")
    rest = t[m.end():].strip()
    exp = re.match(r"^[×x·]\s*10\s*\^\s*\(?\s*([-+]?\d+)\s*\)?", rest) or re.match(r"^[eE]([-+]?\d+)\b", rest)
    try:
        v = float(f"{mant}e{int(exp.group(1))}") if exp else float(mant)
    except ValueError:
        return None
    if exp:
        rest = rest[exp.end():].strip()
    rest = re.sub(r"^\^", "", rest).strip()
    if not rest or rest.startswith("±") or rest.startswith("%") or rest.startswith("("):
        return v
    if re.fullmatch(r"[*†‡§¶#a-c]+|[A-Za-zµ%/]{1,6}\.?", rest):
        return v
    return None


def tabular_cells(src: str) -> list[tuple[str, float]]:
    """(row label, value) of every numeric body cell of one `tabular`."""
    t = re.sub(r"(?<!\\)%.*", "", src)
    t = re.sub(r"\\begin\{tabular[x*]?\}(\{[^{}]*\})?\s*(\{(?:[^{}]|\{[^{}]*\})*\})?", "", t, count=1)
    t = re.sub(r"\\end\{tabular[x*]?\}", "", t)
    t = re.sub(r"\\(?:hline|toprule|midrule|bottomrule|addlinespace|hdashline|specialrule\{[^}]*\}\{[^}]*\}\{[^}]*\})", " ", t)
    t = re.sub(r"\\(?:cline|cmidrule)\s*(?:\([^)]*\))?\{[^}]*\}", " ", t)
    out = []
    for row in re.split(r"\\\\(?:\s*\[[^\]]*\])?", t):
        cells = [c for c in re.split(r"(?<!\\)&", row)]
        if len(cells) < 2:
            continue
        label = tex_cell(cells[0])
        if not re.search(r"[A-Za-z]", label):
            continue
        for c in cells[1:]:
            v = tex_number(tex_cell(c))
            if v is not None:
                out.append((label, v))
    return out


def _share_word(a: str, b: str) -> bool:
    """Sub/superscript marks dropped first: `$O_1$` is the word "O1" as printed."""
    def words(t: str) -> set[str]:
        return set(re.findall(r"[a-z0-9]{2,}", re.sub(r"[_^{}]", "", t.lower())))

    return bool(words(a) & words(b))


def score_bench_page(gt: list[dict], out: Output) -> Score:
    s = Score(seconds=out.seconds, pages=1, cpu=out.cpu)
    claims = [c for c in out.claims if c.get("value") is not None]
    truth = [cell for block in gt if block.get("type") == "table" for cell in tabular_cells(block["data"])]
    values = {v for _, v in truth}
    for label, v in truth:
        s.cells += 1
        if any(float(c["value"]) == v and _share_word(str((c.get("source") or {}).get("row") or ""), label)
               for c in claims):
            s.labelled += 1
        else:
            s.misses.append(f"{label} = {v}: not found")
    s.claims_in_tables += len(claims)
    s.claims_correct += sum(1 for c in claims if float(c["value"]) in values)
    return s


# ---------------------------------------------------------------- report


def _r(a: int, b: int) -> str:
    return f"{a / b:.2f}" if b else "  - "


def _line(name: str, s: Score, bench: bool = False) -> str:
    spp = f"{s.seconds / s.pages:.3f}" if s.pages else "-"
    spp += f" {s.cpu / s.pages:>6.3f}" if s.pages else "      -"
    if bench:
        return (f"{name:<28} {s.cells:>5} {_r(s.labelled, s.cells):>6} {'':>6} "
                f"{_r(s.claims_correct, s.claims_in_tables):>6} {'':>6} {'':>7} {'':>7} {spp:>6}")
    return (f"{name:<28} {s.cells:>5} {_r(s.labelled, s.cells):>6} {_r(s.with_column, s.cells):>6} "
            f"{_r(s.claims_correct, s.claims_in_tables):>6} {_r(s.pm_found, s.pm_cells):>6} "
            f"{s.abl_found:>3}/{s.abl_rows:<3} {s.hparams_found:>3}/{s.hparams:<3} {spp:>6}")


HEAD = (f"{'run':<28} {'cells':>5} {'label':>6} {'+col':>6} {'prec':>6} {'±':>6} {'ablat':>7} "
        f"{'hparam':>7} {'s/page':>6} {'cpu/pg':>6}")


def _wanted(name: str, filters: list[str]) -> bool:
    return not filters or any(f in name for f in filters)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--paper", action="append", default=[],
                    help="only runs whose name contains this (e.g. 2004.04906, 'pdf+tex', bench:012); repeatable")
    ap.add_argument("--quick", action="store_true", help="PDF runs only, and every 5th benchmark page")
    ap.add_argument("-v", "--verbose", action="store_true", help="list the missed cells of each run")
    args = ap.parse_args(argv)
    if not PAPERS.is_dir():
        print(f"skipped: {FIXTURES} is absent (the fixtures are needed to measure accuracy)")
        return 0
    import logging

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    print(HEAD)
    total = Score()
    for tf in sorted(PAPERS.glob("*/truth.yaml")):
        truth = yaml.safe_load(tf.read_text(encoding="utf-8"))
        folder = tf.parent
        pdf = folder / truth["pdf"] if truth.get("pdf") else None
        src = folder / truth["source"] if truth.get("source") else None
        runs = []
        if pdf:
            runs.append(("pdf", pdf, None))
        if src and not args.quick:
            runs.append(("pdf+tex" if pdf else "tex", pdf, src))
        for kind, p, sc in runs:
            name = f"{folder.name} {kind}"
            if not _wanted(name, args.paper):
                continue
            s = score_paper(truth, run_new(p, sc))
            total.add(s)
            print(_line(name, s), flush=True)
            if args.verbose:
                for m in s.misses:
                    print(f"    {m}")
    print(_line("papers: total", total))
    btotal = Score()
    gts = sorted((BENCH / "ground_truth").glob("*.json")) if BENCH.is_dir() else []
    for k, gt_file in enumerate(gts):
        name = f"bench:{gt_file.stem}"
        if args.quick and k % 5:
            continue
        if not _wanted(name, args.paper):
            continue
        s = score_bench_page(json.loads(gt_file.read_text(encoding="utf-8")),
                             run_new(BENCH / "pdfs" / f"{gt_file.stem}.pdf", None))
        btotal.add(s)
        if args.verbose or args.paper:
            print(_line(name, s, bench=True))
            if args.verbose:
                for m in s.misses:
                    print(f"    {m}")
    if btotal.pages:
        print(_line(f"pdf-parse-bench ({btotal.pages} pages)", btotal, bench=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
