"""The site's plots: learning curves, bars with error bars, claimed vs reproduced.

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
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_bytes

# Bump when the drawing code changes, so every plot is redrawn once.
PLOT_VERSION = "3"
KINDS = ("curves", "bars", "claims")
# A palette that stays distinguishable for colour-blind readers (Okabe-Ito).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
FIG_SIZE = (5.2, 3.2)


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
        self.jobs = jobs or _cpus()
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


def draw_tasks(tasks: list[PlotTask], jobs: int | None = None) -> int:
    """Draw the tasks whose inputs changed (in `jobs` processes); returns how many were drawn."""
    d = Drawer(jobs)
    d.submit(tasks)
    return d.finish()


def _cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


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
    """One Figure and one Axes, reused for every plot this process draws."""

    def __init__(self) -> None:
        _matplotlib()
        from matplotlib.figure import Figure

        self.fig = Figure(figsize=FIG_SIZE, dpi=72, layout=None)
        self.fig.subplots_adjust(left=0.13, right=0.97, top=0.9, bottom=0.16)
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
        {"curves": self._curves, "bars": self._bars, "claims": self._claims}[kind](payload)
        self.ax.autoscale_view()
        buf = io.BytesIO()
        self.fig.savefig(buf, format="svg", metadata={"Date": None})
        return buf.getvalue()

    # -- the three kinds ----------------------------------------------------------------
    # One call per kind of artist (one bar container, one LineCollection for all intervals)
    # rather than one per config: errorbar() and fill_between() cost milliseconds each.
    def _curves(self, p: dict[str, Any]) -> None:
        ax = self.ax
        metric = p["metric"]
        drawn = 0
        for i, cfg in enumerate(p["configs"]):
            xs, mean, lo, hi = curve_from_files(cfg["files"], metric)
            if not xs:
                continue
            color = PALETTE[i % len(PALETTE)]
            n = len(cfg["files"])
            ax.plot(xs, mean, color=color, lw=1.4, label=f"{_short(cfg['name'], 24)} (n={n})")
            if len(xs) > 1 and any(a != b for a, b in zip(lo, hi)):
                ax.fill(xs + xs[::-1], hi + lo[::-1], color=color, alpha=0.18, lw=0)
            drawn += 1
        ax.set_xlabel("epoch")
        ax.set_ylabel(_short(metric, 30))
        ax.set_title(f"{_short(metric, 40)}: mean over seeds, band ±1 std", fontsize=9)
        if drawn:
            ax.legend(fontsize=7, frameon=False, loc="best")
        else:
            ax.text(0.5, 0.5, "no logged values", ha="center", va="center", transform=ax.transAxes)

    def _bars(self, p: dict[str, Any]) -> None:
        from matplotlib.ticker import FixedFormatter, FixedLocator

        ax = self.ax
        names = [c["name"] for c in p["configs"]]
        shown = [(i, c) for i, c in enumerate(p["configs"]) if c["mean"] is not None]
        ax.bar([i for i, _ in shown], [c["mean"] for _, c in shown], width=0.65, alpha=0.75,
               color=[PALETTE[i % len(PALETTE)] for i, _ in shown])
        ci = [(i, c["ci_low"], c["ci_high"]) for i, c in shown if c["ci_low"] is not None and c["ci_high"] is not None]
        if ci:
            ax.vlines([i for i, _, _ in ci], [lo for _, lo, _ in ci], [hi for _, _, hi in ci], color="#222", lw=1.2)
        dots = [(i, v) for i, c in shown for v in c["values"]]
        if dots:
            ax.plot([i for i, _ in dots], [v for _, v in dots], "o", ms=3, color="#222", alpha=0.7)
        ax.xaxis.set_major_locator(FixedLocator(list(range(len(names)))))
        ax.xaxis.set_major_formatter(FixedFormatter([_short(n, 14) for n in names]))
        ax.set_xlim(-0.6, len(names) - 0.4)
        ax.set_ylabel(_short(p["metric"], 30))
        ax.set_title(f"{_short(p['metric'], 40)}: mean, 95% CI, seeds", fontsize=9)
        self._rotate(len(names) > 4)

    def _rotate(self, on: bool) -> None:
        for lab in self.ax.get_xticklabels():
            lab.set_rotation(25 if on else 0)
            lab.set_horizontalalignment("right" if on else "center")

    def _claims(self, p: dict[str, Any]) -> None:
        ax = self.ax
        pts = p["points"]
        xs = [pt["claimed"] for pt in pts]
        ys = [pt["mean"] for pt in pts]
        lo_all, hi_all = xs + ys, xs + ys
        ci = [pt for pt in pts if pt.get("ci_low") is not None and pt.get("ci_high") is not None]
        if ci:
            ax.vlines([pt["claimed"] for pt in ci], [pt["ci_low"] for pt in ci], [pt["ci_high"] for pt in ci],
                      color="#444", lw=1)
            lo_all = lo_all + [pt["ci_low"] for pt in ci]
            hi_all = hi_all + [pt["ci_high"] for pt in ci]
        sp = [pt for pt in pts if pt.get("spread")]
        if sp:
            ax.hlines([pt["mean"] for pt in sp], [pt["claimed"] - pt["spread"] for pt in sp],
                      [pt["claimed"] + pt["spread"] for pt in sp], color="#999", lw=1)
        for ok, color in ((True, PALETTE[0]), (False, PALETTE[3])):
            sel = [pt for pt in pts if bool(pt.get("ok")) == ok]
            if sel:
                ax.plot([pt["claimed"] for pt in sel], [pt["mean"] for pt in sel], "o", ms=5, color=color,
                        label="reproduced" if ok else "not reproduced / other")
        for pt in pts:
            ax.annotate(str(pt["label"]), (pt["claimed"], pt["mean"]), xytext=(4, 3), textcoords="offset points",
                        fontsize=7)
        if pts:
            lo, hi = min(lo_all), max(hi_all)
            pad = (hi - lo) * 0.08 or abs(hi) * 0.05 or 0.05
            ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], ls="--", lw=1, color="#888")
            ax.set_xlim(lo - pad, hi + pad)
            ax.set_ylim(lo - pad, hi + pad)
            ax.legend(fontsize=7, frameon=False, loc="upper left")
        ax.set_xlabel("claimed in the paper")
        ax.set_ylabel("reproduced (mean, 95% CI)")
        ax.set_title("claimed vs reproduced; dashed: y = x", fontsize=9)


def _short(s: str, n: int) -> str:
    """Shortened, and with `$` escaped: matplotlib would parse a name like `a$b$` as math."""
    s = str(s)
    s = s if len(s) <= n else s[: n - 1] + "…"
    return s.replace("$", r"\$")


# -- data -------------------------------------------------------------------------------
def curve_from_files(files: list[str], metric: str) -> tuple[list[float], list[float], list[float], list[float]]:
    """Mean and ±1 std band of an epoch-level metric over runs, aligned by epoch.

    Rows with `kind: step` (per-step loss) are skipped; rows without `kind` count as epoch
    rows. An epoch only some seeds reached is averaged over those seeds.
    """
    by_epoch: dict[float, list[float]] = {}
    for f in files:
        seen: dict[float, float] = {}
        for row in _rows(*file_key(Path(f))):
            if row.get("kind", "epoch") != "epoch":
                continue
            v, ep = row.get(metric), row.get("epoch")
            if isinstance(v, (int, float)) and isinstance(ep, (int, float)) and math.isfinite(v):
                seen[float(ep)] = float(v)  # the last value logged for an epoch wins
        for ep, v in seen.items():
            by_epoch.setdefault(ep, []).append(v)
    xs = sorted(by_epoch)
    mean, lo, hi = [], [], []
    for ep in xs:
        vals = by_epoch[ep]
        m = math.fsum(vals) / len(vals)
        sd = math.sqrt(math.fsum((v - m) ** 2 for v in vals) / (len(vals) - 1)) if len(vals) > 1 else 0.0
        mean.append(m)
        lo.append(m - sd)
        hi.append(m + sd)
    return xs, mean, lo, hi


@lru_cache(maxsize=256)
def _rows(path: str, size: int | None, mtime_ns: int | None) -> tuple[dict[str, Any], ...]:
    """metrics.jsonl rows, parsed once per process for all the metrics plotted from them."""
    from ..results import read_metrics

    return tuple(read_metrics(Path(path), epoch_only=True))  # curves need epoch rows only


def file_key(path: Path) -> list[Any]:
    """What identifies a file's content cheaply: name, size, mtime."""
    try:
        st = path.stat()
    except OSError:
        return [str(path), None, None]
    return [str(path), st.st_size, st.st_mtime_ns]
