"""Celery tasks of invoices: adjudicate a received lot (``lots.adjudicate_lot``)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tierspayant.guard.services import GuardUnavailable
from tierspayant.invoices.lots import LotConfig, adjudicate_lot
from tierspayant.jobs import app


@app.task(
    name="invoices.adjudicate_lot",
    autoretry_for=(GuardUnavailable,),
    retry_backoff=30,
    max_retries=20,
)
def adjudicate_lot_task(lot_id: int) -> None:
    """Adjudicate lot ``lot_id`` chunk by chunk; retried later while the guard's counter
    store is unavailable (the chunk under way is rolled back, finished chunks stay)."""
    adjudicate_lot(LotConfig.from_settings(settings), lot_id, clock=timezone.now)


def schedule_lot(lot_id: int) -> None:
    """Queue the lot's adjudication once the transaction that stored it commits (at once,
    in the caller, when tasks run eagerly)."""
    transaction.on_commit(lambda: adjudicate_lot_task.delay(lot_id))
