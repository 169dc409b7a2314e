"""Log-in, log-out and the home page (the user's billers)."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from portal.access import portal_billers


class LoginView(auth_views.LoginView):
    """Django's log-in. Repeated failures are locked out by django-axes (per
    username and address, icintegrations.login_protection), as on the admin."""

    template_name = "portal/login.html"
    redirect_authenticated_user = True


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
