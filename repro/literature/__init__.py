"""A paper into a runnable folder (`repro new`): arXiv ids and downloads, safe
archive and PDF reading, extraction of tables, claims and hyperparameters, the
scaffold and its architecture family, and the architecture check (archcheck,
which builds models on torch's meta device).

Nothing is imported here: `import repro.literature` stays cheap."""
