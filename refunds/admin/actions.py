"""Admin actions that need a reason from the supervisor before they run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import ngettext

from supportdesk.errors import DomainError


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        error_messages={"required": "Give a reason."},
    )


class ReadOnlyAdmin(admin.ModelAdmin):
    """An admin for logs: supervisors can view rows but not add, edit or delete them."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def perform_each(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    *,
    perform: Callable[[Any], object],
    success: tuple[str, str],
) -> int:
    """Call ``perform(obj)`` for each selected object; return how many succeeded.

    Each object that a service refuses is reported with the error's message;
    the others go ahead. ``success`` is the message for one object and for
    several, formatted with the count.
    """
    done = 0
    for obj in queryset:
        try:
            perform(obj)
        except DomainError as exc:
            model_admin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
        else:
            done += 1
    if done:
        message = ngettext(*success, done).format(count=done)
        model_admin.message_user(request, message, messages.SUCCESS)
    return done


def run_with_reason(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    *,
    action: str,
    title: str,
    help_text: str,
    perform: Callable[[Any, str], object],
) -> TemplateResponse | None:
    """Ask for a reason on an intermediate page, then perform the action.

    ``perform(obj, reason)`` calls a service for one selected object. Each
    object that a service refuses is reported with the error's message; the
    others go ahead.
    """
    form = ReasonForm(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        done = 0
        for obj in queryset:
            try:
                perform(obj, form.cleaned_data["reason"])
            except DomainError as exc:
                model_admin.message_user(
                    request, f"{obj}: {exc.message}", messages.ERROR
                )
            else:
                done += 1
        if done:
            model_admin.message_user(
                request,
                ngettext(
                    "{title}: done for {count} item.",
                    "{title}: done for {count} items.",
                    done,
                ).format(title=title, count=done),
                messages.SUCCESS,
            )
        return None
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "help_text": help_text,
        "form": form,
        "queryset": queryset,
        "opts": model_admin.model._meta,
        "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/refunds/reason_action.html", context)
