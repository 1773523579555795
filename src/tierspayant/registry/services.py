"""Writes to the register. Each function validates, encrypts and stores in one transaction."""

from __future__ import annotations

import datetime

from django.db import transaction

from tierspayant.crypto.blind_index import blind_index
from tierspayant.crypto.fields import encrypt_field
from tierspayant.crypto.keys import Keyring, KeySet
from tierspayant.registry.choices import ContractType, Domain, Quality
from tierspayant.registry.models import Beneficiary, Contract, Insurer
from tierspayant.registry.nir import InvalidNIR, normalize_nir
from tierspayant.registry.row_ids import new_row_id

IDENTITY_PURPOSE = "beneficiary-identity"
MEMBER_NUMBER_PURPOSE = "member-number"


class InvalidRegisterEntry(ValueError):
    """A register write was refused; ``field`` names the offending field. No personal data."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


#: A member number: 1 to 20 ASCII letters or digits (the attestation's field; the
#: standard's exact size could not be checked in public sources: docs/attestations.md).
MEMBER_NUMBER_RULE = "1 à 20 lettres ou chiffres attendus"
MAX_MEMBER_NUMBER = 20


def is_member_number(value: str) -> bool:
    """True for a well-formed member number (see :data:`MEMBER_NUMBER_RULE`)."""
    return 1 <= len(value) <= MAX_MEMBER_NUMBER and value.isascii() and value.isalnum()


def identity_parts(nir: str, birth_date: datetime.date) -> tuple[str, str]:
    """The normalised values the identity blind index covers: (15-char NIR, ISO birth date)."""
    return (nir, birth_date.isoformat())


def member_number_index(keys: KeySet, amc_number: str, member_number: str) -> str:
    """The keyed blind index of a family's member number (numéro d'adhérent) at the insurer
    ``amc_number``, under the active key (``Beneficiary.member_number_index``). Look up with
    ``blind_index_candidates(keys, amc_number, member_number, purpose=MEMBER_NUMBER_PURPOSE)``."""
    return blind_index(keys, amc_number, member_number, purpose=MEMBER_NUMBER_PURPOSE)


def create_insurer(*, amc_number: str, name: str) -> Insurer:
    """Create an insurer. ``amc_number``: 8 to 10 digits. Raises :class:`InvalidRegisterEntry`."""
    if not (amc_number.isdigit() and 8 <= len(amc_number) <= 10):
        raise InvalidRegisterEntry("amc_number", "8 à 10 chiffres attendus")
    return Insurer.objects.create(amc_number=amc_number, name=name)


def create_contract(
    *,
    insurer: Insurer,
    number: str,
    contract_type: ContractType,
    responsible: bool,
    valid_from: datetime.date,
    valid_to: datetime.date | None,
    domains: list[Domain],
    guarantee_table: str = "",
    convention_type: str = "",
    routing_criterion: str = "",
) -> Contract:
    """Create a contract; ``domains`` are the kinds of care open to tiers payant and
    ``guarantee_table`` names the coverage engine's table (``fixtures/guarantee-tables/<id>``).

    Raises :class:`InvalidRegisterEntry` if the validity period ends before it starts.
    """
    if valid_to is not None and valid_to < valid_from:
        raise InvalidRegisterEntry("valid_to", "la fin de validité précède le début")
    return Contract.objects.create(
        insurer=insurer,
        number=number,
        contract_type=ContractType(contract_type),
        responsible=responsible,
        valid_from=valid_from,
        valid_to=valid_to,
        tiers_payant_domains=[Domain(d).value for d in domains],
        guarantee_table=guarantee_table,
        convention_type=convention_type,
        routing_criterion=routing_criterion,
    )


def build_beneficiary(
    keyring: Keyring,
    *,
    contract: Contract,
    nir: str,
    rang: int,
    birth_date: datetime.date,
    last_name: str,
    first_name: str,
    quality: Quality,
    rights_start: datetime.date,
    rights_end: datetime.date | None,
    member_number: str = "",
    formulas: str = "",
    amo_regime: str = "",
    amo_fund: str = "",
    tiers_payant_suspended: bool = False,
) -> Beneficiary:
    """An unsaved, fully encrypted :class:`Beneficiary` (for ``bulk_create`` by importers).

    ``member_number`` (the family's numéro d'adhérent, "" for none) is stored encrypted with
    its blind index (:func:`member_number_index`, keyed by the contract's insurer's AMC
    number); ``formulas`` is ``Beneficiary.formulas``' text (``domain=formula|...``).
    Raises :class:`InvalidRegisterEntry` (field ``nir``, ``rang``, ``rights_end`` or
    ``member_number``) on bad input; ``registry.nir.InvalidNIR`` reasons are carried without
    the number.
    """
    member_number = member_number.strip()
    if member_number and not is_member_number(member_number):
        raise InvalidRegisterEntry("member_number", MEMBER_NUMBER_RULE)
    try:
        nir = normalize_nir(nir)
    except InvalidNIR as exc:
        raise InvalidRegisterEntry("nir", str(exc)) from None
    if not 1 <= rang <= 9:
        raise InvalidRegisterEntry("rang", "le rang de naissance va de 1 à 9")
    if rights_end is not None and rights_end < rights_start:
        raise InvalidRegisterEntry("rights_end", "la fin des droits précède leur début")
    row_id = new_row_id()
    table = Beneficiary.TABLE
    return Beneficiary(
        id=row_id,
        contract=contract,
        nir_ciphertext=encrypt_field(
            keyring.encryption, nir, table=table, column="nir", row_id=str(row_id)
        ),
        birth_date_ciphertext=encrypt_field(
            keyring.encryption,
            birth_date.isoformat(),
            table=table,
            column="birth_date",
            row_id=str(row_id),
        ),
        identity_index=blind_index(
            keyring.index, *identity_parts(nir, birth_date), purpose=IDENTITY_PURPOSE
        ),
        rang=rang,
        member_number_ciphertext=encrypt_field(
            keyring.encryption,
            member_number,
            table=table,
            column="member_number",
            row_id=str(row_id),
        )
        if member_number
        else "",
        member_number_index=member_number_index(
            keyring.index, contract.insurer.amc_number, member_number
        )
        if member_number
        else "",
        formulas=formulas,
        amo_regime=amo_regime,
        amo_fund=amo_fund,
        tiers_payant_suspended=tiers_payant_suspended,
        last_name=last_name,
        first_name=first_name,
        quality=Quality(quality),
        rights_start=rights_start,
        rights_end=rights_end,
    )


@transaction.atomic
def register_beneficiary(keyring: Keyring, **fields: object) -> Beneficiary:
    """Validate, encrypt and save one beneficiary; arguments as :func:`build_beneficiary`."""
    beneficiary = build_beneficiary(keyring, **fields)  # type: ignore[arg-type]
    beneficiary.save(force_insert=True)
    return beneficiary
