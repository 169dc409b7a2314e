"""API clients in the admin: the list, a client's page (billers added to its
scope keep its token, as `create_api_client NAME --biller BID` keeps it), and
"Add API client": a name and billers, then the token, shown once on the page
that answers (only its hash is stored). Thin: the work is
billers.services.api_clients."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse

from billers.models import ApiClient, Biller
from billers.services.api_clients import api_client_save
from icintegrations.errors import ApplicationError


class ApiClientAddForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="Who calls the API with it, e.g. payer-site or citizenserve-files.",
    )
    billers = forms.ModelMultipleChoiceField(
        queryset=Biller.objects.order_by("bid"),
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="The billers it may call the API for.",
    )

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if ApiClient.objects.filter(name=name).exists():
            raise forms.ValidationError(
                f"An API client named {name!r} exists: add billers on its page (its token is "
                "kept), or rotate its token with `create_api_client NAME --replace`."
            )
        return name


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ["name", "token_prefix", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "token_prefix"]
    filter_horizontal = ["billers"]
    readonly_fields = ["token_prefix", "created_at"]

    def add_view(self, request, form_url="", extra_context=None):
        """Name and billers, then the new token on the answer, once."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        initial = {}
        if request.method != "POST" and request.GET.get("biller", "").isdigit():
            initial["billers"] = Biller.objects.filter(bid=int(request.GET["biller"]))
        form = ApiClientAddForm(request.POST if request.method == "POST" else None, initial=initial)
        saved = None
        if form.is_valid():
            try:
                saved = api_client_save(
                    name=form.cleaned_data["name"],
                    bids=[biller.bid for biller in form.cleaned_data["billers"]],
                )
            except ApplicationError as e:
                form.add_error(None, e.message)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Add API client",
            "tool_name": "Add API client",
            "form": form,
            "saved": saved,
            "change_url": reverse("admin:billers_apiclient_changelist"),
        }
        if saved is not None:
            client_url = reverse("admin:billers_apiclient_change", args=[saved.client.pk])
            context["client_url"] = client_url
        # The admin's views are never cached (Cache-Control: no-store): nor is the token.
        return TemplateResponse(request, "admin/billers/api_client_add.html", context)
