"""A back-office world of two insurers, for the walk of every admin page and object
(``tests/test_access_walk.py``) and the back-office write checks.

Each insurer (« Alpha » and « Bêta ») has a contract, a member, a prior approval (with its
commitment), a claim (disclosure-log rows), an invoice of the invoices app, an insurer API
token and a transfer of a payment run, each through its professional, a funding mode (Alpha
debited by the operator, Bêta paying from its own account) and its settlement of the run;
Alpha also has a canary.
Beside them, rows only the operator sees: professionals, their tokens, bank details and a
pending change, security events, an alert, a suspension, a lockdown event, throttling records,
a group, a staff member's first-passkey enrolment request, a loaded nomenclature. Bêta's names
and numbers are distinctive (:data:`BETA_MARKERS`) so a page leaking them is caught by text.
"""

from __future__ import annotations

import datetime
import random
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from tests.care.conftest import NOW, TODAY, approve, french_iban, invoice, make_patient
from tests.coverage.builders import SHARED, TABLES_DIR
from tests.factories import InsurerFactory, make_professional
from tests.invoices.builders import invoice as invoice_input
from tests.invoices.builders import line
from tierspayant.accounts.choices import SecurityEventKind
from tierspayant.accounts.enrolment import request_enrolment
from tierspayant.accounts.services import record_event
from tierspayant.audit.choices import InsurerScope
from tierspayant.audit.services import issue_insurer_token
from tierspayant.corrections.services import cancel_invoice, dispute_invoice
from tierspayant.coverage import History, load_guarantee_table
from tierspayant.guard.canaries import plant_canaries
from tierspayant.guard.choices import Action, AlertKind, Severity
from tierspayant.guard.lockdown import set_lockdown
from tierspayant.guard.models import Alert
from tierspayant.guard.suspension import suspend_account
from tierspayant.invoices import lifecycle
from tierspayant.invoices.models import Invoice, InvoiceEvent
from tierspayant.invoices.services import load_nomenclatures, record_invoice
from tierspayant.payments.models import BankReturn, BankReturnFile, Transfer
from tierspayant.payments.sepa import Debtor
from tierspayant.payments.services import run_payments
from tierspayant.priorauth.config import CareConfig
from tierspayant.priorauth.models import ReviewRule
from tierspayant.prosanteconnect.services import link_account
from tierspayant.providers.banking import register_first_bank_account, request_bank_account_change
from tierspayant.providers.choices import Scope
from tierspayant.providers.models import Professional
from tierspayant.providers.services import issue_api_token
from tierspayant.registry.models import Insurer, InsurerStaff
from tierspayant.settlement.services import set_funding, settlement_config, write_settlement

PASSWORD = "correct-horse-battery-staple-42"
XSD = SHARED / "fixtures" / "sepa" / "pain.001.001.09.xsd"

#: Texts of Bêta's rows that no page shown to Alpha's staff may contain.
BETA_MARKERS = ["Mutuelle Bêta Secrète", "88999999", "CT-BETA-01", "F-BETA-01", "Optique Bêtaville"]


def _paid_professional(name: str, account: str) -> Professional:
    professional = make_professional(email=f"{account}@example.org")
    professional.display_name = name
    professional.save(update_fields=["display_name"])
    register_first_bank_account(
        settings.TIERSPAYANT_KEYRING.encryption,
        professional=professional,
        iban=french_iban("30004", "00003", account),
        bic="BNPAFRPP",
        holder_name=name,
        now=NOW - datetime.timedelta(days=30),
    )
    return professional


def _insurer_rows(
    insurer: Insurer, professional: Professional, tag: str, contract_number: str
) -> dict[str, Any]:
    patient = make_patient()
    contract = patient.beneficiary.contract
    contract.insurer = insurer
    contract.number = contract_number
    contract.save()
    config = CareConfig.from_settings(settings)
    approval = approve(config, professional, patient)
    invoice(config, professional, patient, f"F-{tag}-01", approval=approval.number)
    record_invoice(
        invoice_input(
            # The claim above is already stored as invoice F-<tag>-01 (its money-loop mirror).
            line("CIP13", "3400936963504", "12.81", rate="65", amo="7.33"),
            number=f"F-{tag}-02",
        ),
        professional=professional,
        beneficiary=patient.beneficiary,
        table=load_guarantee_table(TABLES_DIR / "essentiel.json"),
        beneficiary_age=45,
        history=History(),
        now=NOW,
    )
    ReviewRule.objects.create(insurer=insurer, contract=contract, amount_above="1500.00")
    _corrections_rows(professional, tag)
    token = issue_insurer_token(
        insurer=insurer,
        name=f"SI {tag}",
        scopes=[InsurerScope.AUDIT_READ],
        now=timezone.now(),
        valid_days=30,
    ).token
    return {"beneficiary": patient.beneficiary, "approval": approval, "insurer_token": token}


def _copy(source: Invoice, number: str, status: str, amc: str) -> Invoice:
    row = Invoice.objects.get(pk=source.pk)
    row.pk = None
    row.invoice_number, row.status, row.total_amc, row.reasons = number, status, Decimal(amc), []
    row.save(force_insert=True)
    InvoiceEvent.objects.bulk_create(
        lifecycle.adjudication_events(row, received_at=NOW, acknowledged_at=None)
    )
    return row


