"""Bank details of professionals, and the only way to change them.

Bank details are the next fraud after stolen passwords: an attacker who swaps the IBAN gets
the professional's money. A change therefore needs, in order (docs/adr/0007):

1. a fresh second-factor check (step-up, ``accounts.access``): a passkey for anyone who
   holds one, else a new TOTP code, less than ``TIERSPAYANT_STEP_UP_SECONDS`` before the
   request; the view sends the user through the step-up page, and this service refuses a
   request whose ``second_factor_at`` is missing or too old, so no path skips it;
2. valid details: IBAN (ISO 13616 check digits and, for France, the RIB key) and BIC,
   checked with schwifty;
3. an out-of-band confirmation: a one-time code sent by email to the contact already on
   file (only its salted hash is stored; a few wrong tries cancel nothing but are counted);
4. a cooling-off period (default 72 h) after confirmation, announced to the contact on
   file. From the request until the end of that period, payments to the professional are
   held: sent to neither the old nor the new account (``payment_hold``).

Accounts are never deleted or edited: each change adds a row, so staff see who changed what,
when and from where. IBANs never appear in logs, errors, emails or URLs (masked only).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.mail import send_mail
from django.db import transaction
from schwifty import BIC, IBAN
from schwifty.exceptions import (
    InvalidBBANChecksum,
    InvalidChecksumDigits,
    InvalidLength,
    SchwiftyException,
)

from tierspayant.crypto.fields import encrypt_field
from tierspayant.crypto.keys import KeySet
from tierspayant.providers.choices import BankAccountStatus, BankChangeStatus
from tierspayant.providers.models import BankAccount, BankAccountChange, Professional
from tierspayant.text import first_control, sepa_text

MAX_CODE_ATTEMPTS = 5


class InvalidBankDetails(ValueError):
    """Bad IBAN, BIC or holder name: ``field`` names it, ``message`` says why in French,
    never echoing the value."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class StepUpFailed(Exception):
    """No second-factor check in the last ``step_up_seconds``: confirm identity again."""

    message = "Confirmez à nouveau votre identité avant de changer de coordonnées bancaires."


class NoContactOnFile(Exception):
    """The professional has no email address on file to receive the confirmation code."""

    message = (
        "Aucune adresse de contact enregistrée pour recevoir le code de confirmation : "
        "contactez l'assistance."
    )


class InvalidConfirmationCode(Exception):
    """Wrong code, expired code, too many attempts, or a change not awaiting confirmation."""

    message = "Code de confirmation incorrect ou expiré."


class BankChangeNotCancellable(Exception):
    """Only a change still awaiting confirmation or in its cooling-off period is cancellable."""

    message = "Ce changement n'est plus annulable."


@dataclass(frozen=True)
class BankDetails:
    """Checked details: compact IBAN, BIC (8 or 11 characters), holder name."""

    iban: str
    bic: str
    holder_name: str


@dataclass(frozen=True)
class ChangeRequested:
    """The change created; ``code`` is what was emailed (returned for tests and the demo's
    console backend, never shown on screen)."""

    change: BankAccountChange
    code: str


def mask_iban(iban: str) -> str:
    """Country and check digits, then the last four characters: ``FR76 … 0143``."""
    return f"{iban[:4]} … {iban[-4:]}" if len(iban) >= 8 else "…"


