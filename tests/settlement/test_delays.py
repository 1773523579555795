"""The payment-delay commitment (issue 16 part 7): calendar days (UTC) from the ``accepted``
event to the first ``paid`` event, or to ``as_of`` while unpaid; late when greater than the
insurer's commitment (7 days exactly is on time)."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import CommandError, call_command

from tests.factories import InsurerFactory
from tests.settlement.builders import T0, accepted_invoice, fund, member, paid_professional
from tierspayant.invoices.choices import InvoiceEventKind
from tierspayant.invoices.lifecycle import EventDetail, append_event
from tierspayant.settlement.charts import delay_distribution
from tierspayant.settlement.delays import delay_report

pytestmark = pytest.mark.django_db
K = InvoiceEventKind
DAY = datetime.timedelta(days=1)


def _paid(invoice, at: datetime.datetime) -> None:  # type: ignore[no-untyped-def]
    append_event(
        invoice, K.PAID, at=at, detail=EventDetail(amount=invoice.total_amc, reference="E2E")
    )


@pytest.mark.parametrize(
    ("paid_after", "as_of_after", "committed", "late_by"),
    [
        # paid: days from acceptance to payment
        (datetime.timedelta(days=6), 30, 7, 0),
        (datetime.timedelta(days=7), 30, 7, 0),  # exactly the commitment: on time
        (datetime.timedelta(days=7, hours=14), 30, 7, 0),  # same calendar day (UTC) as day 7
        (datetime.timedelta(days=8), 30, 7, 1),
        (datetime.timedelta(days=20), 30, 7, 13),
        (datetime.timedelta(days=3), 30, 2, 1),  # the insurer's own commitment
        # unpaid: days from acceptance to as_of
        (None, 7, 7, 0),
        (None, 8, 7, 1),
        (None, 0, 0, 0),
        # paid after as_of: unpaid as of that day
        (datetime.timedelta(days=10), 9, 7, 2),
    ],
)
def test_an_invoice_is_late_only_past_the_committed_days(
    paid_after, as_of_after, committed, late_by
) -> None:
    insurer = InsurerFactory()
    fund(insurer, "own_account", "00000000001", payment_delay_days=committed)
    invoice = accepted_invoice(paid_professional(), member(insurer), "F-1", "10.00")
    if paid_after is not None:
        _paid(invoice, T0 + paid_after)
    report = delay_report(insurer, as_of=T0.date() + datetime.timedelta(days=as_of_after))
    [line] = report.lines
    assert line.late_by == late_by
    assert report.committed_days == committed


def test_the_report_counts_exactly_and_leaves_out_voided_invoices() -> None:
    insurer = InsurerFactory(amc_number="81000001", name="Mutuelle Alpha")
    other = InsurerFactory(amc_number="82000002", name="Mutuelle Bêta")
    pro = paid_professional()
    someone = member(insurer)
    on_time = accepted_invoice(pro, someone, "ON-TIME", "10.00")
    _paid(on_time, T0 + 7 * DAY)
    late = accepted_invoice(pro, someone, "LATE", "10.00")
    _paid(late, T0 + 8 * DAY)
    accepted_invoice(pro, someone, "UNPAID-LATE", "10.00")
    accepted_invoice(pro, someone, "UNPAID-RECENT", "10.00", at=T0 + 10 * DAY)
    voided = accepted_invoice(pro, someone, "VOIDED", "10.00")
    append_event(voided, K.CANCELLED, at=T0 + DAY)
    accepted_invoice(pro, member(other), "OTHER-INSURER", "10.00")
    report = delay_report(insurer, as_of=T0.date() + 12 * DAY)  # no funding: 7 days
    assert report.committed_days == 7
    assert sorted(x.invoice_number for x in report.lines) == [
        "LATE",
        "ON-TIME",
        "UNPAID-LATE",
        "UNPAID-RECENT",
    ]
    assert (report.on_time, report.paid_late, report.unpaid_late) == (2, 1, 1)
    assert [(x.invoice_number, x.days, x.late_by) for x in report.late] == [
        ("UNPAID-LATE", 12, 5),
        ("LATE", 8, 1),
    ]
    assert report.distribution() == {2: 1, 7: 1, 8: 1, 12: 1}
    assert delay_distribution(report).startswith(b"\x89PNG")


def test_the_command_prints_the_table_in_french(capsys) -> None:
    insurer = InsurerFactory(amc_number="81000001", name="Mutuelle Alpha")
    pro = paid_professional()
    late = accepted_invoice(pro, member(insurer), "LATE", "10.00")
    _paid(late, T0 + 9 * DAY)
    call_command("payment_delay_report", "--insurer", "81000001", "--as-of", "2025-03-31")
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "Délais de paiement de Mutuelle Alpha (AMC 81000001) au 31/03/2025 : engagement 7 jours ; "
        "1 facture(s) acceptée(s), 0 dans le délai, 1 payée(s) en retard, 0 impayée(s) en retard",
        "facture              professionnel  acceptée le payée le    jours retard",
        f"LATE                 {pro.national_id:<14} 03/03/2025  12/03/2025      9      2",
        "",
    ]
    with pytest.raises(CommandError, match="aucun organisme de numéro AMC 99"):
        call_command("payment_delay_report", "--insurer", "99")
    with pytest.raises(CommandError, match="AAAA-MM-JJ"):
        call_command("payment_delay_report", "--as-of", "31/03/2025")
