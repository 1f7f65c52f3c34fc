"""Fixtures shared by the test modules. Helpers they import live in tests/helpers/
(pytest puts tests/ on sys.path: this folder has no __init__.py)."""

from pathlib import Path

import pytest

from helpers.cli import FIXTURES


@pytest.fixture
def fixtures_dir() -> Path:
    if not FIXTURES.is_dir():
        pytest.skip("../shared/fixtures is absent")
    return FIXTURES
