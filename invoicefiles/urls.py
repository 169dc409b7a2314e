from django.urls import path

from invoicefiles.apis import InvoiceFileBifApi, InvoiceFileDetailApi, InvoiceFileUploadApi

urlpatterns = [
    path(
        "billers/<int:bid>/invoice-files",
        InvoiceFileUploadApi.as_view(),
        name="invoice-file-upload",
    ),
    path(
        "billers/<int:bid>/invoice-files/<str:file_id>",
        InvoiceFileDetailApi.as_view(),
        name="invoice-file-detail",
    ),
    path(
        "billers/<int:bid>/invoice-files/<str:file_id>/bif",
        InvoiceFileBifApi.as_view(),
        name="invoice-file-bif",
    ),
]
