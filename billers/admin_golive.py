"""The biller admin's go-live panel: the checklist on the biller's page, and its
"Promote to production" and "Activate" buttons. Thin: the work is in
onboarding.go_live.

The biller's form follows the same rule: it refuses to make a biller active
while its checklist is not complete (a new biller starts inactive), and to move
it to production (that is "Promote to production", which rewrites its URLs and
clears its test secrets)."""

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from billers.choices import Environment
from billers.models import Biller
from icintegrations.errors import ApplicationError
from onboarding.go_live import biller_activate, biller_go_live_checklist, biller_promote


class BillerGoLiveForm(forms.ModelForm):
    class Meta:
        model = Biller
        fields = ["environment", "is_active"]  # the admin gives the rest

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None and "is_active" in self.fields:
            self.fields["is_active"].initial = False

    def clean(self):
        data = super().clean() or {}
        stored = Biller.objects.filter(pk=self.instance.pk).first() if self.instance.pk else None
        if data.get("is_active") and not (stored and stored.is_active):
            if stored is None:
                self.add_error(
                    "is_active",
                    "A new biller starts inactive: activate it once its go-live checklist "
                    "is complete.",
                )
            else:
                checklist = biller_go_live_checklist(biller=stored)
                if not checklist.complete:
                    self.add_error(
                        "is_active",
                        "Not activated: the go-live checklist is not complete "
                        f"({'; '.join(checklist.missing)}). Save the biller's other changes "
                        "first; the checklist reads the saved biller.",
                    )
        if data.get("environment") == Environment.PROD and not (
            stored and stored.environment == Environment.PROD
        ):
            self.add_error(
                "environment",
                "A biller reaches production only by “Promote to production” (its URLs "
                "rewritten, its test secrets cleared), once its go-live checklist is complete.",
            )
        return data


class BillerGoLiveAdminMixin:
    """For BillerAdmin: the form, the checklist on the change page, and the
    promote and activate views and their URLs."""

    form = BillerGoLiveForm

    def go_live_urls(self):
        info = self.opts.app_label, self.opts.model_name  # type: ignore[attr-defined]
        site = self.admin_site  # type: ignore[attr-defined]
        return [
            path(
                "<path:object_id>/promote/",
                site.admin_view(require_POST(self.promote_view)),
                name="{}_{}_promote".format(*info),
            ),
            path(
                "<path:object_id>/activate/",
                site.admin_view(require_POST(self.activate_view)),
                name="{}_{}_activate".format(*info),
            ),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        biller = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if biller is not None:
            extra_context = {
                **(extra_context or {}),
                "go_live": biller_go_live_checklist(biller=biller),
            }
        return super().change_view(  # type: ignore[misc]
            request, object_id, form_url, extra_context
        )

    def _go_live_biller(self, request, object_id) -> Biller:
        biller = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if biller is None:
            raise Http404(f"No biller with ID {object_id!r}.")
        if not self.has_change_permission(request, biller):  # type: ignore[attr-defined]
            raise PermissionDenied
        return biller

    def _go_live_act(self, request, object_id, service, done: str):
        biller = self._go_live_biller(request, object_id)
        try:
            service(biller=biller, user=request.user)
        except ApplicationError as e:
            self.message_user(  # type: ignore[attr-defined]
                request, f"{e.message} [{e.code}]", messages.ERROR
            )
        else:
            self.message_user(request, done, messages.SUCCESS)  # type: ignore[attr-defined]
        return HttpResponseRedirect(reverse("admin:billers_biller_change", args=[biller.pk]))

    def promote_view(self, request, object_id):
        return self._go_live_act(
            request,
            object_id,
            biller_promote,
            "Promoted to production: its URLs now point at the partner's production, its "
            "test secrets are cleared and it is inactive. Enter the production secrets, "
            "review the mapping and test the connection again, then activate it.",
        )

    def activate_view(self, request, object_id):
        return self._go_live_act(request, object_id, biller_activate, "Activated.")
