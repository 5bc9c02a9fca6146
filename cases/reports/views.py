"""The reports page in the admin site, and a CSV download of each table."""

from __future__ import annotations

import csv

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from cases.reports.forms import ReportFilterForm
from cases.reports.tables import SECTIONS, csv_cell

# Staff who may view every case and every refund in the admin may view the
# figures drawn from them. The Supervisors group has both permissions.
REPORT_PERMISSIONS = ("cases.view_supportcase", "refunds.view_refundrequest")


def can_view_reports(user) -> bool:
    return user.is_active and user.is_staff and user.has_perms(REPORT_PERMISSIONS)


def _filter_form(request: HttpRequest) -> ReportFilterForm:
    if not can_view_reports(request.user):
        raise PermissionDenied
    form = ReportFilterForm(request.GET)
    form.is_valid()
    return form


def reports_page(request: HttpRequest) -> TemplateResponse:
    """Show every report table for the period and team in the query string."""
    form = _filter_form(request)
    context = {
        **admin.site.each_context(request),
        "title": "Reports",
        "form": form,
    }
    if not form.is_valid():
        return TemplateResponse(
            request, "admin/reports/reports.html", context, status=400
        )
    scope = form.report_scope()
    context["scope"] = scope
    context["sections"] = [(heading, build(scope)) for heading, build in SECTIONS]
    context["query"] = request.GET.urlencode()
    return TemplateResponse(request, "admin/reports/reports.html", context)


def report_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """Return one report table as a CSV attachment named after its period."""
    form = _filter_form(request)
    if not form.is_valid():
        lines = [
            f"{form[name].label}: {' '.join(map(str, errors))}"
            for name, errors in form.errors.items()
        ]
        return HttpResponse(
            "\n".join(lines), status=400, content_type="text/plain; charset=utf-8"
        )
    scope = form.report_scope()
    table = _find_table(slug, scope)
    filename = f"supportdesk-{table.slug}-{scope.period.slug}"
    if scope.team is not None:
        filename += f"-{scope.team.slug}"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    writer = csv.writer(response)
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([csv_cell(cell) for cell in row])
    return response


def _find_table(slug: str, scope):
    for _heading, build in SECTIONS:
        for table in build(scope):
            if table.slug == slug:
                return table
    raise Http404(f"Report table {slug!r} not found.")
