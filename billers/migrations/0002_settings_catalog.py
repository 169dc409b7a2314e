"""The Advanced Settings and Integration Options catalogs of the source documents."""

from django.db import migrations

SETTINGS = [
    # (setting ID, description, unique per biller, kind)
    (8, "RTDR EndPoint/WebService URL", True, "url"),
    (10, "RTDR Key or Password if Applicable", True, "secret"),
    (11, "DataPump Payments EndPoint/WebService URL", True, "url"),
    (13, "DataPump Payments EndPoint/WebService Password", True, "secret"),
    (16, "DataPump Paperless EndPoint/WebService Password", True, "secret"),
    (17, "DataPump AutoPay EndPoint/WebService URL", True, "url"),
    (19, "DataPump AutoPay EndPoint/WebService Password", True, "secret"),
    (30, "Accela InvoiceNumber Prefix", True, "text"),
    (64, "DataPump Payments CC Code", True, "list"),
    (65, "DataPump Payments ACH Code", True, "list"),
    (111, "Secondary DP Paperless EndPoint URL", True, "url"),
    (112, "Secondary DP Paperless EndPoint Username", True, "text"),
    (113, "Secondary DP Paperless EndPoint Password", True, "secret"),
    (131, "JSON Configuration", True, "json"),
]

OPTIONS = [
    (64, "RTDR - Override 6 Hour Previous RTDR Check"),
]


def load(apps, schema_editor):
    SettingDefinition = apps.get_model("billers", "SettingDefinition")
    IntegrationOption = apps.get_model("billers", "IntegrationOption")
    for setting_id, description, unique, kind in SETTINGS:
        SettingDefinition.objects.update_or_create(
            id=setting_id,
            defaults={"description": description, "unique_per_biller": unique, "kind": kind},
        )
    for option_id, description in OPTIONS:
        IntegrationOption.objects.update_or_create(
            id=option_id, defaults={"description": description}
        )


def unload(apps, schema_editor):
    apps.get_model("billers", "SettingDefinition").objects.filter(
        id__in=[row[0] for row in SETTINGS]
    ).delete()
    apps.get_model("billers", "IntegrationOption").objects.filter(
        id__in=[row[0] for row in OPTIONS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("billers", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
