from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from icintegrations import health
from icintegrations.api import api_not_found

admin.site.site_header = "icintegrations: Solutions Engineering"
admin.site.site_title = "icintegrations admin"

handler400 = "icintegrations.api.json_400"
handler403 = "icintegrations.api.json_403"
handler404 = "icintegrations.api.json_404"
handler500 = "icintegrations.api.json_500"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
    path("admin/", include("payments.admin_urls")),  # admin/operations/, before the site
    path("admin/", admin.site.urls),
    path("portal/", include("portal.urls")),
    path("api/v1/", include("partners.urls")),
    path("api/v1/", include("payments.urls")),
    path("api/v1/", include("invoicefiles.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # Last: any other /api/ path is a JSON 404 (in the demo's DEBUG mode too).
    re_path(r"^api/(?P<rest>.*)$", api_not_found, name="api-not-found"),
]
