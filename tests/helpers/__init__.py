"""Test helpers the test modules (and bench/) import: `from helpers.tinypaper import make_tiny_paper`."""