def _corrections_rows(professional: Professional, tag: str) -> None:
    """Issue 16: an invoice paid then cancelled (an overpayment in the ledger) and a rejected
    invoice disputed (an open dispute)."""
    base = Invoice.objects.get(professional=professional, invoice_number=f"F-{tag}-01")
    paid = _copy(base, f"F-{tag}-04", "accepted", "4.48")
    lifecycle.append_event(
        paid,
        "paid",
        at=NOW + datetime.timedelta(days=1),
        detail=lifecycle.EventDetail(amount=Decimal("4.48"), reference=f"E2E-{tag}"),
    )
    cancel_invoice(
        professional, paid.invoice_number, reason="erreur", now=NOW + datetime.timedelta(days=2)
    )
    _copy(base, f"F-{tag}-03", "rejected", "0.00")
    dispute_invoice(
        professional, f"F-{tag}-03", reason="à revoir", now=NOW + datetime.timedelta(days=2)
    )


def build_world(tmp_path: Path) -> dict[str, Any]:
    """The rows of both insurers and the operator's (module docstring)."""
    alpha = InsurerFactory(amc_number="88111111", name="Mutuelle Alpha")
    beta = InsurerFactory(amc_number="88999999", name="Mutuelle Bêta Secrète")
    alpha_pro = _paid_professional("Optique Alphaville", "11111111111")
    beta_pro = _paid_professional("Optique Bêtaville", "99999999999")
    world: dict[str, Any] = {
        "alpha": alpha,
        "beta": beta,
        "alpha_rows": _insurer_rows(alpha, alpha_pro, "ALPHA", "CT-ALPHA-01"),
        "beta_rows": _insurer_rows(beta, beta_pro, "BETA", "CT-BETA-01"),
        "alpha_pro": alpha_pro,
        "beta_pro": beta_pro,
    }
    world["canary"] = plant_canaries(
        settings.TIERSPAYANT_KEYRING,
        contracts=[world["alpha_rows"]["beneficiary"].contract],
        count=1,
        rng=random.Random(7),
        as_of=TODAY,
    )[0][0]
    for insurer, mode, account in (
        (alpha, "direct_debit", "11111111111"),
        (beta, "own_account", "99999999999"),
    ):
        set_funding(
            settings.TIERSPAYANT_KEYRING.encryption,
            insurer=insurer,
            mode=mode,
            account_name=f"Compte {insurer.amc_number}",
            iban=french_iban("10278", "06076", account),
            bic="CMCIFR2A",
            mandate_id="MANDAT-ALPHA" if mode == "direct_debit" else "",
            mandate_date=TODAY if mode == "direct_debit" else None,
            now=NOW,
        )
    run_payments(
        keys=settings.TIERSPAYANT_KEYRING.encryption,
        debtor=Debtor(
            name="Operateur tierspayant",
            iban=french_iban("20041", "01005", "0500013M026"),
            bic="PSSTFRPP",
        ),
        output_dir=tmp_path,
        now=NOW,
        execution_date=TODAY,
        xsd=XSD,
        on_staged=partial(write_settlement, config=settlement_config(settings)),
    )
    now = timezone.now()
    world["api_token"] = issue_api_token(
        professional=beta_pro, name="LGO", scopes=[Scope.ELIGIBILITY_CHECK], now=now, valid_days=1
    ).token
    request_bank_account_change(
        settings.TIERSPAYANT_KEYRING.encryption,
        professional=beta_pro,
        user=beta_pro.user,
        second_factor_at=now,
        step_up_seconds=300,
        iban=french_iban("30004", "00003", "99999999998"),
        bic="BNPAFRPP",
        holder_name="Optique Bêtaville",
        ip="192.0.2.10",
        user_agent="pytest",
        now=now,
        code_minutes=15,
        confirm_url=lambda pk: f"/banque/changement/{pk}/",
    )
    record_event(beta_pro.user, SecurityEventKind.SIGN_IN_NEW_BROWSER, now=now)
    link_account(beta_pro.user, national_id=beta_pro.national_id, linked_by=None, now=now)
    alert = Alert.objects.create(
        raised_at=now,
        kind=AlertKind.CANARY,
        severity=Severity.CRITICAL,
        action=Action.SUSPEND,
        professional=beta_pro,
    )
    suspend_account(professional=beta_pro, reason="manual", now=now, alert=alert)
    set_lockdown(active=False, actor=None, reason="essai", source="command", now=now)
    bank_file = BankReturnFile.objects.create(
        file_name="camt054-retour.xml",
        sha256="0" * 64,
        message_type="camt.054",
        message_id="CAMT054-ESSAI",
        imported_at=now,
        source="command",
        transfer_count=1,
    )
    BankReturn.objects.create(
        file=bank_file,
        transfer=Transfer.objects.filter(insurer=alpha).first(),
        kind="returned",
        reason_code="AC04",
        amount=Decimal("1.00"),
    )
    AccessAttempt.objects.create(
        username="inconnu", ip_address="192.0.2.20", failures_since_start=1, attempt_time=now
    )
    AccessLog.objects.create(username="inconnu", ip_address="192.0.2.20", attempt_time=now)
    AccessFailureLog.objects.create(
        username="inconnu", ip_address="192.0.2.20", attempt_time=now, locked_out=False
    )
    Group.objects.create(name="Gestion Bêta")
    newcomer = get_user_model().objects.create_user(
        username="agent.nouveau", password=PASSWORD, is_staff=True
    )
    request_enrolment(newcomer, session_id=None, now=now)
    load_nomenclatures(
        Path(settings.TIERSPAYANT_NOMENCLATURES_DIR), now=now, names=frozenset({"IR_ASU_V"})
    )
    return world


def staff_user(username: str, *, insurer: Insurer | None, every_permission: bool) -> Any:
    """A staff account (not superuser); of ``insurer`` when given; holding every permission
    of the platform when ``every_permission`` (the scope must hold whatever is granted)."""
    user = get_user_model().objects.create_user(username=username, password=PASSWORD, is_staff=True)
    if every_permission:
        user.user_permissions.set(Permission.objects.all())
    if insurer is not None:
        InsurerStaff.objects.create(user=user, insurer=insurer)
    return user
