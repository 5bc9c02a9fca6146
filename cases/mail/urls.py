from django.urls import path

from cases.mail import contact, views

app_name = "mail"

urlpatterns = [
    path("mail/inbound/", views.inbound_mail, name="inbound"),
    path(
        "cases/<str:reference>/attachments/<int:pk>/",
        views.attachment_download,
        name="attachment",
    ),
    path("contact/", contact.contact, name="contact"),
    path("contact/sent/", contact.contact_sent, name="contact-sent"),
]
