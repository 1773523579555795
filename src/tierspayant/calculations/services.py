"""The calculation (CLC): the AMC amount of invoice lines of any family before billing.

``calculate`` runs the invoice adjudication's own path (``invoices.services.validate_invoice``
then ``price_invoice``: same nomenclature checks, same coverage engine, same guarantee table)
on lines that are not billed yet. The patient is identified through the disclosure gate,
``eligibility.services.check_rights`` with the v2 (attestation) keys and
``purpose=Purpose.CALCULATION``: counted against the same quotas, logged as one disclosure
(fields ``amc_amount``, ``domain_rules``, ``engagement`` besides the rights), and the
engagement it issues carries the amount calculated and the lines' fingerprint, so the
invoice of those lines is paid at least that amount (``invoices.engagements``).
docs/attestations.md, "Engagements"; docs/fhir.md for the FHIR form.
"""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from tierspayant.audit.choices import Outcome, Purpose
from tierspayant.audit.services import RequestContext
from tierspayant.coverage import CoverageError, CoverageResult, History
from tierspayant.crypto.keys import Keyring
from tierspayant.eligibility.engagements import (
    DOMAIN_FAMILIES,
    contract_table,
    engagement_digest,
)
from tierspayant.eligibility.models import Engagement
from tierspayant.eligibility.services import RightsCheckInput, check_rights
from tierspayant.guard.policy import GuardPolicy
from tierspayant.invoices.engagements import lines_digest
from tierspayant.invoices.inputs import InvoiceInput
from tierspayant.invoices.selectors import Nomenclatures
from tierspayant.invoices.services import (
    InvoiceCheck,
    price_invoice,
    professional_specialty,
    validate_invoice,
)
from tierspayant.providers.models import Professional
from tierspayant.registry.choices import Domain


class InvalidCalculation(ValueError):
    """The lines cannot be calculated; ``problems`` are the invoice checks' entries
    (``{"code", "line", "field", "message"}``, French, no personal data). Nothing about
    any person was read or disclosed."""

    def __init__(self, problems: list[dict[str, object]]) -> None:
        super().__init__("; ".join(str(p["message"]) for p in problems))
        self.problems = problems


class CalculationUnavailable(Exception):
    """The beneficiary's contract names no readable guarantee table: an operator's set-up
    problem, answered as "service unavailable"."""

    message = "Les garanties de ce contrat ne sont pas disponibles : réessayez plus tard."


@dataclass(frozen=True)
class Calculation:
    """The answer: the rights check's outcome and log row; when covered for the domain,
    the engagement (number, expiry), the domain's rules and the engine's result (per line
    AMO as stated, AMC and remaining cost, euros)."""

    outcome: Outcome
    care_date: datetime.date
    log_id: int
    domain: Domain
    engagement: str | None = None
    engagement_expires_at: datetime.datetime | None = None
    result: CoverageResult | None = None
    domain_rules: list[dict[str, object]] = field(default_factory=list)

    @property
    def amc(self) -> Decimal | None:
        """Total AMC amount (euros), None when not calculated."""
        return self.result.totals.amc if self.result else None


def domain_of(check: InvoiceCheck, asked: str | None) -> Domain:
    """The domain of the calculation: the one asked, else the single domain covering every
    line's family. Raises InvalidCalculation naming ``domain``."""
    families = {f for f in check.families if f is not None}
    if asked not in (None, ""):
        try:
            return Domain(str(asked))
        except ValueError:
            pass
    else:
        fitting = [d for d, covered in DOMAIN_FAMILIES.items() if families <= covered]
        if len(fitting) == 1:
            return fitting[0]
    raise InvalidCalculation(
        [
            {
                "code": "INVALID_DOMAIN",
                "line": None,
                "field": "domain",
                "message": "Champ domain : domaine inconnu ou lignes de plusieurs domaines "
                "(" + ", ".join(d.value for d in Domain) + ").",
            }
        ]
    )


def age_on(birth_date: datetime.date, day: datetime.date) -> int:
    """Age in whole years on ``day``."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def calculate(
    keyring: Keyring,
    *,
    professional: Professional,
    query: RightsCheckInput,
    invoice: InvoiceInput,
    context: RequestContext,
    now: datetime.datetime,
    today: datetime.date,
    quota_storage_uri: str,
    tables_dir: Path,
    daily_quota: int | None = None,
    policy: GuardPolicy | None = None,
    history: History | None = None,
    nomenclatures: Nomenclatures | None = None,
) -> Calculation:
    """Calculate the AMC amount of ``invoice``'s lines for the patient of ``query`` (v2
    keys: ``member_number`` and ``amc_number`` required; the care date is the invoice's).

    The lines are checked first (InvalidCalculation: nothing read, nothing counted); then
    the gate (raises like ``check_rights``: InvalidRightsCheck, guard refusals); when the
    answer is covered for the domain, the lines are priced under the contract's guarantee
    table (the beneficiary's age on the care date, ``history`` of earlier care, default
    none) and the engagement records the amount. Raises CalculationUnavailable when the
    contract's guarantee table is missing, InvalidCalculation when the engine refuses a
    line (e.g. a care date before the table's first version)."""
    specialty, establishment = professional_specialty(professional)
    check = validate_invoice(
        invoice, specialty=specialty, establishment=establishment, nomenclatures=nomenclatures
    )
    if not check.valid:
        raise InvalidCalculation([p.to_dict() for p in check.problems])
    domain = domain_of(check, query.domain)
    query = dataclasses.replace(query, domain=domain.value, care_date=invoice.care_date)
    answer = check_rights(
        keyring,
        professional=professional,
        query=query,
        context=context,
        now=now,
        today=today,
        quota_storage_uri=quota_storage_uri,
        daily_quota=daily_quota,
        policy=policy,
        purpose=Purpose.CALCULATION,
        tables_dir=tables_dir,
    )
    base = Calculation(
        outcome=answer.outcome,
        care_date=answer.care_date,
        log_id=answer.log_id,
        domain=domain,
        domain_rules=answer.domain_rules,
    )
    if answer.engagement is None:
        return base
    with transaction.atomic():
        engagement = (
            Engagement.objects.select_for_update()
            .select_related("beneficiary__contract")
            .get(number_digest=engagement_digest(answer.engagement))
        )
        table = contract_table(engagement.beneficiary.contract, tables_dir)
        if table is None:
            raise CalculationUnavailable
        # The gate matched this birth date: the one read from the card is the record's.
        born = query.birth_date
        birth_date = (
            born
            if isinstance(born, datetime.date)
            else datetime.date.fromisoformat(str(born).strip())
        )
        try:
            result = price_invoice(
                invoice,
                check,
                table=table,
                beneficiary_age=age_on(birth_date, invoice.care_date),
                history=history or History(),
            )
        except CoverageError as exc:
            raise InvalidCalculation(
                [
                    {
                        "code": "INVALID_VALUE",
                        "line": None,
                        "field": exc.field,
                        "message": f"Champ {exc.field} : valeur refusée par le moteur de calcul.",
                    }
                ]
            ) from None
        engagement.amc_amount = result.totals.amc
        engagement.lines_digest = lines_digest(invoice)
        engagement.save(update_fields=["amc_amount", "lines_digest"])
    return dataclasses.replace(
        base,
        engagement=answer.engagement,
        engagement_expires_at=answer.engagement_expires_at,
        result=result,
    )
