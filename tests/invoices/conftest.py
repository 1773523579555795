"""Fixtures of the invoice tests: the public nomenclatures, loaded once per test database
from ../shared/fixtures/nomenclatures (read in place), and professionals by profession."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings

from tierspayant.invoices.models import ReferenceTable
from tierspayant.invoices.nomenclatures import SPECS
from tierspayant.invoices.services import load_nomenclatures

NOMENCLATURES = Path(settings.TIERSPAYANT_NOMENCLATURES_DIR)
LOADED_AT = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def _loaded_nomenclatures(django_db_setup: None, django_db_blocker: object) -> None:
    if not NOMENCLATURES.is_dir():
        pytest.skip("../shared/fixtures/nomenclatures is not beside the project")
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        load_nomenclatures(NOMENCLATURES, now=LOADED_AT)


@pytest.fixture
def nomenclatures(_loaded_nomenclatures: None, db: None) -> None:
    """Every nomenclature loaded (again, when a transactional test emptied the database)."""
    if ReferenceTable.objects.count() != len(SPECS):
        load_nomenclatures(NOMENCLATURES, now=LOADED_AT)
