"""Fixtures of the engagement tests: an attested family (member number, convention type,
routing criterion, guarantee table) and the invoice fixtures (nomenclatures)."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings

from tests.factories import (
    ContractFactory,
    InsurerFactory,
    give_member_number,
    make_beneficiary,
    new_nir,
)
from tests.invoices.conftest import _loaded_nomenclatures, nomenclatures  # noqa: F401
from tierspayant.audit.choices import Channel
from tierspayant.audit.services import RequestContext
from tierspayant.eligibility.services import RightsCheckInput, RightsCheckResult, check_rights
from tierspayant.providers.models import Professional
from tierspayant.registry.choices import Domain
from tierspayant.registry.models import Beneficiary

AMC = "88000017"
MEMBER = "A1234567"
BORN = datetime.date(1981, 4, 2)
CARE = datetime.date(2025, 3, 14)
TODAY = datetime.date(2025, 3, 14)
NOW = datetime.datetime(2025, 3, 14, 9, 30, tzinfo=datetime.UTC)


@dataclass
class Family:
    nir: str
    insured: Beneficiary


@pytest.fixture
def attested(db: None) -> Family:
    """An insured person on a responsible contract (table ``essentiel``, pharmacy and
    optical open), convention ``TP``, routing criterion ``R01``, member number ``A1234567``."""
    contract = ContractFactory(
        insurer=InsurerFactory(amc_number=AMC),
        number="CT-ATTEST",
        tiers_payant_domains=[Domain.PHARMACY.value, Domain.OPTICAL.value],
        guarantee_table="essentiel",
        convention_type="TP",
        routing_criterion="R01",
    )
    nir = new_nir(BORN)
    insured = make_beneficiary(contract=contract, nir=nir, birth_date=BORN)
    give_member_number(insured, settings.TIERSPAYANT_KEYRING, MEMBER)
    return Family(nir, insured)


def v2(family: Family, **changes: Any) -> RightsCheckInput:
    """The v2 query as read from the family's attestation, with ``changes``."""
    fields: dict[str, Any] = {
        "nir": family.nir,
        "birth_date": BORN,
        "amc_number": AMC,
        "member_number": MEMBER,
        "convention_type": "TP",
        "routing_criterion": "R01",
        "domain": "pharmacy",
        "care_date": CARE,
    }
    fields.update(changes)
    return RightsCheckInput(**fields)


def context(professional: Professional) -> RequestContext:
    return RequestContext(
        channel=Channel.API,
        request_id=uuid.uuid4(),
        ip="192.0.2.10",
        user_agent="test-agent",
        actor_id=professional.user_id,
    )


def run(
    professional: Professional, query: RightsCheckInput, *, now: datetime.datetime = NOW, **kw: Any
) -> RightsCheckResult:
    kw.setdefault("daily_quota", 50)
    return check_rights(
        settings.TIERSPAYANT_KEYRING,
        professional=professional,
        query=query,
        context=context(professional),
        now=now,
        today=TODAY,
        quota_storage_uri=settings.TIERSPAYANT_QUOTA_STORAGE_URI,
        tables_dir=settings.TIERSPAYANT_GUARANTEE_TABLES_DIR,
        **kw,
    )
