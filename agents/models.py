from datetime import time
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class Team(models.Model):
    """A group of agents that works one queue of cases."""

    class AssignmentMode(models.TextChoices):
        MANUAL = "manual", "Manual"
        ROUND_ROBIN = "round_robin", "Round robin"
        LEAST_LOADED = "least_loaded", "Least loaded"

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=50, unique=True)
    # Cases opened from the public refund form go to the team with this flag.
    handles_refunds = models.BooleanField(default=False)
    assignment_mode = models.CharField(
        max_length=20, choices=AssignmentMode, default=AssignmentMode.MANUAL
    )
    max_open_cases_per_agent = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Maximum open cases an agent of this team is assigned "
        "automatically. Empty means no cap.",
    )
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        help_text="IANA time zone of the team's business hours, such as "
        "Europe/Paris. Empty means the shop's time zone.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["handles_refunds"],
                condition=Q(handles_refunds=True),
                name="agents_team_one_refunds_team",
                violation_error_message="Only one team can handle refunds.",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Agent(models.Model):
    """The support profile of a Django user who works cases."""

    class Status(models.TextChoices):
        AVAILABLE = "available", "Available"
        AWAY = "away", "Away"
        OFFLINE = "offline", "Offline"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent"
    )
    display_name = models.CharField(max_length=100)
    is_supervisor = models.BooleanField(
        default=False,
        help_text="Supervisors approve refunds above an agent's limit and use "
        "the admin site.",
    )
    approval_limit = models.DecimalField(
        max_digits=12,
        decimal_places=3,
        default=Decimal("100"),
        help_text="Largest refund, in the shop currency, that this agent may "
        "approve alone.",
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.OFFLINE)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    teams = models.ManyToManyField(Team, through="Membership", related_name="agents")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name


class Membership(models.Model):
    """An agent's place in a team."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    agent = models.ForeignKey(
        Agent, on_delete=models.CASCADE, related_name="memberships"
    )
    joined_at = models.DateTimeField(auto_now_add=True)
    # When the team's automatic assignment last gave this agent a case; round
    # robin picks the available member who waited longest.
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["team", "agent"], name="agents_membership_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.agent} in {self.team}"


class BusinessHours(models.Model):
    """One period of a weekday during which a team's SLA clock runs.

    Times are in the team's time zone. A day may have several periods, such
    as a morning and an afternoon. A team without any periods works around
    the clock.
    """

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="business_hours"
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday)
    opens_at = models.TimeField()
    closes_at = models.TimeField(
        help_text="00:00 means midnight at the end of the day."
    )

    class Meta:
        ordering = ["team", "weekday", "opens_at"]
        verbose_name_plural = "business hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("opens_at")) | Q(closes_at=time(0)),
                name="agents_hours_close_after_open",
                violation_error_message="The closing time must be after the "
                "opening time.",
            )
        ]

    def __str__(self) -> str:
        closes = "24:00" if self.closes_at == time(0) else f"{self.closes_at:%H:%M}"
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}-{closes}"


class Holiday(models.Model):
    """A day on which a team's SLA clock does not run."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["team", "date"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "date"], name="agents_holiday_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}".strip()
