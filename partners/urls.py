from django.urls import path

from partners.apis import BillPdfApi

urlpatterns = [
    # The invoice lookup is payments.apis_lookup's: its balance is net of payments.
    path(
        "billers/<int:bid>/invoices/<str:invoice_number>/pdf",
        BillPdfApi.as_view(),
        name="invoice-bill-pdf",
    ),
]
