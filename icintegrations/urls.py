from django.contrib import admin
from django.urls import path

admin.site.site_header = "icintegrations: Solutions Engineering"
admin.site.site_title = "icintegrations admin"

urlpatterns = [
    path("admin/", admin.site.urls),
]
