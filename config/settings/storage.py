"""Files: static files (WhiteNoise) and attachment bytes (a storage alias)."""

from __future__ import annotations

from pathlib import Path

from config.env import env_int, env_str
from config.settings.base import BASE_DIR, DEBUG, VAR_DIR

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Made at start-up if missing (config/apps.py): WhiteNoise warns on every request without it.
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
    # Attachment bytes: files under var/ by default; point BACKEND at django-storages
    # (e.g. "storages.backends.s3.S3Storage", with its own OPTIONS) in production. On
    # disk, only the app's own user can read them (0600, dirs 0700).
    "attachments": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": env_str("ATTACHMENTS_DIR", str(VAR_DIR / "attachments")),
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    },
}

ATTACHMENTS = {
    "MAX_BYTES": env_int("CHATKIT_ATTACHMENT_MAX_BYTES", 10485760),
    "QUOTA_BYTES": env_int("CHATKIT_ATTACHMENT_QUOTA_BYTES", 104857600),
    "UPLOAD_URL_TTL": env_int("CHATKIT_ATTACHMENT_UPLOAD_TTL", 900),  # seconds
    "PREVIEW_URL_TTL": env_int("CHATKIT_ATTACHMENT_PREVIEW_TTL", 86400),  # seconds
    "ORPHAN_HOURS": 24,  # created, never sent: purge_threads removes them after this
    "MODEL_TEXT_CHARS": 20000,  # text of one file the model is shown, at most
    "TRANSCRIBE_MODEL": env_str("CHATKIT_TRANSCRIBE_MODEL", "gpt-4o-mini-transcribe"),
    # Links are built on the request's host; this only when there is no request.
    "FALLBACK_BASE_URL": "http://localhost:8000/",
}
