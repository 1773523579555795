# Hand-written (issue 16): runs pay invoices.Invoice (lots and claims alike); a line may have
# no transfer (an invoice paid wholly by netting overpayments); statements count recoveries.

import django.db.models.deletion
from django.db import migrations, models


def lines_to_invoices(apps, schema_editor):
    """Each existing line names its claim's invoice mirror (claims 0003) and its run."""
    TransferLine = apps.get_model("payments", "TransferLine")
    Claim = apps.get_model("claims", "Claim")
    orphans = TransferLine.objects.filter(
        claim_id__in=Claim.objects.filter(invoice__isnull=True).values("pk")
    ).count()
    if orphans:
        raise RuntimeError(
            f"{orphans} ligne(s) de virement payent une demande sans facture miroir (numéro déjà "
            "pris par une facture de lot) : renumérotez-la avant de migrer."
        )
    for line in TransferLine.objects.select_related("claim", "transfer").iterator(chunk_size=2000):
        line.invoice_id = line.claim.invoice_id
        line.run_id = line.transfer.run_id
        line.save(update_fields=["invoice", "run"])


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0003_claim_invoice"),
        ("invoices", "0003_invoice_events"),
        ("payments", "0004_bank_returns"),
    ]

    operations = [
        migrations.AddField(
            model_name="transferline",
            name="invoice",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="transfer_lines",
                to="invoices.invoice",
                verbose_name="facture",
            ),
        ),
        migrations.AddField(
            model_name="transferline",
            name="run",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="lines",
                to="payments.paymentrun",
                verbose_name="campagne de paiement",
            ),
        ),
        migrations.RunPython(lines_to_invoices, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="transferline",
            name="transfer_line_claim_paid_once",
        ),
        migrations.RemoveField(
            model_name="transferline",
            name="claim",
        ),
        migrations.AlterField(
            model_name="transferline",
            name="invoice",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="transfer_lines",
                to="invoices.invoice",
                verbose_name="facture",
            ),
        ),
        migrations.AlterField(
            model_name="transferline",
            name="run",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="lines",
                to="payments.paymentrun",
                verbose_name="campagne de paiement",
            ),
        ),
        migrations.AlterField(
            model_name="transferline",
            name="transfer",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="lines",
                to="payments.transfer",
                verbose_name="virement",
            ),
        ),
        migrations.AddConstraint(
            model_name="transferline",
            constraint=models.UniqueConstraint(
                condition=models.Q(("returned", False)),
                fields=("invoice",),
                name="transfer_line_invoice_paid_once",
            ),
        ),
        migrations.AddField(
            model_name="statement",
            name="recovered",
            field=models.DecimalField(
                decimal_places=2, default=0, max_digits=12, verbose_name="indus récupérés"
            ),
        ),
    ]
