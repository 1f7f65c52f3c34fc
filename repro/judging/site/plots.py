"""The site's plots: one small multiple per judged claim, with only the configs it names.

Each plot is a `PlotTask`: what to draw, where, and a `key` describing its inputs. The key's
hash is stored beside the image (`<name>.svg.sha256`); a plot whose hash is unchanged is not
redrawn. matplotlib (Agg, SVG output with text kept as text) is imported only when at least
one plot must be drawn, and one Figure/Axes pair is reused per process: creating axes and
tick objects is most of matplotlib's cost for small figures.

Learning curves read metrics.jsonl themselves (in the drawing process), so an unchanged
site never reads them: their key is built from the files' size and mtime.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ...atomic import atomic_write_bytes
from ...envinfo import usable_cpus
from ...numfmt import clip

# Bump when the drawing code changes, so every plot is redrawn once.
PLOT_VERSION = "6"
KINDS = ("claim",)
MAX_SERIES = 8  # configs per chart: more than this is unreadable
# A palette that stays distinguishable for colour-blind readers (Okabe-Ito).
# Okabe-Ito hues darkened where needed so that every line has >= 3:1 contrast on white
# (yellow and sky blue do not), still distinguishable for colour-blind readers.
PALETTE = ("#0072B2", "#C45A00", "#007A5E", "#B8007A", "#5A5A5A", "#8A6D00", "#1F4E9E", "#000000")
FIG_SIZE = (6.4, 3.0)


@dataclass
class PlotTask:
    kind: str                  # one of KINDS
    path: Path                 # the .svg to write
    payload: dict[str, Any]    # what the drawing function needs (JSON-serialisable)
    key: Any = None            # the inputs the hash is taken over (defaults to payload)
    alt: str = ""              # alt text for the <img>
    extra: dict[str, Any] = field(default_factory=dict)

    def digest(self) -> str:
        blob = json.dumps([PLOT_VERSION, self.kind, self.payload if self.key is None else self.key],
                          sort_keys=True, default=str, allow_nan=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    @property
    def sidecar(self) -> Path:
        return self.path.with_name(self.path.name + ".sha256")

    def up_to_date(self) -> bool:
        try:
            return self.path.is_file() and self.sidecar.read_text().strip() == self.digest()
        except OSError:
            return False


def write_generated(path: Path, data: bytes) -> None:
    """Write a generated site file atomically (temp file + rename), without fsync.

    Everything under site/ can be regenerated, so durability is not worth its price: two
    fsyncs per file made a cold 100-paper build several times slower. The rename still
    guarantees a reader sees the old file or the new one, never half of one.
    """
    atomic_write_bytes(path, data, durable=False)


def stale(tasks: list[PlotTask]) -> list[PlotTask]:
    return [t for t in tasks if not t.up_to_date()]


class Drawer:
    """Draws plots while the caller keeps working: submit each page's tasks as they come.

    With jobs > 1, stale plots go to a pool of forked workers right away, so judging and
    rendering the next papers overlaps with drawing the previous ones. matplotlib is
    imported before the fork so each worker inherits it instead of importing it again.
    Nothing is imported or forked when every plot is up to date.
    """

    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = jobs or usable_cpus()
        self.pool: Any = None
        self.pending: list[Any] = []
        self.local: list[PlotTask] = []
        self.count = 0

    def submit(self, tasks: list[PlotTask]) -> None:
        todo = stale(tasks)
        if not todo:
            return
        self.count += len(todo)
        if self.jobs > 1 and _can_fork():
            if self.pool is None:
                import multiprocessing as mp

                _matplotlib()
                self.pool = mp.get_context("fork").Pool(self.jobs)
            self.pending.append(self.pool.apply_async(_draw_chunk, ([_to_wire(t) for t in todo],)))
        else:
            self.local.extend(todo)

    def finish(self) -> int:
        """Wait for every submitted plot; returns how many were drawn. Re-raises a worker's error."""
        try:
            if self.local:
                _draw_chunk([_to_wire(t) for t in self.local])
            for r in self.pending:
                r.get()
        finally:
            if self.pool is not None:
                self.pool.close()
                self.pool.join()
                self.pool = None
        return self.count


def _can_fork() -> bool:
    import multiprocessing as mp

    return "fork" in mp.get_all_start_methods()


def _to_wire(t: PlotTask) -> tuple[str, str, dict[str, Any], str]:
    return (t.kind, str(t.path), t.payload, t.digest())


def _draw_chunk(items: list[tuple[str, str, dict[str, Any], str]]) -> None:
    canvas = _Canvas()
    for kind, path, payload, digest in items:
        svg = canvas.draw(kind, payload)
        write_generated(Path(path), svg)
        write_generated(Path(path + ".sha256"), (digest + "\n").encode())


