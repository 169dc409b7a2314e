"""Portal users in the admin: Django's user page, plus the billers a portal user
belongs to and a small form that adds billers (billers.services.portal_users:
additive, the password untouched; an admin account is refused)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from billers.models import Biller
from billers.services.portal_users import portal_user_billers_add
from icintegrations.errors import ApplicationError

User = get_user_model()


class PortalBillersForm(forms.Form):
    billers = forms.ModelMultipleChoiceField(
        queryset=Biller.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="The user sees these billers' portal pages too. Its password is unchanged.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["billers"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = Biller.objects.exclude(memberships__user=user).order_by("bid")


class PortalUserAdmin(UserAdmin):
    readonly_fields = [*UserAdmin.readonly_fields, "portal_billers"]
    fieldsets = [
        *(UserAdmin.fieldsets or ()),
        ("Biller portal", {"fields": ["portal_billers"]}),
    ]

    def get_urls(self):
        return [
            path(
                "<path:object_id>/portal-billers/",
                self.admin_site.admin_view(self.portal_billers_view),
                name="auth_user_portal_billers",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="Portal billers")
    def portal_billers(self, user):
        if not user.pk:
            return "-"
        rows = format_html_join(
            "",
            '<li><a href="{}">{} {}</a></li>',
            (
                (reverse("admin:billers_biller_change", args=[m.biller.pk]), m.biller.bid,
                 m.biller.name)
                for m in user.biller_memberships.select_related("biller")
            ),
        )  # fmt: skip
        add = reverse("admin:auth_user_portal_billers", args=[user.pk])
        listed = format_html("<ul>{}</ul>", rows) if rows else "None: not a portal user."
        return format_html('{}<p><a href="{}">Add billers…</a></p>', listed, add)

    def portal_billers_view(self, request, object_id):
        user = self.get_object(request, unquote(object_id))
        if user is None:
            raise Http404(f"No user with ID {object_id!r}.")
        if not self.has_change_permission(request, user):
            raise PermissionDenied
        change_url = reverse("admin:auth_user_change", args=[user.pk])
        form = PortalBillersForm(request.POST if request.method == "POST" else None, user=user)
        if form.is_valid():
            bids = [b.bid for b in form.cleaned_data["billers"]]
            try:
                added = portal_user_billers_add(user=user, bids=bids)
            except ApplicationError as e:
                form.add_error(None, e.message)
            else:
                messages.success(
                    request, f"{user.get_username()} added to billers {', '.join(map(str, added))}."
                )
                return HttpResponseRedirect(change_url)
        return TemplateResponse(
            request,
            "admin/billers/portal_billers.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": user,
                "title": f"Add billers: {user.get_username()}",
                "tool_name": "Add billers",
                "change_url": change_url,
                "form": form,
            },
        )


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, PortalUserAdmin)
