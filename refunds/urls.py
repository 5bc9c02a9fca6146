from django.urls import path

from refunds import agent_views, hook_views, views

app_name = "refunds"

urlpatterns = [
    path("refund/", views.refund_start, name="start"),
    path("refund/orders/<int:order_id>/", views.refund_order, name="order"),
    path("refund/orders/<int:order_id>/check/", views.refund_check, name="check"),
    path("refund/orders/<int:order_id>/submit/", views.refund_submit, name="submit"),
    path("refund/orders/<int:order_id>/verify/", views.refund_verify, name="verify"),
    path(
        "refund/orders/<int:order_id>/verify/resend/",
        views.refund_verify_resend,
        name="verify-resend",
    ),
    path("refund/status/<str:token>/", views.refund_status, name="status"),
    path(
        "refund/status/<str:token>/messages/",
        views.refund_status_message,
        name="status-message",
    ),
    path("refunds/<str:reference>/approve/", agent_views.approve, name="approve"),
    path("refunds/<str:reference>/reject/", agent_views.reject, name="reject"),
    path(
        "refunds/<str:reference>/mark-refunded/",
        agent_views.mark_refunded,
        name="mark-refunded",
    ),
    path(
        "refunds/<str:reference>/change-amount/",
        agent_views.change_amount,
        name="change-amount",
    ),
    path("refunds/<str:reference>/cancel/", agent_views.cancel, name="cancel"),
    path("refunds/<str:reference>/escalate/", agent_views.escalate, name="escalate"),
    path(
        "hooks/shop/<int:endpoint_id>/refund-confirmations/",
        hook_views.refund_confirmation,
        name="hook-confirm",
    ),
]
