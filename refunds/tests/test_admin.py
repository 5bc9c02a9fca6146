"""The supervisors' admin pages of the refunds app render with data in them."""

import pytest
from django.contrib import admin
from django.urls import reverse

from cases.audit import Actor
from refunds.models import (
    CatalogVariant,
    OutboxMessage,
    RefundRequest,
    WebhookEndpoint,
)
from refunds.services import refund_approve
from refunds.tests.factories import make_order, reimport, request_refund

pytestmark = pytest.mark.django_db

REFUNDS_MODELS = [
    model for model in admin.site._registry if model._meta.app_label == "refunds"
]


@pytest.fixture
def filled(policy, supervisor):
    WebhookEndpoint.objects.create(name="Shop", url="http://127.0.0.1:8397/")
    CatalogVariant.objects.create(sku="MUG", product_type="Mugs")
    order = make_order(lines=[("Mug", "12.00", 2, "MUG")])
    refund_approve(
        refund=request_refund(order, {1: 1}), actor=Actor.for_agent(supervisor)
    )
    request_refund(order, {1: 1})
    reimport(lines=[("Mug", "12.00", 2, "MUG")], refunded="5.00")
    OutboxMessage.objects.filter(channel="webhook").update(status="dead")


@pytest.mark.parametrize("model", REFUNDS_MODELS, ids=lambda m: m._meta.model_name)
def test_changelist_and_change_page_render(client, supervisor, filled, model):
    client.force_login(supervisor.user)
    opts = model._meta

    listing = client.get(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    )
    first = admin.site._registry[model].get_queryset(listing.wsgi_request).first()

    assert listing.status_code == 200
    if first is not None:
        page = client.get(
            reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk])
        )
        assert page.status_code == 200


def test_admin_without_agent_profile_cannot_approve(admin_client, policy):
    refund = request_refund(make_order())

    response = admin_client.post(
        reverse("admin:refunds_refundrequest_changelist"),
        {"action": "approve_in_full", "_selected_action": [refund.pk]},
        follow=True,
    )

    assert "Only agents can decide refunds." in response.content.decode()
    refund.refresh_from_db()
    assert refund.status == RefundRequest.Status.REQUESTED
