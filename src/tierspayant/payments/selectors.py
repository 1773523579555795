"""Read queries on payments, within one professional's own objects."""

from __future__ import annotations

from pathlib import Path

from django.db.models import QuerySet

from tierspayant.payments.models import Statement, Transfer
from tierspayant.providers.models import Professional


def statements_of(professional: Professional) -> QuerySet[Statement]:
    """The professional's statements, newest first, with their run."""
    return Statement.objects.filter(professional=professional).select_related("run")


def statement_of(professional: Professional, pk: int) -> Statement:
    """One of the professional's statements; ``Statement.DoesNotExist`` otherwise."""
    return statements_of(professional).get(pk=pk)


def statement_file(statement: Statement, kind: str) -> Path:
    """Path of the statement's ``pdf`` or ``csv`` file in its run's directory."""
    name = statement.pdf_name if kind == "pdf" else statement.csv_name
    return Path(statement.run.directory) / name


def transfers_of(statement: Statement) -> QuerySet[Transfer]:
    """The transfers that paid the statement's professional in its run, with their lines."""
    return (
        Transfer.objects.filter(run=statement.run, professional=statement.professional)
        .select_related("insurer", "bank_account")
        .prefetch_related("lines__claim")
    )
