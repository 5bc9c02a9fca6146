"""Refund policies, with a preview of a change before it is saved."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from refunds import selectors
from refunds.models import RefundPolicy
from refunds.policy_preview import MAX_COMPARED, policy_preview

DEFAULT_COMPARED = 100
# Fields of the posted form that belong to the preview page, not the policy.
PREVIEW_FIELDS = {"csrfmiddlewaretoken", "_preview", "preview_count"}


@admin.register(RefundPolicy)
class RefundPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "is_active",
        "return_window_days",
        "currency",
        "supervisor_threshold",
        "updated_at",
    ]
    list_filter = ["is_active"]
    change_form_template = "admin/refunds/refundpolicy/change_form.html"
    fieldsets = [
        (None, {"fields": ["name", "is_active", "currency"]}),
        ("Return window", {"fields": ["return_window_days", "time_zone"]}),
        (
            "What cannot be refunded",
            {
                "fields": [
                    "non_refundable_skus",
                    "non_refundable_tags",
                    "non_refundable_product_types",
                    "gift_cards_refundable",
                ]
            },
        ),
        (
            "Amounts",
            {
                "fields": [
                    "shipping_refundable",
                    "auto_approve_limit",
                    "supervisor_threshold",
                ]
            },
        ),
        (
            "Abuse signals",
            {"fields": ["abuse_period_days", "abuse_max_refunds", "abuse_max_ratio"]},
        ),
        ("Proof of ownership", {"fields": ["require_ownership_proof"]}),
        ("Next steps for the customer", {"fields": ["return_instructions"]}),
    ]

    def get_urls(self):
        opts = self.model._meta
        name = f"{opts.app_label}_{opts.model_name}"
        return [
            path(
                "add/preview/",
                self.admin_site.admin_view(self.preview_view),
                name=f"{name}_add_preview",
            ),
            path(
                "<path:object_id>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name=f"{name}_preview",
            ),
            *super().get_urls(),
        ]

    def preview_view(self, request: HttpRequest, object_id: str | None = None):
        """Show how the posted, unsaved policy would have decided recent requests.

        The page posts the same fields back to the change form to save them.
        """
        policy = self.get_object(request, object_id) if object_id else None
        if object_id and policy is None:
            raise Http404("No such refund policy.")
        allowed = (
            self.has_change_permission(request, policy)
            if policy
            else self.has_add_permission(request)
        )
        if not allowed:
            raise PermissionDenied
        save_url = (
            reverse("admin:refunds_refundpolicy_change", args=[policy.pk])
            if policy
            else reverse("admin:refunds_refundpolicy_add")
        )
        if request.method != "POST":
            return HttpResponseRedirect(save_url)

        ModelForm = self.get_form(
            request,
            policy,
            change=policy is not None,
            fields=flatten_fieldsets(self.get_fieldsets(request, policy)),
        )
        # A fresh copy, because validating the form writes into its instance.
        proposed = RefundPolicy.objects.get(pk=policy.pk) if policy else None
        form = ModelForm(request.POST, instance=proposed)
        if not form.is_valid():
            # The change form shows the errors beside the fields and keeps
            # what was typed. It saves nothing while the form is invalid, and
            # its Save button posts to the usual change URL.
            return self.changeform_view(request, object_id, form_url=save_url)
        count = _compared_count(request.POST.get("preview_count"))
        current = policy or selectors.stored_active_policy()
        preview = policy_preview(current=current, proposed=form.instance, count=count)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Preview the policy change",
            "original": policy,
            "form": form,
            "preview": preview,
            "changes": _changes(form, policy),
            "count": count,
            "max_count": MAX_COMPARED,
            "save_url": save_url,
            "posted": [
                (name, value)
                for name, values in request.POST.lists()
                if name not in PREVIEW_FIELDS
                for value in values
            ],
        }
        return TemplateResponse(
            request, "admin/refunds/refundpolicy/preview.html", context
        )


def _compared_count(raw: str | None) -> int:
    try:
        value = int(raw or DEFAULT_COMPARED)
    except ValueError:
        value = DEFAULT_COMPARED
    return max(1, min(value, MAX_COMPARED))


def _changes(form, policy: RefundPolicy | None) -> list[tuple[str, object, object]]:
    """Return (label, saved value, posted value) for every changed field."""
    if not form.is_bound or form.errors:
        return []
    rows = []
    for name in form.changed_data:
        field = form.fields[name]
        before = getattr(policy, name) if policy else field.initial
        rows.append((field.label, before, form.cleaned_data.get(name)))
    return rows
