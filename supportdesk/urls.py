from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.generic import TemplateView

from supportdesk import views

admin.site.site_header = "Supportdesk administration"
admin.site.site_title = "Supportdesk admin"
admin.site.index_title = "Supervisor tools"

handler400 = "supportdesk.views.bad_request"
handler404 = "supportdesk.views.page_not_found"

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="registration/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("cases.urls")),
    path("", include("refunds.urls")),
    path("", include("cases.mail.urls")),
    path("", include("cases.macros.urls")),
    path("", include("cases.surveys.urls")),
    path("api/v1/", include("supportdesk.api.urls")),
    re_path(r"^api/(?P<path>.*)$", views.api_not_found),
    path("admin/reports/", include("cases.reports.urls")),
    path("admin/", admin.site.urls),
]