# -- matplotlib -------------------------------------------------------------------------
_MPL: Any = None


def _matplotlib() -> Any:
    """Import matplotlib once, headless, with settings that keep SVGs small and stable."""
    global _MPL
    if _MPL is None:
        import matplotlib

        matplotlib.use("Agg", force=True)
        rc = matplotlib.rcParams
        rc["svg.fonttype"] = "none"        # text stays text: smaller files, the page's font
        rc["svg.hashsalt"] = "repro-site"  # stable ids: same inputs, same bytes
        rc["font.family"] = "sans-serif"
        rc["font.size"] = 9
        rc["axes.spines.top"] = False
        rc["axes.spines.right"] = False
        rc["axes.grid"] = True
        rc["grid.alpha"] = 0.3
        rc["axes.grid.axis"] = "y"  # half the grid lines: each is an artist to draw
        rc["axes.prop_cycle"] = matplotlib.cycler(color=list(PALETTE))
        _MPL = matplotlib
    return _MPL


class _Canvas:
    """One Figure and one Axes, reused for every plot this process draws.

    Reuse is what keeps a 100-paper site under its time budget; so that nothing leaks from
    one chart into the next, `_reset` puts every axis property a drawing sets back to its
    default, and no drawing rotates tick labels at all.
    """

    def __init__(self) -> None:
        _matplotlib()
        from matplotlib.figure import Figure

        self.fig = Figure(figsize=FIG_SIZE, dpi=72, layout=None)
        self.fig.subplots_adjust(left=0.1, right=0.98, top=0.95, bottom=0.17)
        self.ax = self.fig.add_subplot()

    def _reset(self) -> None:
        from matplotlib.ticker import MaxNLocator, ScalarFormatter

        ax = self.ax
        for art in [*ax.lines, *ax.collections, *ax.patches, *ax.texts, *ax.images]:
            art.remove()
        ax.containers.clear()
        if ax.legend_ is not None:
            ax.legend_.remove()
        for axis in (ax.xaxis, ax.yaxis):
            # Few ticks: every tick is several artists, and drawing them is most of the cost.
            axis.set_major_locator(MaxNLocator(nbins=4))
            axis.set_major_formatter(ScalarFormatter(useOffset=False))
        ax.tick_params(axis="both", labelrotation=0)
        ax.set_title("")
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.relim()
        ax.set_autoscale_on(True)
        ax.set_xmargin(0.02)
        ax.set_ymargin(0.05)

    def draw(self, kind: str, payload: dict[str, Any]) -> bytes:
        import io

        self._reset()
        {"claim": self._claim}[kind](payload)
        buf = io.BytesIO()
        self.fig.savefig(buf, format="svg", metadata={"Date": None})
        return buf.getvalue()

    def _claim(self, p: dict[str, Any]) -> None:
        """Learning curves of the claim's configs (mean over seeds, 95% band), each labelled
        at its end, against the steps actually evaluated; a value claim's claimed value (and
        tolerance) as a dashed line. Bands are clipped to the metric's range. (The final
        values, as points with intervals, are drawn by the page itself, as text.)"""
        from matplotlib.ticker import MaxNLocator

        rng = tuple(p.get("range") or (None, None))
        metric = p["metric"]
        cfgs = p["configs"][:MAX_SERIES]
        ax = self.ax
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        ends = []
        x_name = "step"
        for i, cfg in enumerate(cfgs):
            xs, mean, lo, hi, x_name = curve_from_files(cfg["files"], metric)
            if not xs:
                continue
            color = PALETTE[i % len(PALETTE)]
            lo = [clip(v, rng) for v in lo]
            hi = [clip(v, rng) for v in hi]
            ax.plot(xs, mean, color=color, lw=1.8)
            if len(xs) > 1 and any(a != b for a, b in zip(lo, hi)):
                ax.fill(xs + xs[::-1], hi + lo[::-1], color=color, alpha=0.15, lw=0)
            ends.append([xs[-1], mean[-1], _short(cfg["label"], 30), color])
        claimed = p.get("claimed")
        if claimed is not None:
            tol = p.get("tolerance")
            if tol:
                ax.axhspan(claimed - tol, claimed + tol, color="#888", alpha=0.15, lw=0)
            ax.axhline(claimed, color="#333", ls="--", lw=1.2)
        ax.autoscale_view()
        if ends:
            _spread_labels(ends, ax)
            for x, y, text, color in ends:
                ax.annotate(text, (x, y), xytext=(5, 0), textcoords="offset points", fontsize=11,
                            color=color, va="center", annotation_clip=False)
            from matplotlib.ticker import FixedLocator

            x0, x1 = ax.get_xlim()  # room on the right for the labels at the lines' ends
            last = max(e[0] for e in ends)
            ax.xaxis.set_major_locator(FixedLocator([t for t in ax.get_xticks() if x0 <= t <= last]))
            longest = max(len(e[2]) for e in ends)
            ax.set_xlim(x0, x1 + (x1 - x0) * min(0.75, 0.12 + 0.028 * longest))
            ax.set_xlabel(x_name, fontsize=11)
            ax.set_ylabel(_short(metric, 28), fontsize=11)
        else:
            ax.text(0.5, 0.5, "no logged curve", ha="center", va="center", transform=ax.transAxes)
        if claimed is not None:
            ax.annotate("claimed", (1.0, claimed), xycoords=("axes fraction", "data"), xytext=(-2, 3),
                        textcoords="offset points", ha="right", va="bottom", fontsize=10, color="#333")
        if rng[0] is not None or rng[1] is not None:
            lo_, hi_ = ax.get_ylim()
            ax.set_ylim(max(lo_, rng[0]) if rng[0] is not None else lo_, min(hi_, rng[1]) if rng[1] is not None else hi_)


