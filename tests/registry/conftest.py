"""Member-file fixtures: the synthetic register's insurers and contracts, file writing and
running an import that collects its error report."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tierspayant.registry.member_file.columns import HEADER
from tierspayant.registry.member_file.importer import ImportSummary, import_members
from tierspayant.registry.member_file.parsing import LineError
from tierspayant.registry.synthetic import register_synthetic_contracts

TODAY = datetime.date(2026, 11, 29)
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "member-files"
ALL_DOMAINS = "pharmacy|optical|audio|dental|hospital|consultation"


@pytest.fixture
def synthetic_register(db: None) -> None:
    """The four synthetic insurers and their twelve contracts."""
    register_synthetic_contracts()


def member_row(
    nir: str,
    *,
    amc: str = "70100001",
    contract: str = "701-IND-CONFORT",
    contract_type: str = "individual",
    rang: str = "1",
    last_name: str = "Durand",
    first_name: str = "Léa",
    birth: str = "1984-07-02",
    quality: str = "insured",
    start: str = "2024-01-01",
    end: str = "",
    domains: str = ALL_DOMAINS,
) -> str:
    """One member-file line, columns in the documented order."""
    return ";".join(
        (
            amc,
            contract,
            contract_type,
            nir,
            rang,
            last_name,
            first_name,
            birth,
            quality,
            start,
            end,
            domains,
        )
    )


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[..., Path]:
    """Write ``rows`` (strings) under the standard header to a new file; return its path."""
    made = iter(range(1000))

    def write(rows: list[str], *, header: str = HEADER) -> Path:
        path = tmp_path / f"adherents-{next(made)}.csv"
        path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
        return path

    return write


@pytest.fixture
def run_import() -> Callable[..., tuple[ImportSummary, list[LineError]]]:
    """Import a file with the test keyring as of :data:`TODAY`; return (summary, errors)."""

    def run(path: Path, **options: Any) -> tuple[ImportSummary, list[LineError]]:
        errors: list[LineError] = []
        options.setdefault("keyring", settings.TIERSPAYANT_KEYRING)
        summary = import_members(path, today=TODAY, report=errors.append, **options)
        return summary, errors

    return run
