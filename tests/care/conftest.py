"""Personas and helpers for the optician's day: an optician and a second one, a patient
covered by an « Équilibre » contract (optics and audio open), class B glasses."""

from __future__ import annotations

import datetime
import random
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from schwifty import IBAN

from tests.factories import ContractFactory, make_beneficiary, make_professional, new_nir
from tierspayant.audit.choices import Channel
from tierspayant.audit.services import RequestContext
from tierspayant.claims.services import SubmittedClaim, submit_claim
from tierspayant.priorauth.config import CareConfig
from tierspayant.priorauth.gate import Identity
from tierspayant.priorauth.lpp import LineInput
from tierspayant.priorauth.models import PriorApproval
from tierspayant.priorauth.services import request_prior_approval
from tierspayant.priorauth.synthetic import synthetic_prescription
from tierspayant.providers.banking import register_first_bank_account
from tierspayant.providers.models import Professional
from tierspayant.providers.synthetic import synthetic_rpps
from tierspayant.registry.models import Beneficiary

TODAY = datetime.date(2025, 3, 14)
NOW = datetime.datetime(2025, 3, 14, 9, 30, tzinfo=datetime.UTC)
BORN = datetime.date(1982, 6, 3)
#: The prescribing doctor of the synthetic prescriptions (valid Luhn key, not a real one).
PRESCRIBER = synthetic_rpps(random.Random(15))
#: ``approve(prescription=AUTO)``: a synthetic prescription every line accepts.
AUTO: Any = object()

#: Class B glasses: adult frame, two simple lenses (2 x 120 EUR), 390 EUR in all.
GLASSES = [
    LineInput(code="2264861", billed="150.00"),
    LineInput(code="2208756", billed="120.00", side="right"),
    LineInput(code="2208756", billed="120.00", side="left"),
]


def french_iban(bank: str, branch: str, account: str) -> str:
    """A valid synthetic French IBAN (RIB key and check digits computed by schwifty)."""
    return str(IBAN.generate("FR", bank_code=bank, branch_code=branch, account_code=account))


def context(channel: Channel = Channel.PORTAL, actor: int | None = None) -> RequestContext:
    return RequestContext(
        channel=channel,
        request_id=uuid.uuid4(),
        ip="192.0.2.10",
        user_agent="pytest",
        actor_id=actor,
    )


@dataclass
class Patient:
    beneficiary: Beneficiary
    nir: str
    born: datetime.date

    @property
    def identity(self) -> Identity:
        return Identity(nir=self.nir, birth_date=self.born)


@pytest.fixture
def config() -> CareConfig:
    return CareConfig.from_settings(settings)


def make_patient(
    *, table: str = "equilibre", domains: list[str] | None = None, **extra: Any
) -> Patient:
    contract = ContractFactory(
        guarantee_table=table,
        tiers_payant_domains=domains if domains is not None else ["optical", "audio", "pharmacy"],
    )
    born = extra.pop("born", BORN)
    nir = new_nir(born)
    return Patient(
        make_beneficiary(contract=contract, nir=nir, birth_date=born, **extra), nir, born
    )


@pytest.fixture
def patient(db: None) -> Patient:
    return make_patient()


@pytest.fixture
def paid_optician(db: None) -> Professional:
    """An optician with a contact email and a bank account in force."""
    professional = make_professional(email="optique@example.org")
    register_first_bank_account(
        settings.TIERSPAYANT_KEYRING.encryption,
        professional=professional,
        iban=french_iban("30004", "00003", "12345678901"),
        bic="BNPAFRPP",
        holder_name="Optique du Centre",
        now=NOW - datetime.timedelta(days=30),
    )
    return professional


def approve(
    config: CareConfig,
    professional: Professional,
    patient: Patient,
    lines: list[LineInput] | None = None,
    *,
    planned: datetime.date = TODAY,
    now: datetime.datetime = NOW,
    today: datetime.date = TODAY,
    prescription: dict[str, Any] | None = AUTO,
    estimate: bool = False,
) -> PriorApproval:
    """Request an approval (an estimate with ``estimate``); ``prescription``: the
    default is a synthetic prescription every line accepts (``priorauth.synthetic``)."""
    lines = GLASSES if lines is None else lines
    if prescription is AUTO:
        prescription = rx(lines, planned if isinstance(planned, datetime.date) else TODAY)
    return request_prior_approval(
        config,
        professional=professional,
        identity=patient.identity,
        planned_date=planned,
        lines=lines,
        context=context(),
        now=now,
        today=today,
        prescription=prescription,
        estimate=estimate,
    )


def rx(lines: list[LineInput], care_date: datetime.date = TODAY) -> dict[str, Any] | None:
    """A synthetic prescription every line of ``lines`` accepts (None for dental)."""
    return synthetic_prescription(lines, care_date=care_date, prescriber_rpps=PRESCRIBER)


def invoice(
    config: CareConfig,
    professional: Professional,
    patient: Patient,
    number: str,
    lines: list[LineInput] | None = None,
    *,
    approval: str = "",
    care_date: datetime.date = TODAY,
    now: datetime.datetime = NOW,
    today: datetime.date = TODAY,
) -> SubmittedClaim:
    return submit_claim(
        config,
        professional=professional,
        identity=patient.identity,
        invoice_number=number,
        care_date=care_date,
        lines=GLASSES if lines is None else lines,
        approval_number=approval,
        context=context(),
        now=now,
        today=today,
    )


def euros(value: str) -> Decimal:
    return Decimal(value)


def rx_form(lines: list[LineInput], care_date: datetime.date = TODAY) -> dict[str, str]:
    """The portal form's prescription fields (prefix ``rx``) of :func:`rx`."""
    data = rx(lines, care_date) or {}
    fields = {f"rx-{key}": str(value) for key, value in data.items() if isinstance(value, str)}
    for side in ("right", "left"):
        for part, value in (data.get(side) or {}).items():
            fields[f"rx-{side}_{part}"] = str(value)
    return fields
