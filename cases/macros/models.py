"""Canned replies that agents apply to a case."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from cases.models import SupportCase


class Macro(models.Model):
    """A reply text with placeholders, and the status and tags it sets.

    Placeholders are written in braces, such as ``{customer_name}``; a text
    after a bar is used when the case lacks the value, such as
    ``{customer_name|there}``. ``cases.macros.rendering.PLACEHOLDERS`` lists
    the names.
    """

    name = models.CharField(max_length=100, unique=True)
    body = models.TextField(
        blank=True,
        help_text="The reply sent to the customer. Leave empty for a macro that "
        "only changes the status or tags. Placeholders: {customer_name}, "
        "{order_number}, {refund_amount}, {case_reference}, {agent_name}; add a "
        "fallback after a bar, such as {customer_name|there}.",
    )
    set_status = models.CharField(
        max_length=10,
        choices=SupportCase.Status,
        blank=True,
        help_text="Status the case moves to after the reply. Empty leaves it.",
    )
    # Tag names, comma separated; applying the macro creates missing tags.
    add_tags = models.CharField(
        max_length=500,
        blank=True,
        help_text="Tags to add to the case, separated by commas.",
    )
    is_active = models.BooleanField(
        default=True, help_text="Only active macros are offered on the case page."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tag_list(self) -> list[str]:
        return [tag.strip() for tag in self.add_tags.split(",") if tag.strip()]

    def clean(self) -> None:
        from cases.macros.rendering import PlaceholderError, check_template

        try:
            check_template(self.body)
        except PlaceholderError as exc:
            raise ValidationError({"body": exc.message}) from None
        if not self.body.strip() and not self.set_status and not self.tag_list:
            raise ValidationError(
                "The macro does nothing. Write a reply, choose a status or add tags."
            )