def validate_bank_details(*, iban: str, bic: str, holder_name: str) -> BankDetails:
    """Check IBAN (check digits; for France also the RIB key), BIC (format, and the same
    country as the IBAN; taken from the bank registry when left empty) and the holder name
    (2 to 70 characters, no control character, at least 2 left once put in the SEPA set:
    ``text.sepa_text``). Raises InvalidBankDetails naming ``iban``, ``bic`` or
    ``holder_name``."""
    if first_control(str(holder_name or "")) is not None:
        raise InvalidBankDetails(
            "holder_name", "titulaire du compte : caractère de contrôle ou NUL interdit"
        )
    holder = " ".join(str(holder_name or "").split())
    if not 2 <= len(holder) <= 70:
        raise InvalidBankDetails("holder_name", "titulaire du compte : 2 à 70 caractères")
    if len(sepa_text(holder, 70, field="holder name")) < 2:
        raise InvalidBankDetails(
            "holder_name",
            "titulaire du compte : des lettres latines sont attendues (virement SEPA)",
        )
    try:
        parsed = IBAN(str(iban or ""), validate_bban=True)
    except InvalidChecksumDigits:
        raise InvalidBankDetails("iban", "clé de contrôle de l'IBAN incorrecte") from None
    except InvalidBBANChecksum:
        raise InvalidBankDetails("iban", "clé RIB incorrecte") from None
    except InvalidLength:
        raise InvalidBankDetails("iban", "longueur d'IBAN incorrecte pour ce pays") from None
    except SchwiftyException:
        raise InvalidBankDetails("iban", "IBAN invalide") from None
    raw_bic = str(bic or "").replace(" ", "").upper()
    if not raw_bic:
        known = parsed.bic
        if known is None:
            raise InvalidBankDetails("bic", "BIC obligatoire pour cette banque")
        raw_bic = str(known)
    try:
        checked = BIC(raw_bic)
    except SchwiftyException:
        raise InvalidBankDetails("bic", "BIC invalide (8 ou 11 caractères)") from None
    if checked.country_code != parsed.country_code:
        raise InvalidBankDetails("bic", "le BIC n'est pas du même pays que l'IBAN")
    return BankDetails(iban=parsed.compact, bic=str(checked.compact), holder_name=holder)


def _new_account(
    keys: KeySet,
    professional: Professional,
    details: BankDetails,
    *,
    status: str,
    now: datetime.datetime,
    active_from: datetime.datetime | None,
) -> BankAccount:
    account = BankAccount(
        professional=professional,
        holder_name=details.holder_name,
        iban_masked=mask_iban(details.iban),
        bic=details.bic,
        status=status,
        created_at=now,
        active_from=active_from,
    )
    account.iban_ciphertext = encrypt_field(
        keys, details.iban, table=BankAccount.TABLE, column="iban", row_id=str(account.id)
    )
    account.save(force_insert=True)
    return account


def register_first_bank_account(
    keys: KeySet,
    *,
    professional: Professional,
    iban: str,
    bic: str,
    holder_name: str,
    now: datetime.datetime,
) -> BankAccount:
    """Onboarding by the operator (back-office, demo): the first account, in force at once.
    Raises InvalidBankDetails, or ValueError when the professional already has an account
    (a change goes through :func:`request_bank_account_change`)."""
    details = validate_bank_details(iban=iban, bic=bic, holder_name=holder_name)
    with transaction.atomic():
        if BankAccount.objects.filter(professional=professional).exists():
            raise ValueError("bank details already on file: use the change workflow")
        return _new_account(
            keys, professional, details, status=BankAccountStatus.ACTIVE, now=now, active_from=now
        )


