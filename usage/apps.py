from django.apps import AppConfig


class UsageConfig(AppConfig):
    """Usage and cost per turn, daily token budgets, metrics."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "usage"
