"""Template helpers of the admin reports page."""

from django import template

from cases.reports import tables, views

register = template.Library()


@register.filter
def report_cell(value: tables.Cell) -> str:
    """Format one report cell for the page."""
    return tables.html_cell(value)


@register.filter
def can_view_reports(user) -> bool:
    return views.can_view_reports(user)
