"""Survey answers and the results per agent and team, for supervisors."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from cases.admin import ReadOnlyAdminMixin
from cases.surveys.models import SatisfactionSurvey
from cases.surveys.selectors import survey_results

# Periods offered on the results page, in days; 0 means all time.
RESULT_PERIODS = {"30": 30, "90": 90, "365": 365, "all": 0}


@admin.register(SatisfactionSurvey)
class SatisfactionSurveyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "case",
        "agent",
        "team",
        "rating",
        "comment",
        "answered_at",
    ]
    list_filter = [
        "rating",
        ("agent", admin.RelatedOnlyFieldListFilter),
        ("team", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["comment", "case__subject"]
    list_select_related = ["case", "agent", "team"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    exclude = ["token"]
    change_list_template = "admin/cases/satisfactionsurvey/change_list.html"

    def get_urls(self):
        results = path(
            "results/",
            self.admin_site.admin_view(self.results_view),
            name="cases_satisfactionsurvey_results",
        )
        return [results, *super().get_urls()]

    def results_view(self, request):
        period = request.GET.get("period", "90")
        days = RESULT_PERIODS.get(period, 90)
        since = timezone.now() - timedelta(days=days) if days else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Satisfaction results",
            "period": period if period in RESULT_PERIODS else "90",
            "periods": [
                ("30", "30 days"),
                ("90", "90 days"),
                ("365", "A year"),
                ("all", "All time"),
            ],
            "by_agent": survey_results("agent", since),
            "by_team": survey_results("team", since),
        }
        return TemplateResponse(
            request, "admin/cases/satisfactionsurvey/results.html", context
        )
