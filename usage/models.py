"""One row per model turn: who, which thread and model, tokens, timing, outcome, cost."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Outcome(models.TextChoices):
    ANSWERED = "answered", "answered"
    STOPPED = "stopped", "stopped"
    FAILED = "failed", "failed"
    REFUSED = "refused", "refused"
    INTERRUPTED = "interrupted", "interrupted"


class TurnUsageQuerySet(models.QuerySet["TurnUsage"]):
    def for_user(self, user: settings.AUTH_USER_MODEL) -> TurnUsageQuerySet:
        return self.filter(user=user)


class TurnUsage(models.Model):
    """A turn's usage, written once when it ends; its cost is priced then and kept."""

    # Kept when the user is deleted: what was spent stays spent.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="turn_usages",
    )
    # A ChatKit thread id (no foreign key: usage outlives a purged thread).
    thread_id = models.CharField(max_length=100, blank=True)
    model = models.CharField(max_length=100)
    requests = models.PositiveIntegerField(default=0)
    input_tokens = models.PositiveIntegerField(default=0)
    cached_input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    reasoning_tokens = models.PositiveIntegerField(default=0)
    # The offline model's tokens are estimates (characters / 4).
    estimated = models.BooleanField(default=False)
    tool_calls = models.PositiveIntegerField(default=0)
    first_token_ms = models.PositiveIntegerField(null=True, blank=True)
    total_ms = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    # For a failed turn, what failed (timeout, rate_limit, ...); for a refused one, which limit.
    error_kind = models.CharField(max_length=50, blank=True)
    # In US dollars, from the price table when the turn ended; null when its model has no price.
    cost = models.DecimalField(max_digits=14, decimal_places=8, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TurnUsageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Covering (PostgreSQL): the dashboard's aggregates over a date range read
            # the index alone, not a million rows of the table.
            models.Index(
                fields=["created_at"],
                include=[
                    "user_id",
                    "thread_id",
                    "outcome",
                    "input_tokens",
                    "output_tokens",
                    "cost",
                    "first_token_ms",
                ],
                name="usage_turn_created_idx",
            ),
            models.Index(fields=["user", "created_at"], name="usage_turn_user_created_idx"),
            models.Index(fields=["thread_id", "created_at"], name="usage_turn_thread_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.model} turn ({self.outcome}) at {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens
