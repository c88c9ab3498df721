"""ASGI entry point: HTTP goes to Django, websockets to Channels consumers."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import OriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from chat.routing import websocket_urlpatterns  # noqa: E402
from chat.server import warm_up  # noqa: E402
from chat.ws_auth import WebsocketAuthMiddleware  # noqa: E402

warm_up()

# Browsers on our own hosts and on the frontends allowed by CORS may open sockets.
websocket_origins = [*settings.ALLOWED_HOSTS, *settings.CORS_ALLOWED_ORIGINS]

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": OriginValidator(
            WebsocketAuthMiddleware(URLRouter(websocket_urlpatterns)), websocket_origins
        ),
    }
)
