from django.contrib import admin
from django.urls import path

from cases.reports import views

app_name = "reports"

# admin_view sends anyone who is not active staff to the admin login page.
urlpatterns = [
    path("", admin.site.admin_view(views.reports_page), name="page"),
    path("<slug:slug>.csv", admin.site.admin_view(views.report_csv), name="csv"),
]
