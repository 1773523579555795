"""The letter of agreement or refusal of an approval, as a PDF (fpdf2, issue 15 part 5).

One page: the insurer, the professional, the approval number, its nature (estimate or
binding approval), the decision and its date, validity, the staff's reason when staff
decided it, then the calculation line by line (code, tooth or side, label, price billed,
AMO base, AMO share, AMC share, remaining cost, reasons in French), the totals, and for
dental lines the alternative without remaining cost. The patient is named by nothing but
the approval number (the professional identified them when quoting): no name, NIR or
birth date in the file. Core PDF fonts are Latin-1: « € » is written « EUR ».
"""

from __future__ import annotations

from decimal import Decimal

from fpdf import FPDF

from tierspayant.priorauth.choices import ApprovalKind, Decision, reason_label
from tierspayant.priorauth.models import PriorApproval

_COLUMNS = [
    ("Code", 20),
    ("Dent/côté", 18),
    ("Libellé", 66),
    ("Prix", 18),
    ("BR", 16),
    ("AMO", 16),
    ("AMC", 16),
    ("Reste", 16),
]


def _latin1(text: str) -> str:
    return (
        text.replace("…", "...")
        .replace("€", "EUR")
        .replace("’", "'")
        .encode("latin-1", "replace")
        .decode("latin-1")
    )


def _euros(amount: Decimal | None) -> str:
    return "" if amount is None else f"{amount:.2f}".replace(".", ",")


def _title(approval: PriorApproval) -> str:
    if approval.kind == ApprovalKind.ESTIMATE:
        return "Estimation de prise en charge (sans engagement)"
    if approval.decision == Decision.PENDING:
        return "Demande de prise en charge en attente d'examen"
    if approval.decision == Decision.REFUSED:
        return "Lettre de refus de prise en charge"
    return "Lettre d'accord de prise en charge"


def approval_letter(approval: PriorApproval) -> bytes:
    """The PDF bytes of ``approval``'s letter (see the module docstring)."""
    pdf = FPDF(format="A4")
    pdf.set_compression(False)  # a one-page letter; its text stays greppable
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()

    def line(text: str, size: float = 10, style: str = "") -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.multi_cell(0, 5.5, _latin1(text), new_x="LMARGIN", new_y="NEXT")

    line(_title(approval), 14, "B")
    pdf.ln(2)
    line(f"Organisme complémentaire : {approval.insurer.name}")
    line(f"Professionnel de santé : {approval.professional.display_name}")
    line(f"Numéro : {approval.number}    Référence du devis : {approval.quote_reference or '-'}")
    line(
        f"Demande du {approval.created_at:%d/%m/%Y}, soins prévus le "
        f"{approval.planned_date:%d/%m/%Y}, valable jusqu'au {approval.expires_on:%d/%m/%Y}"
    )
    line(f"Décision : {approval.get_decision_display()}", 11, "B")
    if approval.decision == Decision.PENDING and approval.review_deadline:
        line(
            f"Motif d'examen : {approval.get_review_reason_display()}. Réponse au plus tard "
            f"le {approval.review_deadline:%d/%m/%Y à %H:%M} (UTC)."
        )
    if approval.decided_at:
        line(
            f"Décidée le {approval.decided_at:%d/%m/%Y} par un gestionnaire. "
            f"Motif : {approval.decision_note}"
        )
    for code in approval.reasons:
        line(f"- {reason_label(code)}", 9)
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 8.5)
    for title, width in _COLUMNS:
        pdf.cell(width, 6, _latin1(title), border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 8.5)
    lines = list(approval.lines.all())
    for row in lines:
        where = row.tooth or {"right": "droit", "left": "gauche"}.get(row.side, "")
        values = [
            row.code,
            where,
            row.label[:42],
            _euros(row.billed),
            _euros(row.br),
            _euros(row.amo),
            _euros(row.amc),
            _euros(row.rac),
        ]
        for (_, width), value in zip(_COLUMNS, values, strict=True):
            pdf.cell(width, 6, _latin1(value), border=1)
        pdf.ln()
    pdf.set_font("Helvetica", "B", 8.5)
    totals = [
        "Total",
        "",
        "",
        _euros(approval.total_billed),
        "",
        _euros(approval.total_amo),
        _euros(approval.total_amc),
        _euros(approval.total_rac),
    ]
    for (_, width), value in zip(_COLUMNS, totals, strict=True):
        pdf.cell(width, 6, _latin1(value), border=1)
    pdf.ln(8)
    for row in lines:
        for code in row.reasons:
            line(f"Ligne {row.position} ({row.code}) : {reason_label(code)}", 9)
        if row.price_limit is not None:
            cap = _euros(row.price_limit)
            line(f"Ligne {row.position} : honoraire limite de facturation {cap} €", 9)
        if row.alternative:
            alt = row.alternative
            line(
                f"Ligne {row.position} : alternative sans reste à charge {alt['code']} "
                f"({alt['label']}) : prix limite {_euros(Decimal(alt['price_limit']))} €, "
                f"AMO {_euros(Decimal(alt['amo']))} €, AMC {_euros(Decimal(alt['amc']))} €, "
                "reste à charge 0,00 €.",
                9,
            )
    pdf.ln(2)
    line(
        "Montants en euros. AMO : part de l'Assurance Maladie obligatoire ; AMC : part de "
        "l'organisme complémentaire ; BR : base de remboursement.",
        8,
    )
    return bytes(pdf.output())
