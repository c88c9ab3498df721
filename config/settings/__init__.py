"""Django settings (`DJANGO_SETTINGS_MODULE=config.settings`), one module per concern.

Each module reads its environment variables through config/env.py; docs/configuration.md
lists every one with its default. The order below is the order they depend on each other:
`production` comes last and refuses to start a misconfigured server.
"""

# isort: skip_file

from config.settings.base import *  # noqa: F403
from config.settings.database import *  # noqa: F403
from config.settings.channels import *  # noqa: F403
from config.settings.auth import *  # noqa: F403
from config.settings.chatkit import *  # noqa: F403
from config.settings.runs import *  # noqa: F403
from config.settings.usage import *  # noqa: F403
from config.settings.storage import *  # noqa: F403
from config.settings.security import *  # noqa: F403
from config.settings.logs import *  # noqa: F403
from config.settings.production import *  # noqa: F403
