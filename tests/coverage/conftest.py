"""Fixtures of the coverage tests: the example guarantee tables, loaded once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.coverage.builders import TABLES_DIR
from tierspayant.coverage import GuaranteeTable, load_guarantee_table


@pytest.fixture(scope="session")
def tables_dir() -> Path:
    """fixtures/guarantee-tables of the project."""
    return TABLES_DIR


@pytest.fixture(scope="session")
def tables() -> dict[str, GuaranteeTable]:
    """The three example tables by id."""
    return {path.stem: load_guarantee_table(path) for path in sorted(TABLES_DIR.glob("*.json"))}
