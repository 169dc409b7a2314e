from django.urls import path

from payments.apis import PaymentAchReturnApi, PaymentCreateApi, PaymentDetailApi, PaymentVoidApi

urlpatterns = [
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
