"""Routes of the JSON API, version 1, mounted at /api/v1/."""

from django.urls import path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from cases.api import views as case_views
from refunds.api import views as refund_views
from supportdesk.api import auth

app_name = "api"

urlpatterns = [
    path("auth/token/", auth.TokenObtainView.as_view(), name="token"),
    path("auth/token/refresh/", auth.TokenRefreshView.as_view(), name="token-refresh"),
    path("auth/token/verify/", auth.TokenVerifyView.as_view(), name="token-verify"),
    path("orders/", case_views.OrderListView.as_view(), name="orders"),
    path("orders/<str:number>/", case_views.OrderDetailView.as_view(), name="order"),
    path("cases/", case_views.CaseListView.as_view(), name="cases"),
    path("cases/<str:reference>/", case_views.CaseDetailView.as_view(), name="case"),
    path(
        "cases/<str:reference>/messages/",
        case_views.CaseMessageView.as_view(),
        name="case-messages",
    ),
    path("refunds/", refund_views.RefundListView.as_view(), name="refunds"),
    path(
        "refunds/<str:reference>/",
        refund_views.RefundDetailView.as_view(),
        name="refund",
    ),
    path(
        "refunds/<str:reference>/approve/",
        refund_views.RefundApproveView.as_view(),
        name="refund-approve",
    ),
    path(
        "refunds/<str:reference>/escalate/",
        refund_views.RefundEscalateView.as_view(),
        name="refund-escalate",
    ),
    path(
        "refunds/<str:reference>/reject/",
        refund_views.RefundRejectView.as_view(),
        name="refund-reject",
    ),
    path(
        "refunds/<str:reference>/mark-refunded/",
        refund_views.RefundMarkRefundedView.as_view(),
        name="refund-mark-refunded",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(
            url_name="api:schema", template_name="api/swagger_ui.html"
        ),
        name="docs",
    ),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
]
