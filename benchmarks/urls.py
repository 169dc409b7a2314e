"""The hub's URLs plus a bare DRF view, the baseline of benchmarks/rtdr.py."""

from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView


class BareApi(APIView):
    """A constant answer: DRF and the middleware, without authentication or a database."""

    authentication_classes = []
    permission_classes = []
    throttle_classes = []

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [
    path("bench/bare", BareApi.as_view(), name="bench-bare"),
    path("", include("icintegrations.urls")),
]

handler404 = "icintegrations.api.json_404"
handler500 = "icintegrations.api.json_500"