def _spread_labels(ends: list[list[Any]], ax: Any) -> None:
    """Nudge end-of-line labels apart so that they do not print on top of each other."""
    ax.autoscale_view()
    lo, hi = ax.get_ylim()
    gap = (hi - lo) * 0.085
    ends.sort(key=lambda e: e[1])
    for a, b in zip(ends, ends[1:]):
        if b[1] - a[1] < gap:
            b[1] = a[1] + gap


def _short(s: str, n: int) -> str:
    """Shortened, and with `$` escaped: matplotlib would parse a name like `a$b$` as math."""
    s = str(s)
    s = s if len(s) <= n else s[: n - 1] + "…"
    return s.replace("$", r"\$")


# -- data -------------------------------------------------------------------------------
def curve_from_files(files: list[str], metric: str) -> tuple[list[float], list[float], list[float], list[float], str]:
    """Mean and 95% interval band of an evaluated metric over runs, aligned by step.

    Only rows where the metric was evaluated count (`kind: epoch`, or rows without a kind);
    per-step loss rows are skipped. x is the optimiser step when every row has one, else
    the epoch. A point only some seeds reached is averaged over those seeds. Returns
    (x, mean, lo, hi, name of x).
    """
    runs: list[dict[str, dict[float, float]]] = []
    has_step = True
    for f in files:
        seen: dict[str, dict[float, float]] = {"step": {}, "epoch": {}}
        for row in _rows(*file_key(Path(f))):
            if row.get("kind", "epoch") != "epoch":
                continue
            v = row.get(metric)
            if not (isinstance(v, (int, float)) and math.isfinite(v)):
                continue
            for name in ("step", "epoch"):
                x = row.get(name)
                if isinstance(x, (int, float)):
                    seen[name][float(x)] = float(v)  # the last value logged for a point wins
            if not isinstance(row.get("step"), (int, float)):
                has_step = False
        runs.append(seen)
    x_name = "step" if has_step else "epoch"
    by_x: dict[float, list[float]] = {}
    for seen in runs:
        for x, v in seen[x_name].items():
            by_x.setdefault(x, []).append(v)
    xs = sorted(by_x)
    mean, lo, hi = [], [], []
    for x in xs:
        vals = by_x[x]
        n = len(vals)
        m = math.fsum(vals) / n
        half = 0.0
        if n > 1:
            sd = math.sqrt(math.fsum((v - m) ** 2 for v in vals) / (n - 1))
            half = _t975(n - 1) * sd / math.sqrt(n)  # the same 95% Student-t interval as the tables
        mean.append(m)
        lo.append(m - half)
        hi.append(m + half)
    return xs, mean, lo, hi, x_name


@lru_cache(maxsize=None)
def _t975(df: int) -> float:
    from scipy import stats as st

    return float(st.t.ppf(0.975, df))


@lru_cache(maxsize=256)
def _rows(path: str, size: int | None, mtime_ns: int | None) -> tuple[dict[str, Any], ...]:
    """metrics.jsonl rows, parsed once per process for all the metrics plotted from them."""
    from ...results import read_metrics

    return tuple(read_metrics(Path(path), epoch_only=True))  # curves need epoch rows only


def file_key(path: Path) -> list[Any]:
    """What identifies a file's content cheaply: name, size, mtime."""
    try:
        st = path.stat()
    except OSError:
        return [str(path), None, None]
    return [str(path), st.st_size, st.st_mtime_ns]
