"""Drop the disclosure log's single-column indexes on ``professional_id`` and
``beneficiary_id``: the (professional, occurred_at) and (beneficiary, occurred_at) indexes
lead with the same columns and serve the same lookups, and every index costs each insert
(one per rights check; issue 7).

Written by hand: ``AlterField`` would rebuild the table on SQLite, dropping the append-only
triggers with it. The indexes are dropped by name (the same on SQLite and PostgreSQL) and
recreated on reversal.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = {
    "audit_disclosurelog_beneficiary_id_280727d5": "beneficiary_id",
    "audit_disclosurelog_professional_id_5c6372e2": "professional_id",
}


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_tamper_evidence"),
        ("providers", "0002_bank_accounts"),
        ("registry", "0003_beneficiary_identity_index_first"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql=f"DROP INDEX IF EXISTS {name}",
                    reverse_sql=f"CREATE INDEX {name} ON audit_disclosurelog ({column})",
                )
                for name, column in INDEXES.items()
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="disclosurelog",
                    name="beneficiary",
                    field=models.ForeignKey(
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="registry.beneficiary",
                    ),
                ),
                migrations.AlterField(
                    model_name="disclosurelog",
                    name="professional",
                    field=models.ForeignKey(
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="providers.professional",
                    ),
                ),
            ],
        )
    ]
