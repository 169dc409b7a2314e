"""Log-in, log-out and the home page (the user's billers)."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from icintegrations.client_address import client_address
from portal.access import portal_billers
from portal.throttle import login_blocked_for, login_failed


class LoginView(auth_views.LoginView):
    """Django's log-in, throttled: too many failed attempts for a username or
    from an address get 429 until the window ends, right password or not."""

    template_name = "portal/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        username = request.POST.get("username", "")
        address = client_address(request)
        wait = login_blocked_for(username=username, address=address)
        if wait:
            return render(
                request,
                "portal/login.html",
                {"form": self.get_form(), "blocked_minutes": -(-wait // 60)},
                status=429,
            )
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        login_failed(
            username=self.request.POST.get("username", ""),
            address=client_address(self.request),
        )
        return super().form_invalid(form)


class LogoutView(auth_views.LogoutView):
    next_page = "portal:login"


@require_GET
@login_required
def home(request):
    """The user's billers; with one biller, straight to its payments."""
    billers = portal_billers(user=request.user)
    if len(billers) == 1:
        return redirect("portal:payments", bid=billers[0].bid)
    return render(request, "portal/home.html", {"billers": billers})
