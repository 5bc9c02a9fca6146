"""Template filters for money and dates on Supportdesk pages."""

from django import template

from supportdesk.money import Money

register = template.Library()


@register.filter
def money(minor: int | None, currency: str) -> str:
    """Format ``minor`` units of ``currency``, such as 1250|money:"EUR"."""
    if minor is None:
        return ""
    return Money(int(minor), currency).format()


@register.filter
def get_item(mapping: dict, key):
    """Return ``mapping[key]``, or None when it is missing."""
    return mapping.get(key) if mapping else None
