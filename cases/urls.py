from django.urls import path
from django.views.generic import TemplateView

from cases import case_work_views, queue_views, views

app_name = "cases"

urlpatterns = [
    path("queue/", queue_views.queue_page, name="queue"),
    path("queue/counts/", queue_views.queue_counts, name="queue-counts"),
    path("queue/take-next/", queue_views.take_next, name="take-next"),
    path("queue/bulk/", queue_views.bulk_action, name="bulk"),
    path("queue/views/", queue_views.saved_view_create, name="view-create"),
    path(
        "queue/views/<int:view_id>/delete/",
        queue_views.saved_view_delete,
        name="view-delete",
    ),
    path("me/status/", case_work_views.agent_status, name="agent-status"),
    path(
        "shortcuts/",
        TemplateView.as_view(template_name="cases/shortcuts.html"),
        name="shortcuts",
    ),
    path("cases/<str:reference>/", views.case_detail, name="detail"),
    path("cases/<str:reference>/reply/", views.case_reply, name="reply"),
    path("cases/<str:reference>/note/", views.case_note, name="note"),
    path("cases/<str:reference>/status/", views.case_status, name="status"),
    path("cases/<str:reference>/priority/", views.case_priority, name="priority"),
    path("cases/<str:reference>/assign/", views.case_assign, name="assign"),
    path("cases/<str:reference>/take/", views.case_take, name="take"),
    path("cases/<str:reference>/tags/", case_work_views.case_tag_add, name="tag-add"),
    path(
        "cases/<str:reference>/tags/remove/",
        case_work_views.case_tag_remove,
        name="tag-remove",
    ),
    path("cases/<str:reference>/merge/", case_work_views.case_merge, name="merge"),
    path(
        "cases/<str:reference>/merges/<int:merge_id>/undo/",
        case_work_views.case_merge_undo,
        name="merge-undo",
    ),
    path(
        "cases/<str:reference>/presence/",
        case_work_views.case_presence,
        name="presence",
    ),
]
