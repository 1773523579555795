"""The payment-delay commitment (issue 16 part 7): accepted invoices an insurer did not pay
within the delay it committed to (``InsurerFunding.payment_delay_days``, default 7).

Reading of the rule (docs/money.md, "Payment-delay commitment"): the delay of an invoice is
the number of calendar days (UTC dates) from its ``accepted`` event to its first ``paid``
event, or to ``as_of`` while it is unpaid. An invoice is late when that number is greater
than the commitment: paid 7 days after acceptance on a 7-day commitment is on time, 8 days
is late. Only events up to ``as_of`` count (a report "as of" a past date sees the past).
Invoices no longer awaiting payment without having been paid (cancelled, rectified, in
dispute) are left out; an invoice whose transfer was returned is judged by its first
payment.
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Min, Q, QuerySet

from tierspayant.invoices.choices import InvoiceEventKind, InvoiceStatus
from tierspayant.invoices.models import Invoice
from tierspayant.registry.models import Insurer
from tierspayant.settlement.models import DEFAULT_PAYMENT_DELAY_DAYS, InsurerFunding

K = InvoiceEventKind


@dataclass(frozen=True)
class DelayLine:
    """One accepted invoice: id and number, professional's national id, accepted and paid
    dates (None: unpaid at ``as_of``), delay in days, days late (0: on time)."""

    invoice_id: int
    invoice_number: str
    professional: str
    accepted_on: datetime.date
    paid_on: datetime.date | None
    days: int
    late_by: int


@dataclass(frozen=True)
class DelayReport:
    """An insurer's report at ``as_of``: the committed delay (days), every accepted invoice
    considered (``lines``, latest accepted first), and counts."""

    insurer: Insurer
    as_of: datetime.date
    committed_days: int
    lines: list[DelayLine] = field(default_factory=list)

    @property
    def late(self) -> list[DelayLine]:
        """The late invoices, most late first."""
        return sorted((x for x in self.lines if x.late_by > 0), key=lambda x: -x.late_by)

    @property
    def paid_late(self) -> int:
        return sum(1 for x in self.lines if x.late_by > 0 and x.paid_on is not None)

    @property
    def unpaid_late(self) -> int:
        return sum(1 for x in self.lines if x.late_by > 0 and x.paid_on is None)

    @property
    def on_time(self) -> int:
        return sum(1 for x in self.lines if x.late_by == 0)

    def distribution(self) -> dict[int, int]:
        """{delay in days: number of invoices}, in increasing order of days."""
        return dict(sorted(Counter(x.days for x in self.lines).items()))


def committed_days(insurer: Insurer) -> int:
    """The insurer's committed delay (days): its funding's, else the default (7)."""
    funding = InsurerFunding.objects.filter(insurer=insurer).first()
    return funding.payment_delay_days if funding is not None else DEFAULT_PAYMENT_DELAY_DAYS


def _accepted(insurer: Insurer, end: datetime.datetime) -> QuerySet[Invoice]:
    return (
        Invoice.objects.filter(insurer=insurer)
        .annotate(
            accepted_at=Min("events__at", filter=Q(events__kind=K.ACCEPTED, events__at__lt=end)),
            paid_at=Min("events__at", filter=Q(events__kind=K.PAID, events__at__lt=end)),
        )
        .filter(accepted_at__isnull=False)
        .select_related("professional")
        .order_by("-accepted_at", "-id")
    )


def delay_report(insurer: Insurer, *, as_of: datetime.date) -> DelayReport:
    """The insurer's payment-delay report at the end of ``as_of`` (UTC), read from the
    invoices' events (module docstring for the rule)."""
    days_committed = committed_days(insurer)
    end = datetime.datetime.combine(
        as_of + datetime.timedelta(days=1), datetime.time(), datetime.UTC
    )
    lines = []
    for invoice in _accepted(insurer, end):
        accepted_on = invoice.accepted_at.astimezone(datetime.UTC).date()  # type: ignore[attr-defined]
        paid_at = invoice.paid_at  # type: ignore[attr-defined]
        paid_on = paid_at.astimezone(datetime.UTC).date() if paid_at is not None else None
        if paid_on is None and invoice.status not in (InvoiceStatus.ACCEPTED, InvoiceStatus.PAID):
            continue  # voided or disputed before payment: no longer awaiting it
        days = ((paid_on or as_of) - accepted_on).days
        lines.append(
            DelayLine(
                invoice_id=invoice.pk,
                invoice_number=invoice.invoice_number,
                professional=invoice.professional.national_id,
                accepted_on=accepted_on,
                paid_on=paid_on,
                days=days,
                late_by=max(0, days - days_committed),
            )
        )
    return DelayReport(insurer=insurer, as_of=as_of, committed_days=days_committed, lines=lines)


def report_table(report: DelayReport, *, limit: int | None = None) -> str:
    """The report as a French fixed-width table: a summary line, then the late invoices
    (at most ``limit``)."""
    head = (
        f"Délais de paiement de {report.insurer.name} (AMC {report.insurer.amc_number}) au "
        f"{report.as_of:%d/%m/%Y} : engagement {report.committed_days} jours ; "
        f"{len(report.lines)} facture(s) acceptée(s), {report.on_time} dans le délai, "
        f"{report.paid_late} payée(s) en retard, {report.unpaid_late} impayée(s) en retard"
    )
    late = report.late
    if not late:
        return head + "\nAucune facture en retard."
    rows = [
        head,
        f"{'facture':<20} {'professionnel':<14} {'acceptée le':<11} {'payée le':<11} "
        f"{'jours':>5} {'retard':>6}",
    ]
    for line in late[:limit]:
        paid = f"{line.paid_on:%d/%m/%Y}" if line.paid_on else "non payée"
        rows.append(
            f"{line.invoice_number[:20]:<20} {line.professional:<14} "
            f"{line.accepted_on:%d/%m/%Y}  {paid:<11} {line.days:>5} {line.late_by:>6}"
        )
    if limit is not None and len(late) > limit:
        rows.append(f"… et {len(late) - limit} autre(s)")
    return "\n".join(rows)
