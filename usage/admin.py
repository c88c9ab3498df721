"""Usage in the admin: every turn's row (read-only) and the staff dashboard at /admin/usage/."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from accounts.models import User
from usage import selectors
from usage.charts import bar_chart
from usage.models import TurnUsage

DEFAULT_DAYS = 30
MAX_DAYS = 366


@admin.register(TurnUsage)
class TurnUsageAdmin(admin.ModelAdmin):
    """Every turn's usage, for searching; written by turns, never edited."""

    list_display = (
        "created_at",
        "user",
        "thread_id",
        "model",
        "outcome",
        "error_kind",
        "input_tokens",
        "output_tokens",
        "cost",
        "first_token_ms",
        "total_ms",
    )
    list_filter = ("outcome", "model", "estimated", "created_at")
    search_fields = ("thread_id", "user__email", "model", "error_kind")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    show_full_result_count = False  # no COUNT(*) over a million rows per page

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def turn_usage_table(turns: list[TurnUsage]) -> SafeString:
    """A thread's turns as a small table (the thread's admin page)."""
    if not turns:
        return format_html("{}", "No turns recorded.")
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                timezone.localtime(turn.created_at).strftime("%Y-%m-%d %H:%M:%S"),
                turn.model,
                turn.outcome,
                f" ({turn.error_kind})" if turn.error_kind else "",
                f"{turn.input_tokens:,} / {turn.output_tokens:,}"
                + (" (est.)" if turn.estimated else ""),
                "" if turn.cost is None else f"{turn.cost:.6f}",
                "" if turn.first_token_ms is None else f"{turn.first_token_ms:,} ms",
                f"{turn.total_ms:,} ms",
            )
            for turn in turns
        ),
    )
    return format_html(
        '<table data-testid="thread-usage"><thead><tr><th>When (UTC)</th><th>Model</th>'
        "<th>Outcome</th><th>Tokens in / out</th><th>Cost (USD)</th><th>First token</th>"
        "<th>Total</th></tr></thead><tbody>{}</tbody></table>",
        rows,
    )


class DashboardFilters(forms.Form):
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    user = forms.CharField(required=False, label="User (email or id)")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        today = timezone.now().astimezone(datetime.UTC).date()
        end = data.get("end") or today
        start = data.get("start") or end - datetime.timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise forms.ValidationError("The start must not be after the end.")
        if (end - start).days >= MAX_DAYS:
            raise forms.ValidationError(f"Pick at most {MAX_DAYS} days.")
        data["start"], data["end"] = start, end
        data["user_id"] = self._user_id(data.get("user") or "")
        return data

    def _user_id(self, text: str) -> int | None:
        text = text.strip()
        if not text:
            return None
        users = (
            User.objects.filter(pk=int(text))
            if text.isascii() and text.isdigit()  # "²" is a digit to isdigit, not to int
            else User.objects.filter(email__iexact=text)
        )
        found = users.values_list("pk", flat=True).first()
        if found is None:
            raise forms.ValidationError("No such user.")
        return found


def _series(days: list[selectors.Day], field: str) -> list[tuple[str, float | None]]:
    """(day label, value) for a chart; None where a day has no value (no p95)."""
    points = []
    for day in days:
        value = getattr(day, field)
        points.append((day.day.strftime("%b %d"), None if value is None else float(value)))
    return points


def _money(value: float) -> str:
    return f"${value:,.4f}" if value < 1 else f"${value:,.2f}"


def dashboard_view(request: HttpRequest) -> HttpResponse:
    """Turns, tokens, cost, first-token p95 and errors per day, and who and what cost most."""
    form = DashboardFilters(request.GET or None)
    if request.GET and not form.is_valid():
        filters = None
    else:
        if not request.GET:
            form = DashboardFilters({})
            form.is_valid()
        filters = form.cleaned_data
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": "Usage",
        "form": form,
    }
    if filters is not None:
        scope = {"start": filters["start"], "end": filters["end"], "user_id": filters["user_id"]}
        days = selectors.usage_by_day(**scope)
        context.update(
            days=days,
            totals={
                "turns": sum(day.turns for day in days),
                "tokens": sum(day.tokens for day in days),
                "cost": sum((day.cost for day in days), Decimal(0)),
                "errors": sum(day.errors for day in days),
            },
            charts=[
                ("Turns", bar_chart(_series(days, "turns"), title="Turns per day")),
                ("Tokens", bar_chart(_series(days, "tokens"), title="Tokens per day")),
                ("Cost", bar_chart(_series(days, "cost"), title="Cost per day (USD)", fmt=_money)),
                (
                    "First token p95",
                    bar_chart(
                        _series(days, "p95_first_token_ms"),
                        title="First token p95 per day (ms)",
                        fmt=lambda ms: f"{ms:,.0f} ms",
                    ),
                ),
                ("Errors", bar_chart(_series(days, "errors"), title="Failed turns per day")),
            ],
            top_users=selectors.top_users(**scope),
            top_threads=selectors.top_threads(**scope),
        )
    return TemplateResponse(request, "admin/usage/dashboard.html", context)
