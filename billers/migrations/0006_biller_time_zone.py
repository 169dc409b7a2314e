"""A biller's time zone: the days of a biller are days in its own zone.

Existing billers get one: the two the seeds describe by their BID (Peoria 2249
is in Arizona, UTC-7 all year; IMT 1367's document stamps its times -05:00 in
October, so US Central), every other biller UTC, the zone its days were
counted in until now (the hub's default TIME_ZONE). Check those in the admin.
"""

import billers.validators
from django.db import migrations, models

KNOWN = {2249: "America/Phoenix", 1367: "America/Chicago"}


def set_known(apps, schema_editor):
    Biller = apps.get_model("billers", "Biller")
    for bid, time_zone in KNOWN.items():
        Biller.objects.filter(bid=bid).update(time_zone=time_zone)


class Migration(migrations.Migration):
    dependencies = [
        ("billers", "0005_drop_redundant_biller_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="biller",
            name="time_zone",
            field=models.CharField(
                default="UTC",
                help_text="The biller's IANA time zone, e.g. America/Phoenix. Every day of the "
                "biller is a day here: a payment's date at the partner, the mapping's today, "
                "the BIF's creation date, the ACH return window and the portal's days.",
                max_length=64,
                validators=[billers.validators.validate_time_zone],
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="historicalbiller",
            name="time_zone",
            field=models.CharField(
                default="UTC",
                help_text="The biller's IANA time zone, e.g. America/Phoenix. Every day of the "
                "biller is a day here: a payment's date at the partner, the mapping's today, "
                "the BIF's creation date, the ACH return window and the portal's days.",
                max_length=64,
                validators=[billers.validators.validate_time_zone],
            ),
            preserve_default=False,
        ),
        migrations.AddConstraint(
            model_name="biller",
            constraint=models.CheckConstraint(
                condition=models.Q(("time_zone", ""), _negated=True),
                name="biller_time_zone_required",
            ),
        ),
        migrations.RunPython(set_known, migrations.RunPython.noop),
    ]
