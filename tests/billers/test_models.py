import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from billers.models import Biller, FieldMapping, MappingRule, SettingDefinition
from tests.billers.factories import (
    BifCustomizationFactory,
    BillerFactory,
    BillerOptionFactory,
    CustomerFactory,
    FieldMappingFactory,
    InvoiceFactory,
)

pytestmark = pytest.mark.django_db


def test_the_settings_catalog_holds_every_setting_of_the_documents():
    catalog = dict(SettingDefinition.objects.values_list("id", "kind"))
    assert catalog == {
        8: "url", 10: "secret", 11: "url", 13: "secret", 16: "secret", 17: "url",
        19: "secret", 30: "text", 64: "list", 65: "list", 111: "url", 112: "text",
        113: "secret", 131: "json",
    }  # fmt: skip
    assert SettingDefinition.objects.filter(unique_per_biller=False).count() == 0


def test_a_bid_is_taken_once():
    BillerFactory(bid=2249)
    with pytest.raises(IntegrityError):
        BillerFactory(bid=2249)


def test_an_option_is_set_once_per_biller():
    option = BillerOptionFactory()
    with pytest.raises(IntegrityError):
        BillerOptionFactory(biller=option.biller)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AllowPartialPayments", "Maybe"),
        ("MinimumAmountDue", "ten"),
        ("MinimumAmountDue", "-1.00"),
        ("MinimumAmountDue", "1.234"),
        ("FirstNotifyRequestedDate", "11/24/2026"),
    ],
)
def test_a_customization_value_of_the_wrong_kind_is_refused(name, value):
    customization = BifCustomizationFactory.build(biller=BillerFactory(), name=name, value=value)
    with pytest.raises(ValidationError, match=name):
        customization.full_clean()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AllowPartialPayments", "Yes"),
        ("MinimumAmountDue", "10.00"),
        ("FirstNotifyRequestedDate", "2026-11-24"),
        ("LocationReference", "anything"),
    ],
)
def test_a_customization_value_of_the_right_kind_is_taken(name, value):
    BifCustomizationFactory.build(biller=BillerFactory(), name=name, value=value).full_clean()


@pytest.mark.parametrize(
    ("rule", "rule_value", "partner_field", "field"),
    [
        (MappingRule.PARTNER_FIELD, "", "", "partner_field"),
        (MappingRule.CONSTANT, "", "", "rule_value"),
        (MappingRule.YEAR_OF, "", "", "rule_value"),
        (MappingRule.SETTING, "installationID", "", "rule_value"),
        (MappingRule.TODAY, "2026-01-01", "", "rule_value"),
    ],
)
def test_a_mapping_rule_without_what_it_needs_is_refused(rule, rule_value, partner_field, field):
    row = FieldMappingFactory.build(
        biller=BillerFactory(), rule=rule, rule_value=rule_value, partner_field=partner_field
    )
    with pytest.raises(ValidationError) as error:
        row.full_clean()
    assert field in error.value.message_dict


def test_a_file_spec_id_is_mapped_once_per_biller():
    row = FieldMappingFactory(file_spec_id=10)
    FieldMappingFactory(file_spec_id=10)  # another biller may
    duplicate = FieldMappingFactory.build(biller=row.biller, file_spec_id=10)
    with pytest.raises(ValidationError):
        duplicate.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()
    assert FieldMapping.objects.filter(biller=row.biller).count() == 1


def test_an_invoice_number_and_an_account_number_are_unique_per_biller():
    invoice = InvoiceFactory(invoice_number="PBL19-010007")
    InvoiceFactory(invoice_number="PBL19-010007")  # another biller's
    with pytest.raises(IntegrityError):
        CustomerFactory(biller=invoice.biller, account_number=invoice.customer.account_number)


def test_the_migration_gives_the_seeds_billers_their_zones_and_others_keep_utc(db):
    import importlib

    from django.apps import apps

    from tests.billers.factories import BillerFactory

    migration = importlib.import_module("billers.migrations.0006_biller_time_zone")
    # what the AddField leaves every existing biller with
    peoria, imt, other = (BillerFactory(bid=bid, time_zone="UTC") for bid in (2249, 1367, 4242))

    migration.set_known(apps, None)

    assert [b.time_zone for b in Biller.objects.filter(pk__in=[peoria.pk, imt.pk, other.pk])] == [
        "America/Chicago", "America/Phoenix", "UTC",
    ]  # fmt: skip
