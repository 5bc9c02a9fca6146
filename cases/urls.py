from django.urls import path

from cases import views

app_name = "cases"

urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("cases/<str:reference>/", views.case_detail, name="detail"),
    path("cases/<str:reference>/reply/", views.case_reply, name="reply"),
    path("cases/<str:reference>/note/", views.case_note, name="note"),
    path("cases/<str:reference>/status/", views.case_status, name="status"),
    path("cases/<str:reference>/priority/", views.case_priority, name="priority"),
    path("cases/<str:reference>/assign/", views.case_assign, name="assign"),
    path("cases/<str:reference>/take/", views.case_take, name="take"),
]
