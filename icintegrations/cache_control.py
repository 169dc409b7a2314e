"""API answers are never stored by a browser or a shared cache: they hold payers'
names, addresses and balances. `Cache-Control: no-store` on every /api/ response
that did not set its own."""

from django.utils.cache import patch_cache_control


class ApiNoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/api/") and not response.has_header("Cache-Control"):
            patch_cache_control(response, no_store=True)
        return response
