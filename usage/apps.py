from django.apps import AppConfig


class UsageConfig(AppConfig):
    """Usage and cost per turn, daily token budgets, metrics."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "usage"

    def ready(self) -> None:
        from config import pgpool
        from usage.metrics import DB_POOL_WAIT

        pgpool.on_wait = DB_POOL_WAIT.observe
