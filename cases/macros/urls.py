from django.urls import path

from cases.macros import views

app_name = "macros"

urlpatterns = [
    path("cases/<str:reference>/macros/", views.macro_preview_page, name="preview"),
    path(
        "cases/<str:reference>/macros/<int:pk>/apply/",
        views.macro_apply_view,
        name="apply",
    ),
]
