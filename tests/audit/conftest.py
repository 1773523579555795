"""Fixtures of the audit tests: a checkpoint store per test, log rows written through the real
service, and a way to tamper with the database as an attacker owning the table would."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tierspayant.audit import db_guard
from tierspayant.audit.checkpoints import CheckpointStore
from tierspayant.audit.choices import Channel, Outcome, Purpose
from tierspayant.audit.models import DisclosureLog
from tierspayant.audit.services import RequestContext, record_disclosure
from tierspayant.providers.models import Professional
from tierspayant.registry.models import Beneficiary

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _checkpoint_dir(settings, tmp_path: Path) -> Path:
    """Every audit test signs into its own store, never into var/."""
    directory = tmp_path / "checkpoints"
    settings.TIERSPAYANT_AUDIT_CHECKPOINT_DIR = directory
    return directory


@pytest.fixture
def store(_checkpoint_dir: Path) -> CheckpointStore:
    return CheckpointStore(_checkpoint_dir, settings.TIERSPAYANT_AUDIT_SIGNING_KEYS)


def context(ip: str | None = "192.0.2.10") -> RequestContext:
    return RequestContext(
        channel=Channel.API, request_id=uuid.uuid4(), ip=ip, user_agent="test", actor_id=None
    )


def log_row(
    professional: Professional,
    beneficiary: Beneficiary | None = None,
    *,
    at: datetime.datetime = T0,
    outcome: Outcome | None = None,
    ip: str | None = "192.0.2.10",
) -> DisclosureLog:
    """One row through ``record_disclosure``: a covered answer for ``beneficiary``, or a
    no-match when there is none."""
    row_id = record_disclosure(
        context=context(ip),
        professional=professional,
        purpose=Purpose.RIGHTS_CHECK,
        outcome=outcome or (Outcome.COVERED if beneficiary else Outcome.NO_MATCH),
        occurred_at=at,
        beneficiary=beneficiary,
        fields_disclosed=["coverage_status", "rights_period"] if beneficiary else [],
    )
    return DisclosureLog.objects.get(pk=row_id)


@pytest.fixture
def tamper() -> Callable[..., None]:
    """Run SQL as the table's owner would: triggers dropped for the statement, then put back."""

    def run(sql: str, params: list[object] | None = None) -> None:
        db_guard.uninstall(connection)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params or [])
        finally:
            db_guard.install(connection)

    return run
