"""repro: turn papers into runnable, judged reproductions."""

__version__ = "0.1.0"