def _code_hash(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


def request_bank_account_change(
    keys: KeySet,
    *,
    professional: Professional,
    user: Any,
    second_factor_at: datetime.datetime | None,
    step_up_seconds: int,
    iban: str,
    bic: str,
    holder_name: str,
    ip: str | None,
    user_agent: str,
    now: datetime.datetime,
    code_minutes: int,
    confirm_url: Callable[[int], str],
) -> ChangeRequested:
    """Ask to replace the professional's bank details.

    Checks first that this session passed a second factor (aware UTC ``second_factor_at``)
    at most ``step_up_seconds`` before ``now``, then the details; cancels any earlier
    change still pending; stores the new account as pending; emails a one-time code (valid
    ``code_minutes``) to the contact on file (``user.email`` of the professional's login),
    with ``confirm_url(change id)`` (the confirmation page's address). Payments are held from
    now on until the change is cancelled, lapses, or its cooling-off period ends.

    Raises StepUpFailed, InvalidBankDetails, NoContactOnFile; nothing is stored then.
    """
    if second_factor_at is None or (now - second_factor_at).total_seconds() > step_up_seconds:
        raise StepUpFailed
    details = validate_bank_details(iban=iban, bic=bic, holder_name=holder_name)
    contact = professional.user.email
    if not contact:
        raise NoContactOnFile
    code = f"{secrets.randbelow(10**8):08d}"
    salt = secrets.token_hex(16)
    with transaction.atomic():
        for pending in BankAccountChange.objects.select_for_update().filter(
            professional=professional, status=BankChangeStatus.AWAITING_CONFIRMATION
        ):
            _cancel(pending, now)
        old = current_bank_account(professional, now=now)
        account = _new_account(
            keys, professional, details, status=BankAccountStatus.PENDING, now=now, active_from=None
        )
        change = BankAccountChange.objects.create(
            professional=professional,
            old_account=old,
            new_account=account,
            status=BankChangeStatus.AWAITING_CONFIRMATION,
            requested_at=now,
            requested_by=user,
            requested_ip=ip,
            requested_user_agent=user_agent[:300],
            code_salt=salt,
            code_hash=_code_hash(salt, code),
            code_expires_at=now + datetime.timedelta(minutes=code_minutes),
        )
    send_mail(
        "Confirmation du changement de coordonnées bancaires",
        "Bonjour,\n\n"
        "Un changement des coordonnées bancaires de votre compte tierspayant a été demandé "
        f"(nouveau compte {account.iban_masked}).\n\n"
        f"Code de confirmation : {code}\n"
        f"Valable {code_minutes} minutes, à saisir sur : {confirm_url(change.pk)}\n\n"
        "Tant que ce changement n'est pas confirmé puis en vigueur, vos paiements sont "
        "retenus. Si vous n'êtes pas à l'origine de cette demande, ne communiquez ce code à "
        "personne et contactez l'assistance : la demande sera annulée.\n",
        None,
        [contact],
    )
    return ChangeRequested(change=change, code=code)


def confirm_bank_account_change(
    *,
    professional: Professional,
    change_id: int,
    code: str,
    ip: str | None,
    now: datetime.datetime,
    cooling_off_hours: int,
) -> BankAccountChange:
    """Confirm a change with the emailed code; the new account takes effect after
    ``cooling_off_hours``, and the contact on file is told when.

    Raises ``BankAccountChange.DoesNotExist`` (not this professional's), or
    InvalidConfirmationCode (wrong or expired code, too many attempts, not awaiting).
    A wrong code is counted even though the call fails.
    """
    with transaction.atomic():
        change = (
            BankAccountChange.objects.select_for_update(of=("self",))
            .select_related("new_account", "old_account")
            .get(pk=change_id, professional=professional)
        )
        if (
            change.status != BankChangeStatus.AWAITING_CONFIRMATION
            or now >= change.code_expires_at
            or change.attempts >= MAX_CODE_ATTEMPTS
        ):
            raise InvalidConfirmationCode
        if not hmac.compare_digest(
            change.code_hash, _code_hash(change.code_salt, str(code).strip())
        ):
            change.attempts += 1
            change.save(update_fields=["attempts"])
            wrong = True
        else:
            wrong = False
            effective = now + datetime.timedelta(hours=cooling_off_hours)
            change.status = BankChangeStatus.CONFIRMED
            change.confirmed_at = now
            change.confirmed_ip = ip
            change.effective_at = effective
            change.save(update_fields=["status", "confirmed_at", "confirmed_ip", "effective_at"])
            account = change.new_account
            account.status = BankAccountStatus.ACTIVE
            account.active_from = effective
            account.save(update_fields=["status", "active_from"])
            if change.old_account is not None:
                change.old_account.superseded_at = effective
                change.old_account.save(update_fields=["superseded_at"])
    if wrong:
        raise InvalidConfirmationCode
    local = effective.astimezone(datetime.UTC).strftime("%d/%m/%Y à %H:%M UTC")
    send_mail(
        "Changement de coordonnées bancaires confirmé",
        "Bonjour,\n\n"
        f"Le changement de vos coordonnées bancaires vers le compte {account.iban_masked} a été "
        f"confirmé. Il prendra effet le {local}. D'ici là, vos paiements sont retenus et ne "
        "sont versés sur aucun compte.\n\n"
        "Si vous n'êtes pas à l'origine de ce changement, contactez immédiatement "
        "l'assistance : il peut encore être annulé.\n",
        None,
        [professional.user.email],
    )
    return change


def _cancel(change: BankAccountChange, now: datetime.datetime) -> None:
    change.status = BankChangeStatus.CANCELLED
    change.cancelled_at = now
    change.save(update_fields=["status", "cancelled_at"])
    BankAccount.objects.filter(pk=change.new_account_id).update(
        status=BankAccountStatus.CANCELLED, active_from=None
    )
    if change.old_account_id is not None:
        BankAccount.objects.filter(pk=change.old_account_id).update(superseded_at=None)


def cancel_bank_account_change(
    *, professional: Professional, change_id: int, now: datetime.datetime
) -> BankAccountChange:
    """Cancel a change awaiting confirmation or in its cooling-off period: the previous
    account stays in force and held payments are released to it at the next run.
    Raises ``BankAccountChange.DoesNotExist`` or BankChangeNotCancellable."""
    with transaction.atomic():
        change = BankAccountChange.objects.select_for_update().get(
            pk=change_id, professional=professional
        )
        if not change.is_pending(now):
            raise BankChangeNotCancellable
        _cancel(change, now)
    return change


# -- selectors -------------------------------------------------------------------------------


def current_bank_account(
    professional: Professional, *, now: datetime.datetime
) -> BankAccount | None:
    """The account payments go to at ``now``: the active one with the latest
    ``active_from`` not after ``now``; None when there is none."""
    return (
        BankAccount.objects.filter(
            professional=professional, status=BankAccountStatus.ACTIVE, active_from__lte=now
        )
        .order_by("-active_from")
        .first()
    )


def pending_bank_change(
    professional: Professional, *, now: datetime.datetime
) -> BankAccountChange | None:
    """The change that holds payments at ``now`` (awaiting its code, or cooling off)."""
    for change in BankAccountChange.objects.filter(
        professional=professional,
        status__in=[BankChangeStatus.AWAITING_CONFIRMATION, BankChangeStatus.CONFIRMED],
    ).select_related("new_account"):
        if change.is_pending(now):
            return change
    return None


def payment_hold(professional: Professional, *, now: datetime.datetime) -> str | None:
    """Why payments to the professional are held at ``now``: ``"bank_change_pending"``,
    ``"no_bank_account"``, or None when they may be paid."""
    if pending_bank_change(professional, now=now) is not None:
        return "bank_change_pending"
    if current_bank_account(professional, now=now) is None:
        return "no_bank_account"
    return None


def payment_holds(
    professional_ids: list[int], *, now: datetime.datetime
) -> tuple[dict[int, str], dict[int, BankAccount]]:
    """:func:`payment_hold` and :func:`current_bank_account` for many professionals in two
    queries (payment runs of tens of thousands of professionals): the hold reason of each
    professional held at ``now``, and the account in force of each one not held."""
    pending = {
        change.professional_id
        for change in BankAccountChange.objects.filter(
            professional_id__in=professional_ids,
            status__in=[BankChangeStatus.AWAITING_CONFIRMATION, BankChangeStatus.CONFIRMED],
        )
        if change.is_pending(now)
    }
    accounts: dict[int, BankAccount] = {}
    for account in BankAccount.objects.filter(
        professional_id__in=professional_ids,
        status=BankAccountStatus.ACTIVE,
        active_from__lte=now,
    ).order_by("professional_id", "-active_from"):
        accounts.setdefault(account.professional_id, account)
    holds: dict[int, str] = {}
    for professional_id in professional_ids:
        if professional_id in pending:
            holds[professional_id] = "bank_change_pending"
        elif professional_id not in accounts:
            holds[professional_id] = "no_bank_account"
    return holds, {k: v for k, v in accounts.items() if k not in holds}
