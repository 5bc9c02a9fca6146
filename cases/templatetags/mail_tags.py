"""Template tags of the email channel and macros on the case page."""

from django import template

from cases.macros.models import Macro

register = template.Library()


@register.simple_tag
def active_macros() -> list[Macro]:
    """Return the macros offered on the case page."""
    return list(Macro.objects.filter(is_active=True).only("pk", "name"))
