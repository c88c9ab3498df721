"""What a server process checks when it loads the app (config/asgi.py)."""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import ImproperlyConfigured

from accounts.checks import debug_with_real_better_auth
from config.body_limit import install_daphne_body_guard
from config.logredact import install_access_log_redaction

logger = logging.getLogger(__name__)


def check_static_collected() -> None:
    """Production serves hashed files from STATIC_ROOT: refuse to start without them
    (every page would otherwise answer 500)."""
    if settings.DEBUG:
        return
    manifest = getattr(staticfiles_storage, "manifest_name", None)
    if manifest is None:
        return
    path = Path(settings.STATIC_ROOT) / manifest
    if not path.is_file():
        raise ImproperlyConfigured(
            f"Static files are not collected ({path} is missing). "
            "Run `python manage.py collectstatic --noinput` before starting the server "
            "(scripts/prod-start.sh does)."
        )


def check_start_up() -> None:
    # The logging filters always; daphne's classes are patched only with the shortcuts on
    # (CHATKIT_FAST_PATHS=0: the ASGI body guard and `python -m config.daphne` hold alone).
    install_access_log_redaction(patch_daphne=settings.CHATKIT_FAST_PATHS)
    if settings.CHATKIT_FAST_PATHS:
        install_daphne_body_guard()
    check_static_collected()
    for warning in debug_with_real_better_auth():
        logger.warning("%s %s", warning.msg, warning.hint)
