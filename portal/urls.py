from django.urls import path

from portal import detail, history, views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("<int:bid>/payments/", history.payments, name="payments"),
    path("<int:bid>/payments/totals/", history.totals, name="payment_totals"),
    path("<int:bid>/payments.csv", history.export, name="export"),
    path("<int:bid>/payments/<uuid:payment_guid>/", detail.payment, name="payment"),
    path("<int:bid>/to-apply/", detail.to_apply, name="to_apply"),
    path(
        "<int:bid>/reversals/<int:reversal_id>/applied/",
        detail.reversal_applied,
        name="reversal_applied",
    ),
    path("<int:bid>/files/", detail.files, name="files"),
    path("<int:bid>/files/<uuid:file_id>/", detail.file, name="file"),
    path("<int:bid>/files/<uuid:file_id>/bif", detail.file_bif, name="file_bif"),
    path("<int:bid>/activity/", detail.activity, name="activity"),
]
