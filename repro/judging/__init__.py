"""Claims judged against runs (`repro report`, `site`, `check`): statistics, verdicts,
flags for tests that cannot fail, sequential looks, report.md and the static site.

Nothing is imported here: `import repro.judging` stays cheap."""
