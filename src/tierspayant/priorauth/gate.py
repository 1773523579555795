"""Identifying the beneficiary of a quote or an invoice through the disclosure gate.

A quote or an invoice names its patient exactly as a rights check does (NIR and birth date
from the card, optionally rang and AMC number), so it goes through the rights check itself
(``eligibility.services.check_rights``): the same guard (lockdown, suspension, step-up,
quotas, detectors, canaries), the same no-oracle answers, and one disclosure-log row written
in the transaction of the read. The beneficiary is then taken from that row; nothing here
looks a person up by identity.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from tierspayant.audit.choices import Outcome, Purpose
from tierspayant.audit.models import DisclosureLog
from tierspayant.audit.services import RequestContext
from tierspayant.eligibility.services import InvalidRightsCheck, RightsCheckInput, check_rights
from tierspayant.priorauth.config import CareConfig
from tierspayant.priorauth.lpp import InvalidCareRequest
from tierspayant.providers.models import Professional
from tierspayant.registry.models import Beneficiary


class BeneficiaryNotFound(Exception):
    """No beneficiary matches the card's details: the same answer whatever part was wrong
    (no oracle), as the rights check gives it."""

    message = (
        "Aucun droit trouvé pour ces informations. Vérifiez le NIR, la date de naissance et "
        "l'organisme sur la carte du patient."
    )


@dataclass(frozen=True)
class Identity:
    """The patient as written on the card: NIR (15 characters), birth date (ISO text or
    date), optional rang de naissance and AMC number."""

    nir: str
    birth_date: str | datetime.date
    rang: int | str | None = None
    amc_number: str | None = None


@dataclass(frozen=True)
class Identified:
    """The gate's answer: ``covered`` (rights on the date) or ``not_covered`` (identity
    matched, no rights), the beneficiary, and the disclosure-log row written."""

    covered: bool
    beneficiary: Beneficiary
    log_id: int


def parse_birth_date(value: str | datetime.date, today: datetime.date) -> datetime.date:
    """The birth date as a date; raises InvalidCareRequest("birth_date") when unreadable or
    in the future (the gate checks it again and logs its own refusal)."""
    if isinstance(value, datetime.date):
        born = value
    else:
        try:
            born = datetime.date.fromisoformat(str(value or "").strip())
        except ValueError:
            raise InvalidCareRequest(
                "birth_date", "date de naissance invalide (format AAAA-MM-JJ attendu)"
            ) from None
    if born > today:
        raise InvalidCareRequest("birth_date", "la date de naissance est dans le futur")
    return born


def age_on(born: datetime.date, day: datetime.date) -> int:
    """Whole years between ``born`` and ``day``."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def identify(
    config: CareConfig,
    *,
    professional: Professional,
    identity: Identity,
    care_date: datetime.date,
    date_field: str,
    context: RequestContext,
    now: datetime.datetime,
    today: datetime.date,
    purpose: Purpose,
    step_up_verified_at: datetime.datetime | None = None,
) -> Identified:
    """Run the rights check for ``identity`` on ``care_date`` and return the beneficiary.

    ``purpose`` (``prior_approval`` or ``claim``) is written to the disclosure log, so the
    log says why each person's data was read.

    Raises BeneficiaryNotFound (no match), InvalidCareRequest (bad identity field, or
    ``rang`` when twins need it; ``care_date`` errors are renamed ``date_field``), and the
    guard's refusals (``QuotaExceeded``, ``AccountSuspended``, ``StepUpRequired``,
    ``PortalLocked``, ``GuardUnavailable``) as the rights check raises them, already logged.
    """
    try:
        result = check_rights(
            config.keyring,
            professional=professional,
            query=RightsCheckInput(
                nir=identity.nir,
                birth_date=identity.birth_date,
                rang=identity.rang,
                amc_number=identity.amc_number,
                care_date=care_date,
            ),
            context=context,
            now=now,
            today=today,
            quota_storage_uri=config.quota_storage_uri,
            daily_quota=config.daily_quota,
            policy=config.policy,
            step_up_verified_at=step_up_verified_at,
            purpose=purpose,
        )
    except InvalidRightsCheck as exc:
        field = date_field if exc.field == "care_date" else exc.field
        raise InvalidCareRequest(field, exc.message) from None
    if result.outcome == Outcome.AMBIGUOUS:
        raise InvalidCareRequest(
            "rang", "plusieurs bénéficiaires partagent ce NIR et cette date : précisez le rang"
        )
    if result.outcome not in (Outcome.COVERED, Outcome.NOT_COVERED):
        raise BeneficiaryNotFound
    row = DisclosureLog.objects.select_related("beneficiary__contract__insurer").get(
        pk=result.log_id
    )
    if row.beneficiary is None:  # pragma: no cover - a disclosing row always names someone
        raise BeneficiaryNotFound
    return Identified(
        covered=result.outcome == Outcome.COVERED, beneficiary=row.beneficiary, log_id=row.pk
    )
