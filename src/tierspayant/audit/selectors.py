"""Read queries on the disclosure log: a person's access history, scoped to an insurer.

The history of a beneficiary lists the rows that name *that* beneficiary: when, which
professional and practice, why, which fields. Nothing about any other person appears, and an
insurer only ever reaches its own beneficiaries (a person covered by two insurers is two
beneficiaries: each insurer sees its own). Lookups that matched nobody name no one, so they
are in no one's history (the breach report counts them as attempts).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from tierspayant.audit.choices import Purpose
from tierspayant.audit.models import DisclosureLog
from tierspayant.crypto.keys import Keyring
from tierspayant.providers.choices import Profession
from tierspayant.registry.models import Beneficiary, Insurer
from tierspayant.registry.nir import InvalidNIR, normalize_nir
from tierspayant.registry.selectors import beneficiaries_by_identity

#: French labels of the fields a disclosure may carry (back-office and beneficiary page).
FIELD_LABELS = {
    "coverage_status": "statut de couverture",
    "rights_period": "période de droits",
    "tiers_payant_domains": "domaines de tiers payant",
    "amc_number": "numéro d'organisme (AMC)",
}


@dataclass(frozen=True)
class AccessEntry:
    """One consultation of a person's data."""

    log_id: int
    request_id: str
    occurred_at: datetime.datetime
    professional: str
    profession: str
    professional_national_id: str
    practice_siret: str
    practice_finess: str
    purpose: str
    purpose_label: str
    fields: tuple[str, ...]
    outcome: str
    channel: str

    @property
    def field_labels(self) -> list[str]:
        return [FIELD_LABELS.get(f, f) for f in self.fields]

    @property
    def practice(self) -> str:
        """The practice's identifier as printed: SIRET, else FINESS, else empty."""
        if self.practice_siret:
            return f"SIRET {self.practice_siret}"
        return f"FINESS {self.practice_finess}" if self.practice_finess else ""


def visible_beneficiary(beneficiary_id: Any, *, insurer: Insurer | None) -> Beneficiary | None:
    """The beneficiary if ``insurer`` (None: operator, sees all) may see its history."""
    queryset = Beneficiary.objects.select_related("contract__insurer").filter(pk=beneficiary_id)
    if insurer is not None:
        queryset = queryset.filter(contract__insurer=insurer)
    return queryset.first()


def access_history(
    beneficiary: Beneficiary, *, insurer: Insurer | None, limit: int = 1000
) -> list[AccessEntry]:
    """The consultations of ``beneficiary``, newest first; empty if ``insurer`` (when given)
    is not the beneficiary's. One query (the professional joined in)."""
    # The history is what professionals saw; reads of the history itself are logged too
    # (purpose ``access_history``) but are not consultations of the person's data by care.
    queryset = DisclosureLog.objects.filter(beneficiary=beneficiary).exclude(
        purpose=Purpose.ACCESS_HISTORY
    )
    if insurer is not None:
        queryset = queryset.filter(beneficiary__contract__insurer=insurer)
    rows = queryset.select_related("professional").order_by("-occurred_at", "-id")[:limit]
    labels = dict(Purpose.choices)
    professions = dict(Profession.choices)
    entries = []
    for row in rows:
        pro = row.professional
        entries.append(
            AccessEntry(
                log_id=row.pk,
                request_id=str(row.request_id),
                occurred_at=row.occurred_at,
                professional=pro.display_name if pro else "",
                profession=professions.get(pro.profession, pro.profession) if pro else "",
                professional_national_id=pro.national_id if pro else "",
                practice_siret=pro.siret if pro else "",
                practice_finess=pro.finess if pro else "",
                purpose=row.purpose,
                purpose_label=labels.get(row.purpose, row.purpose),
                fields=tuple(row.fields_disclosed or ()),
                outcome=row.outcome,
                channel=row.channel,
            )
        )
    return entries


class InvalidIdentity(ValueError):
    """The NIR or birth date given to find a beneficiary is malformed (no value echoed)."""


def insurer_beneficiaries_by_identity(
    keyring: Keyring, *, insurer: Insurer | None, nir: str, birth_date: str | datetime.date
) -> list[Beneficiary]:
    """The beneficiaries of ``insurer`` (None: any, for operator staff) with this NIR and
    birth date, canaries excluded. For insurer staff and the insurer's member apps, finding
    their own members: not a disclosure to a third party. Raises :class:`InvalidIdentity`."""
    try:
        normalised = normalize_nir(nir)
    except InvalidNIR as exc:
        raise InvalidIdentity(f"nir: {exc}") from None
    if not isinstance(birth_date, datetime.date):
        try:
            birth_date = datetime.date.fromisoformat(str(birth_date).strip())
        except ValueError:
            raise InvalidIdentity("birth_date: format AAAA-MM-JJ attendu") from None
    found = beneficiaries_by_identity(keyring, nir=normalised, birth_date=birth_date)
    return [
        b
        for b in found
        if not b.is_canary and (insurer is None or b.contract.insurer_id == insurer.pk)
    ]
