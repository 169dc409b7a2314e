"""The biller admin's configuration documents: "Export configuration" on a
biller's page (a JSON download), and "Import configuration" (upload, the
differences section by section, then Apply). Thin: the work is in
billers.selectors.biller_document_export and billers.services.config_document.

Between the two steps of an import the document travels in the page encrypted
with the field encryption keys, so a secret it gives is never in the page."""

import json

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from billers.models import Biller
from billers.selectors import biller_document_export
from billers.services.config_document import biller_document_apply, biller_document_diff
from billers.services.document_schema import biller_document_parse
from icintegrations import crypto
from icintegrations.errors import ApplicationError

MAX_DOCUMENT_BYTES = 1024 * 1024


class DocumentUploadForm(forms.Form):
    document = forms.FileField(
        label="Configuration document",
        help_text="A JSON document as “Export configuration” or `manage.py export_biller` "
        "writes it. Nothing changes until you press Apply.",
    )

    def clean_document(self):
        upload = self.cleaned_data["document"]
        if upload.size > MAX_DOCUMENT_BYTES:
            raise forms.ValidationError("The document is larger than 1 MiB.")
        return upload.read()


class BillerDocumentAdminMixin:
    """For BillerAdmin: the export and import views and their URLs."""

    def document_urls(self):
        info = self.opts.app_label, self.opts.model_name  # type: ignore[attr-defined]
        site = self.admin_site  # type: ignore[attr-defined]
        return [
            path(
                "import/",
                site.admin_view(self.import_view),
                name="{}_{}_import".format(*info),
            ),
            path(
                "<path:object_id>/export/",
                site.admin_view(self.export_view),
                name="{}_{}_export".format(*info),
            ),
        ]

    def export_view(self, request, object_id):
        biller = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if biller is None:
            raise Http404(f"No biller with ID {object_id!r}.")
        if not self.has_view_permission(request, biller):  # type: ignore[attr-defined]
            raise PermissionDenied
        text = json.dumps(biller_document_export(biller=biller), indent=2, ensure_ascii=False)
        response = HttpResponse(text + "\n", content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="biller-{biller.bid}.json"'
        return response

    def import_view(self, request):
        if not (
            self.has_add_permission(request)  # type: ignore[attr-defined]
            and self.has_change_permission(request)  # type: ignore[attr-defined]
        ):
            raise PermissionDenied
        form = DocumentUploadForm()
        diff, sealed = None, ""
        problems: list[str] = []
        try:
            if request.method == "POST" and "_apply" in request.POST:
                document = biller_document_parse(text=_unseal(request.POST.get("sealed", "")))
                diff = biller_document_apply(document=document, user=request.user)
                biller = Biller.objects.get(bid=diff.bid)
                self.message_user(  # type: ignore[attr-defined]
                    request,
                    f"Configuration imported into {biller}: {diff.change_count} change(s).",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:billers_biller_change", args=[biller.pk])
                )
            if request.method == "POST":
                form = DocumentUploadForm(request.POST, request.FILES)
                if form.is_valid():
                    document = biller_document_parse(text=form.cleaned_data["document"])
                    diff = biller_document_diff(document=document)
                    if not diff.is_empty:
                        sealed = crypto.encrypt(json.dumps(document))
        except ApplicationError as e:
            diff, problems = None, e.extra.get("problems") or [e.message]
        opts = self.opts  # type: ignore[attr-defined]
        return TemplateResponse(
            request,
            "admin/billers/import_document.html",
            {
                **self.admin_site.each_context(request),  # type: ignore[attr-defined]
                "opts": opts,
                "title": "Import configuration",
                "form": form,
                "diff": diff,
                "problems": problems,
                "sealed": sealed,
                "existing": diff and Biller.objects.filter(bid=diff.bid).first(),
            },
        )


def _unseal(sealed: str) -> str:
    try:
        return crypto.decrypt(sealed)
    except (crypto.DecryptionError, ValueError):
        raise ApplicationError(
            "The document to apply was lost; upload it again.", code="invalid_document"
        ) from None
