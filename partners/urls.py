from django.urls import path

from partners.apis import BillPdfApi, InvoiceLookupApi

urlpatterns = [
    path(
        "billers/<int:bid>/invoices/<str:invoice_number>",
        InvoiceLookupApi.as_view(),
        name="invoice-lookup",
    ),
    path(
        "billers/<int:bid>/invoices/<str:invoice_number>/pdf",
        BillPdfApi.as_view(),
        name="invoice-bill-pdf",
    ),
]
