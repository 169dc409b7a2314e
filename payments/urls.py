from django.urls import path

from payments.apis import PaymentAchReturnApi, PaymentCreateApi, PaymentDetailApi, PaymentVoidApi
from payments.apis_lookup import InvoiceLookupApi

urlpatterns = [
    path(
        "billers/<int:bid>/invoices/<str:invoice_number>",
        InvoiceLookupApi.as_view(),
        name="invoice-lookup",
    ),
    path("billers/<int:bid>/payments", PaymentCreateApi.as_view(), name="payment-create"),
    path(
        "billers/<int:bid>/payments/<str:guid>", PaymentDetailApi.as_view(), name="payment-detail"
    ),
    path(
        "billers/<int:bid>/payments/<str:guid>/void", PaymentVoidApi.as_view(), name="payment-void"
    ),
    path(
        "billers/<int:bid>/payments/<str:guid>/ach-return",
        PaymentAchReturnApi.as_view(),
        name="payment-ach-return",
    ),
]
