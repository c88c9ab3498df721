"""The built-in page: the user's todos beside a chat with the assistant."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie

from attachments.client import client_config as attachments_client_config


@login_required
@ensure_csrf_cookie  # the page's scripts send the token on /api/ writes
def index(request: HttpRequest) -> HttpResponse:
    """`/`: todos on one side, the ChatKit component (or our fallback client) on the other."""
    config = {
        "chatkitUrl": reverse("chatkit"),
        "sessionUrl": reverse("chatkit-session"),
        "todosUrl": "/api/todos/",
        "websocketPath": "/ws/todos/",
        "domainKey": settings.CHATKIT["DOMAIN_KEY"],
        "chatkitScriptUrl": settings.CHATKIT_JS_URL,
        "attachments": attachments_client_config(),
    }
    return render(request, "chat/index.html", {"page_config": config})
