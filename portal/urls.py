from django.urls import path

from portal.views import activity, auth, files, history, payments, reversals

app_name = "portal"

urlpatterns = [
    path("", auth.home, name="home"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("<int:bid>/payments/", history.payments, name="payments"),
    path("<int:bid>/payments/totals/", history.totals, name="payment_totals"),
    path("<int:bid>/payments.csv", history.export, name="export"),
    path("<int:bid>/payments/<uuid:payment_guid>/", payments.payment, name="payment"),
    path("<int:bid>/to-apply/", reversals.to_apply, name="to_apply"),
    path(
        "<int:bid>/reversals/<int:reversal_id>/applied/",
        reversals.reversal_applied,
        name="reversal_applied",
    ),
    path("<int:bid>/files/", files.files, name="files"),
    path("<int:bid>/files/<uuid:file_id>/", files.file, name="file"),
    path("<int:bid>/files/<uuid:file_id>/bif", files.file_bif, name="file_bif"),
    path("<int:bid>/activity/", activity.activity, name="activity"),
]
