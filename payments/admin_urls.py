"""The payments app's pages of the admin site beside the ModelAdmins' (included
under admin/ by icintegrations.urls): the operations page, staff only."""

from django.contrib import admin
from django.urls import path

from payments.admin_operations import operations_view

urlpatterns = [
    path("operations/", admin.site.admin_view(operations_view), name="admin-operations"),
]
