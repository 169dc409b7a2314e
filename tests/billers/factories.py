import datetime
import uuid
from decimal import Decimal

import factory

from billers.models import (
    BifCustomization,
    Biller,
    BillerMembership,
    BillerOption,
    BillerSetting,
    Customer,
    Environment,
    FieldMapping,
    IntegrationOption,
    Invoice,
    InvoiceType,
    MappingRule,
    Partner,
    RecordType,
    RefreshSource,
    SettingDefinition,
)


class BillerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Biller

    bid = factory.Sequence(lambda n: 90000 + n)
    name = factory.Sequence(lambda n: f"Test Biller {n}")
    biller_guid = factory.LazyFunction(uuid.uuid4)
    partner = Partner.IMT
    environment = Environment.TEST
    is_active = True
    time_zone = "UTC"


class BillerSettingFactory(factory.django.DjangoModelFactory):
    """A plain setting; for a secret give `setting_id` of a secret kind and `secret`."""

    class Meta:
        model = BillerSetting

    biller = factory.SubFactory(BillerFactory)
    setting = factory.LazyAttribute(lambda o: SettingDefinition.objects.get(pk=o.setting_id))
    value = "https://partner.example.test/api"

    class Params:
        setting_id = 8


class FieldMappingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FieldMapping

    biller = factory.SubFactory(BillerFactory)
    file_spec_id = factory.Sequence(lambda n: 1000 + n)
    ic_field = "Custom1"
    record_type = RecordType.INVOICE_HEADER
    in_file = True
    required = False
    partner_field = "custom_one"
    rule = MappingRule.PARTNER_FIELD


class InvoiceTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InvoiceType

    biller = factory.SubFactory(BillerFactory)
    type_id = 164
    name = "Insurance1"


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    biller = factory.SubFactory(BillerFactory)
    account_number = factory.Sequence(lambda n: f"ACCT{n:05d}")
    name = "Jose L Salazar"
    address1 = "10539 W Alice Avenue"
    city = "Peoria"
    state = "AZ"
    zip = "85345"


class InvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invoice

    biller = factory.SubFactory(BillerFactory)
    customer = factory.SubFactory(CustomerFactory, biller=factory.SelfAttribute("..biller"))
    invoice_number = factory.Sequence(lambda n: f"INV{n:06d}")
    invoice_date = datetime.date(2026, 11, 1)
    due_date = datetime.date(2026, 11, 30)
    total_amount_due = Decimal("70.00")
    balance_due = Decimal("25.00")
    refreshed_via = RefreshSource.FILE


class BillerOptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BillerOption

    biller = factory.SubFactory(BillerFactory)
    option = factory.LazyFunction(lambda: IntegrationOption.objects.get(pk=64))
    enabled = True


class BifCustomizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BifCustomization

    biller = factory.SubFactory(BillerFactory)
    name = "AllowPartialPayments"
    value = "No"


class PortalUserFactory(factory.django.DjangoModelFactory):
    """A biller portal user; `billers=[...]` makes it a member of them."""

    class Meta:
        model = "auth.User"
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    password = factory.PostGenerationMethodCall("set_password", "portal-pass-123")

    @factory.post_generation
    def billers(self, create, extracted, **kwargs):
        self.save()
        for biller in extracted or ():
            BillerMembership.objects.create(user=self, biller=biller)
