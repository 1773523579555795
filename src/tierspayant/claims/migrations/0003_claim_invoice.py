# Hand-written (issue 16): each claim gets its invoices.Invoice mirror in the money loop.

from decimal import Decimal

import django.db.models.deletion
from django.db import migrations, models


def _code_system(code):
    """CCAM codes are 4 letters and 3 digits, LPP codes 7 digits."""
    return "CCAM" if code[:1].isalpha() else "LPP"


def mirror(apps, schema_editor):
    """Claims adjudicated before the money loop get their Invoice mirror (lines, insurer,
    events: received, accepted or rejected, and paid with the transfer that paid them), as
    ``claims.services`` now stores one for every claim it adjudicates. A claim whose number a
    lot invoice of the same professional already holds keeps no mirror (its number cannot be
    stored twice); ``payments`` 0005 refuses to migrate if such a claim was paid."""
    Claim = apps.get_model("claims", "Claim")
    Invoice = apps.get_model("invoices", "Invoice")
    InvoiceLine = apps.get_model("invoices", "InvoiceLine")
    InvoiceEvent = apps.get_model("invoices", "InvoiceEvent")
    TransferLine = apps.get_model("payments", "TransferLine")
    claims = Claim.objects.filter(
        invoice__isnull=True, status__in=["accepted", "rejected", "paid"]
    ).prefetch_related("lines")
    for claim in claims.iterator(chunk_size=500):
        if Invoice.objects.filter(
            professional_id=claim.professional_id, invoice_number=claim.invoice_number
        ).exists():
            continue
        invoice = Invoice.objects.create(
            professional_id=claim.professional_id,
            beneficiary_id=claim.beneficiary_id,
            insurer_id=claim.insurer_id,
            invoice_number=claim.invoice_number,
            care_date=claim.care_date,
            insurance_nature="",
            exemption="",
            amo_regime="",
            local_regime="",
            status=claim.status,
            reasons=[{"code": c, "line": None, "field": "", "message": ""} for c in claim.reasons],
            table_id=claim.table_id,
            total_billed=claim.total_billed,
            total_amo=claim.total_amo,
            total_amc=claim.total_amc,
            total_rac=claim.total_rac,
            received_at=claim.adjudicated_at or claim.submitted_at,
        )
        InvoiceLine.objects.bulk_create(
            InvoiceLine(
                invoice=invoice,
                position=line.position,
                code_system=_code_system(line.code),
                code=line.code,
                family=line.family,
                quantity=1,
                unit_price=line.billed,
                billed=line.billed,
                br=line.br,
                amo_rate=(line.amo * 100 / line.br).quantize(Decimal("0.01")) if line.br else 0,
                amo_paid=line.amo,
                participation_forfaitaire=0,
                franchise=0,
                amc=line.amc,
                rac=line.rac,
                reasons=line.reasons,
            )
            for line in claim.lines.all()
        )
        base = {
            "invoice": invoice,
            "professional_id": claim.professional_id,
            "insurer_id": claim.insurer_id,
            "actor_kind": "system",
        }
        events = [InvoiceEvent(kind="received", at=claim.submitted_at, **base)]
        if claim.status == "rejected":
            events.append(
                InvoiceEvent(
                    kind="rejected", at=invoice.received_at, reason_codes=claim.reasons, **base
                )
            )
        else:
            events.append(
                InvoiceEvent(
                    kind="accepted", at=invoice.received_at, amount=claim.total_amc, **base
                )
            )
        if claim.status == "paid":
            line = (
                TransferLine.objects.filter(claim_id=claim.pk, returned=False)
                .select_related("transfer__run")
                .first()
            )
            events.append(
                InvoiceEvent(
                    kind="paid",
                    at=claim.paid_at or invoice.received_at,
                    amount=claim.total_amc,
                    reference=line.transfer.end_to_end_id if line else "",
                    value_date=line.transfer.run.execution_date if line else None,
                    **base,
                )
            )
        InvoiceEvent.objects.bulk_create(events)
        claim.invoice = invoice
        claim.save(update_fields=["invoice"])


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0002_french_labels"),
        ("invoices", "0003_invoice_events"),
        ("payments", "0004_bank_returns"),
    ]

    operations = [
        migrations.AddField(
            model_name="claim",
            name="invoice",
            field=models.OneToOneField(
                blank=True,
                help_text="La facture du circuit de paiement qui reflète cette demande : les "
                "campagnes de paiement, les retours et les corrections la voient par elle.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="claim",
                to="invoices.invoice",
                verbose_name="facture (circuit de paiement)",
            ),
        ),
        migrations.RunPython(mirror, migrations.RunPython.noop),
    ]
