"""Vocabularies of returns to professionals (issue 16 part 2): which invoice events make a
return line, and the one table of every reason code a return line can carry.

The reason-code table (``reason_table``; docs/returns.md prints it) gathers, in this order:

- ``invoice``: an invoice's own checks (``invoices.choices.InvoiceReason``);
- ``lot``: an invoice of a lot beyond its own checks (``invoices.choices.LotReason``);
- ``claim``: a claim or approval as a whole (``priorauth.choices.CareReason``);
- ``line``: why a line's AMC is what it is (``coverage.ReasonCode``);
- ``bank``: why the bank returned or rejected a transfer (ISO 20022 external code sets
  ExternalReturnReason1Code / ExternalStatusReason1Code, public at iso20022.org; the
  codes SEPA credit transfers use, ``BankReturnReason`` below).

Each row carries its NOEMIE return code when a public document gives it
(``returns.noemie``: dated data behind an adapter; today none does, so every row says
"non public").
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from tierspayant.coverage import ReasonCode
from tierspayant.invoices.choices import InvoiceEventKind, InvoiceReason, LotReason
from tierspayant.priorauth.choices import CareReason

K = InvoiceEventKind

#: The invoice events that make a return line, in the order an invoice lives them.
#: received and acknowledged are left out: the lot's acknowledgement already answers them
#: (``GET /api/v1/lots/{id}``). Every other event changes what the professional is owed or
#: was paid, or answers the professional's own request (dispute), so their software needs
#: it to reconcile: accepted, rejected, paid, payment_returned, cancelled, rectified,
#: disputed, dispute_upheld, dispute_dismissed, recovered, written_off.
RETURN_KINDS: tuple[str, ...] = (
    K.ACCEPTED,
    K.REJECTED,
    K.PAID,
    K.PAYMENT_RETURNED,
    K.CANCELLED,
    K.RECTIFIED,
    K.DISPUTED,
    K.DISPUTE_UPHELD,
    K.DISPUTE_DISMISSED,
    K.RECOVERED,
    K.WRITTEN_OFF,
)


class ReasonSource(models.TextChoices):
    """Where a reason code comes from (a column of the table)."""

    INVOICE = "invoice", "Contrôle de la facture"
    LOT = "lot", "Facture d'un lot"
    CLAIM = "claim", "Facture ou prise en charge"
    LINE = "line", "Part AMC d'une ligne"
    BANK = "bank", "Retour ou rejet bancaire (ISO 20022)"


class BankReturnReason(models.TextChoices):
    """ISO 20022 reason codes a bank gives when it returns (camt.054 ``RtrInf/Rsn/Cd``) or
    rejects (pain.002 ``StsRsnInf/Rsn/Cd``) a SEPA credit transfer; the French labels are
    ours. Source: ISO 20022 External Code Sets, ExternalReturnReason1Code and
    ExternalStatusReason1Code (iso20022.org)."""

    AC01 = "AC01", "Numéro de compte (IBAN) incorrect"
    AC04 = "AC04", "Compte clôturé"
    AC06 = "AC06", "Compte bloqué"
    AG01 = "AG01", "Opération interdite sur ce compte"
    AG02 = "AG02", "Code d'opération bancaire invalide"
    AM05 = "AM05", "Opération en double"
    BE04 = "BE04", "Adresse du bénéficiaire absente ou incorrecte"
    CNOR = "CNOR", "Banque du bénéficiaire injoignable"
    DNOR = "DNOR", "Banque du donneur d'ordre injoignable"
    FF01 = "FF01", "Format de fichier invalide"
    FOCR = "FOCR", "Retour à la suite d'une demande d'annulation"
    MD07 = "MD07", "Titulaire du compte décédé"
    MS02 = "MS02", "Motif non précisé, à l'initiative du titulaire du compte"
    MS03 = "MS03", "Motif non précisé, à l'initiative de la banque"
    RC01 = "RC01", "Code BIC incorrect"
    RR01 = "RR01", "Compte ou identité du donneur d'ordre manquant (réglementaire)"
    RR02 = "RR02", "Nom ou adresse du donneur d'ordre manquant (réglementaire)"
    RR03 = "RR03", "Nom ou adresse du bénéficiaire manquant (réglementaire)"
    RR04 = "RR04", "Motif réglementaire"


@dataclass(frozen=True)
class ReasonRow:
    """One row of the reason-code table: the code, where it comes from, its French label."""

    code: str
    source: ReasonSource
    label: str


def _sentence(text: str) -> str:
    """Labels of the invoice and lot codes are lower-case fragments; show them as the
    others (capital, final full stop)."""
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."


def reason_table() -> list[ReasonRow]:
    """Every reason code a return line can carry, by source (module docstring)."""
    rows = [ReasonRow(r.value, ReasonSource.INVOICE, _sentence(r.label)) for r in InvoiceReason]
    rows += [ReasonRow(r.value, ReasonSource.LOT, _sentence(r.label)) for r in LotReason]
    rows += [ReasonRow(str(r.value), ReasonSource.CLAIM, str(r.label)) for r in CareReason]
    rows += [ReasonRow(r.value, ReasonSource.LINE, r.label) for r in ReasonCode]
    rows += [
        ReasonRow(str(r.value), ReasonSource.BANK, _sentence(str(r.label)))
        for r in BankReturnReason
    ]
    return rows


#: code -> label (a code named by two sources, NO_RIGHTS_ON_DATE, keeps the first).
_LABELS: dict[str, str] = {}
for _row in reason_table():
    _LABELS.setdefault(_row.code, _row.label)


def reason_label(code: str) -> str:
    """The French label of ``code``; the code itself when unknown (never raises: a label is
    for display, and a code from a newer table must not break a poll)."""
    return _LABELS.get(code, code)
