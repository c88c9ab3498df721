from django.apps import AppConfig


class AttachmentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "attachments"

    def ready(self) -> None:
        from attachments import signals  # noqa: F401 - bytes go with their row
