"""Recall/precision of the LaTeX and PDF table extractors on 1706.03762, Tables 2 and 3.

    python bench/extraction_accuracy.py

Ground truth: tests/data/1706.03762_tables.yaml (typed by hand from the LaTeX source).
The paper itself lives in ../shared/fixtures; without it the script says so and exits 0.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from repro.extract.tables import accuracy, tables_from_latex, tables_from_pdf  # noqa: E402

PAPER = REPO.parent / "shared" / "fixtures" / "papers" / "1706.03762"
TRUTH = REPO / "tests" / "data" / "1706.03762_tables.yaml"


def main() -> int:
    if not PAPER.is_dir():
        print(f"skipped: {PAPER} is absent (the real paper is needed to measure accuracy)")
        return 0
    truth = yaml.safe_load(TRUTH.read_text(encoding="utf-8"))["tables"]
    results = {
        "latex": accuracy(tables_from_latex((PAPER / "source.tex").read_text(encoding="utf-8")), truth),
        "pdf": accuracy(tables_from_pdf(str(PAPER / "paper.pdf")), truth),
    }
    print(f"1706.03762 Tables {', '.join(truth)}: {results['latex']['expected']} numeric cells in the ground truth")
    for name, r in results.items():
        print(f"{name:>5}: recall {r['recall']:.1%} ({r['correct']}/{r['expected']}), "
              f"precision {r['precision']:.1%} ({r['correct']}/{r['extracted']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
