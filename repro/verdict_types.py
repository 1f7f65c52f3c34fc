"""The verdict records: one claim's verdict, an ablation row, a paper's judgement, and the
verdict vocabulary. How they are decided: repro/judging/verdicts.py (the rules) and repro/judging/decide.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .claims import Claim
from .results import RunStatus
from .judging.stats import Describe


VERDICTS = ("reproduced", "not reproduced", "supported", "contradicted", "inconclusive", "not run")


ALPHA = 0.05


POWER = 0.8


SUCCESSES = ("reproduced", "supported")


FAILED_STATUSES = RunStatus.NOT_FINISHED


@dataclass
class ClaimVerdict:
    claim: Claim
    id: str
    kind: str
    verdict: str
    reason: str                                   # one human sentence
    metric: str | None
    configs: list[str]
    stats: dict[str, Describe]                    # per involved config
    claimed: float | None
    claimed_spread: float | None
    gap_abs: float | None                         # mean - claimed (value claims)
    gap_rel: float | None                         # (mean - claimed) / |claimed|
    p_value: float | None                         # raw one-sided p in the claimed direction (TOST p for within)
    p_adjusted: float | None                      # Holm-adjusted over the paper's comparisons
    effect_size: float | None                     # Cohen's d of mean(a) - mean(b)
    diff: float | None                            # mean(a) - mean(b)
    diff_ci: tuple[float, float] | None           # Welch 95% interval of the difference
    # -- extras (not part of the agreed minimum) -------------------------------------------
    status: str = "candidate"                     # candidate | confirmed (from claims.yaml)
    relation: str | None = None                   # comparison: greater | less | within; ordering: direction
    margin: float | None = None
    tolerance: float | None = None                # value claims: the tolerance in metric units
    interval: tuple[float, float] | None = None   # value claims: the interval the claimed value is checked against
    p_opposite: float | None = None               # one-sided p against the claim (contradiction)
    p_opposite_adjusted: float | None = None
    pairs: list[dict[str, Any]] = field(default_factory=list)   # ordering: one entry per adjacent pair
    method: str | None = None                     # the test used, in words
    # -- issue 13: verdicts that can fail --------------------------------------------------
    tolerance_from: str | None = None             # value claims: where the tolerance came from
    seeds_to_decide: int | None = None            # value claims left inconclusive: seeds that would decide
    mde: float | None = None                      # comparisons: smallest difference detectable at 80% power
    seeds_needed: int | None = None               # comparisons: seeds per config for the planned effect
    planned_effect: float | None = None           # the effect seeds_needed is for (claim's `effect`, else observed)
    planned_from: str | None = None               # "claim" | "observed"
    flags: list[str] = field(default_factory=list)  # tests that cannot fail (repro/judging/flags.py)
    sanity: bool = False                          # kind: sanity, shown apart and never counted
    rounds: int | None = None                     # --until-decided: the round the verdict was reached in
    alpha: float = ALPHA                          # the level it was judged at (a look's level when sequential)

    @property
    def counted_success(self) -> bool:
        return self.verdict in SUCCESSES and not self.flags and not self.sanity


@dataclass
class AblationRow:
    config: str
    metric: str
    stats: Describe
    baseline: Describe
    diff: float | None
    p_value: float | None                         # two-sided Welch
    p_adjusted: float | None                      # Holm over this metric's rows
    effect_size: float | None
    diff_ci: tuple[float, float] | None = None
    better: bool | None = None                    # significantly better than baseline (None: not significant)
    note: str | None = None


@dataclass
class PaperJudgement:
    paper_id: str
    verdicts: list[ClaimVerdict]
    table: dict[str, dict[str, Describe]]        # config -> metric -> Describe
    ablations: list[AblationRow]
    counts: dict[str, int]                       # verdict -> n (paper's claims; flagged successes left out)
    device_hours: dict[str, float]               # config -> total (all runs, failed ones too)
    failures: list                               # RunRecords not finished
    last_run: str | None                         # latest ended_at
    wall_time_s: dict[str, float] = field(default_factory=dict)
    devices: dict[str, list[str]] = field(default_factory=dict)   # config -> devices used
    outdated: list = field(default_factory=list)  # RunRecords made under another config or code: not judged
    seeds_used: list[int] = field(default_factory=list)  # seeds of the judged (finished, current) runs
    flagged: int = 0                             # successes that could not have failed (not in counts)
    sanity_counts: dict[str, int] = field(default_factory=dict)  # kind: sanity claims, apart
    sequential: dict | None = None               # --until-decided state (repro/judging/sequential.py), when judged so

    def verdict(self, claim_id: str) -> ClaimVerdict:
        """The verdict of one claim (KeyError: no such claim)."""
        return {v.id: v for v in self.verdicts}[claim_id]
