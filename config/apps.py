"""The project's own app: start-up steps that need settings but not a server."""

from __future__ import annotations

from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


def make_local_dirs() -> None:
    """The directories local state lives in: SQLite's file (and the test database's),
    and STATIC_ROOT, which WhiteNoise warns about on every request when missing."""
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        for name in (database["NAME"], database.get("TEST", {}).get("NAME")):
            if name and str(name) != ":memory:" and not str(name).startswith("file:"):
                Path(name).parent.mkdir(parents=True, exist_ok=True)
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


class ProjectConfig(AppConfig):
    name = "config"
    label = "project"
    verbose_name = "Project"

    def ready(self) -> None:
        make_local_dirs()
