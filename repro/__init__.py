"""repro: turn papers into runnable, judged reproductions.

The library API (repro/api.py) is imported on first use, so `import repro` stays free of
torch and lightning:

    import repro
    repro.run_paper("papers/1611.03530", seeds=[0])   # -> repro.api.Results
    repro.judge("papers/1611.03530")                  # -> repro.api.Verdicts
    repro.load_results("papers/1611.03530").to_rows()
    repro.run_status("papers/1611.03530")             # -> [repro.runs.status.RunState], as `repro status`
"""

__version__ = "0.1.0"

__all__ = ["run_paper", "judge", "load_results", "run_status", "Run", "Results", "Verdict", "Verdicts", "__version__"]


def __getattr__(name: str):
    if name in __all__:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'repro' has no attribute {name!r}")
