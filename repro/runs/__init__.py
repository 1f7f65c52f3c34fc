"""Configs x seeds planned, executed, cached and resumed (`repro run`, `status`, `track`):
the planner and its cache key, the sweep, the training loop and its workers, the
executors, locks, interrupts, progress and trackers. torch and Lightning are imported
by training.py, in a run's own process (and by tracking.py when it sends runs).

Nothing is imported here: `import repro.runs` stays cheap."""
