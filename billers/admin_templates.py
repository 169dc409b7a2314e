"""The biller admin's "Add biller from template": the partner templates listed, or
an existing biller to clone, then a form with the new biller's own values (BID,
name, BillerGuid, time zone, and the per-biller values inside its settings, such
as CitizenServe's report_ID and installationID) and Create. Thin: the templates
are billers.templates, the work billers.services.biller_templates."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from billers.models import Biller
from billers.selectors import biller_get
from billers.services.biller_templates import (
    BillerSource,
    biller_create,
    biller_source_clone,
    biller_source_template,
)
from billers.templates import TemplateValue, partner_templates
from billers.validators import validate_time_zone
from icintegrations.errors import ApplicationError


class BillerFromTemplateForm(forms.Form):
    bid = forms.IntegerField(label="BID", min_value=1)
    name = forms.CharField(max_length=200)
    biller_guid = forms.UUIDField(
        label="BillerGuid", help_text="The biller's GUID at the provider."
    )
    time_zone = forms.CharField(
        max_length=64,
        validators=[validate_time_zone],
        help_text="The biller's IANA time zone, e.g. America/Phoenix.",
    )

    def __init__(self, *args, values: tuple[TemplateValue, ...] = (), **kwargs):
        super().__init__(*args, **kwargs)
        for spec in values:
            self.fields[spec.key] = forms.CharField(
                label=spec.label, help_text=spec.help_text, max_length=200
            )


def _source(request) -> tuple[BillerSource | None, list[str]]:
    """The source a request names: `template` (a key) or `clone` (a BID)."""
    data = request.POST if request.method == "POST" else request.GET
    try:
        if data.get("template"):
            return biller_source_template(key=data["template"]), []
        if data.get("clone"):
            bid = data["clone"]
            if not str(bid).isdigit():
                return None, [f"No biller with BID {bid!r}."]
            return biller_source_clone(biller=biller_get(bid=int(bid))), []
    except ApplicationError as e:
        return None, [e.message]
    return None, []


class BillerTemplateAdminMixin:
    """For BillerAdmin: the "Add biller from template" page and its URL."""

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name  # type: ignore[attr-defined]
        view = self.admin_site.admin_view(self.add_from_template_view)  # type: ignore[attr-defined]
        urls = [path("add-from-template/", view, name="{}_{}_add_from_template".format(*info))]
        return [*urls, *super().get_urls()]  # type: ignore[misc]

    def add_from_template_view(self, request):
        if not self.has_add_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        source, problems = _source(request)
        form = None
        if source is not None and request.method == "POST":
            form = BillerFromTemplateForm(request.POST, values=source.values)
            if form.is_valid():
                try:
                    return self._create(request, source, form.cleaned_data)
                except ApplicationError as e:
                    problems = e.extra.get("problems") or [e.message]
        elif source is not None:
            form = BillerFromTemplateForm(initial=source.initial(), values=source.values)
        return TemplateResponse(
            request,
            "admin/billers/biller_from_template.html",
            {
                **self.admin_site.each_context(request),  # type: ignore[attr-defined]
                "opts": self.opts,  # type: ignore[attr-defined]
                "title": "Add biller from template",
                "templates": partner_templates(),
                "billers": Biller.objects.order_by("bid").only("bid", "name", "partner"),
                "source": source,
                "form": form,
                "problems": problems,
            },
        )

    def _create(self, request, source: BillerSource, data: dict) -> HttpResponseRedirect:
        created = biller_create(
            source=source,
            bid=data["bid"],
            name=data["name"],
            biller_guid=data["biller_guid"],
            time_zone=data["time_zone"],
            values={spec.key: data[spec.key] for spec in source.values},
            user=request.user,
        )
        biller = created.biller
        self.message_user(  # type: ignore[attr-defined]
            request,
            f"Biller {biller} created from {source.label}: inactive, in the test environment.",
            messages.SUCCESS,
        )
        for note in created.notes:
            self.message_user(request, note, messages.WARNING)  # type: ignore[attr-defined]
        return HttpResponseRedirect(reverse("admin:billers_biller_change", args=[biller.pk]))
