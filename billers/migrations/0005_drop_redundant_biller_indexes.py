"""Drop the single-column biller_id indexes of customers and invoices.

Each is the leading column of the table's unique constraint (biller,
account_number) and (biller, invoice_number), whose index serves every lookup by
biller; the extra index only cost every write (an invoice file's import among
them). Only the indexes go: Django's own AlterField would also drop and re-add
the foreign keys, checking every row again (SQLite: rebuilding both tables).
"""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = [
    ("billers_customer", "billers_customer_biller_id_56a68589"),
    ("billers_invoice", "billers_invoice_biller_id_cc9544f0"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("billers", "0004_biller_membership"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" ("biller_id")',
                )
                for table, index in INDEXES
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="customer",
                    name="biller",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="customers",
                        to="billers.biller",
                    ),
                ),
                migrations.AlterField(
                    model_name="invoice",
                    name="biller",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="invoices",
                        to="billers.biller",
                    ),
                ),
            ],
        ),
    ]
