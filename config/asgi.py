"""ASGI entry point: HTTP goes to Django (behind the body-size guard), websockets
to Channels consumers (behind exact origin matching and authentication); the worker's
sweep for dead turns starts with it (ASGI lifespan, else its first request)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Django must be set up before anything imports models (get_asgi_application's setup).
django.setup(set_prefix=False)

from django.conf import settings  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402

from config.fastpath import ChatKitASGIHandler  # noqa: E402

# CHATKIT_FAST_PATHS=0: Django's own handler (a thread per request, /chatkit included).
django_asgi_app = ChatKitASGIHandler() if settings.CHATKIT_FAST_PATHS else ASGIHandler()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from accounts.ws_auth import WebsocketAuthMiddleware  # noqa: E402
from chat.recovery import start_sweeping  # noqa: E402
from chat.server import warm_up  # noqa: E402
from config.body_limit import BodyLimitMiddleware  # noqa: E402
from config.lifespan import StartWithWorker  # noqa: E402
from config.logcontext import RequestIdMiddleware  # noqa: E402
from config.proxy import TrustedProxyMiddleware  # noqa: E402
from config.routing import websocket_urlpatterns  # noqa: E402
from config.startup import check_start_up  # noqa: E402

check_start_up()
warm_up()

# The worker's sweep for turns whose worker died starts with it (config/lifespan.py);
# a request id for every request's log lines (config/logcontext.py), then the client's
# address (X-Forwarded-For from TRUSTED_PROXIES only), for everything.
application = StartWithWorker(
    RequestIdMiddleware(
        TrustedProxyMiddleware(
            ProtocolTypeRouter(
                {
                    "http": BodyLimitMiddleware(django_asgi_app),
                    "websocket": WebsocketAuthMiddleware(URLRouter(websocket_urlpatterns)),
                }
            )
        )
    ),
    on_start=start_sweeping,
)
