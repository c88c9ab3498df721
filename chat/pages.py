"""The built-in page: the user's todos beside a chat with the assistant."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie

from attachments.client import client_config as attachments_client_config
from chat.inference import allowed_models

# First steps that work for the demo user as typed, in this order: the title is
# one seed_demo doesn't hold, so "complete"/"delete" find exactly one todo.
HINTS = ["add water the plants", "list", "complete water the plants", "delete water the plants"]

# The page's modules, in load order (no build step; each one adds to window.TodoChat).
SCRIPTS = [
    "js/dom.js",
    "js/api.js",
    "js/session.js",
    "js/markdown.js",
    "js/widgets.js",
    "js/chatkit-api.js",
    "js/threads.js",
    "js/chatkit-options.js",
    "js/chat-events.js",
    "js/thread-follow.js",
    "js/chat-thread.js",
    "js/chat-items.js",
    "js/chat-turns.js",
    "js/chat.js",
    "js/attachments.js",
    "js/todo-row.js",
    "js/todo-edit.js",
    "js/todos.js",
    "js/live.js",
    "js/layout.js",
    "js/app.js",
]


@login_required
@ensure_csrf_cookie  # the page's scripts send the token on /api/ writes
def index(request: HttpRequest) -> HttpResponse:
    """`/`: todos on one side, the ChatKit component (or our fallback client) on the other."""
    config = {
        "userId": request.user.pk,
        "chatkitUrl": reverse("chatkit"),
        "sessionUrl": reverse("chatkit-session"),
        "todosUrl": "/api/todos/",
        "entitiesUrl": "/api/chatkit/entities",
        # CHATKIT_MODELS as ChatKit's composer.models (the page shows a picker for 2+).
        "models": [
            {"id": model, "label": model, "default": index == 0}
            for index, model in enumerate(allowed_models())
        ],
        "todoStatsUrl": "/api/todos/stats/",
        "websocketPath": "/ws/todos/",
        "loginUrl": reverse("login"),
        "domainKey": settings.CHATKIT["DOMAIN_KEY"],
        "chatkitScriptUrl": settings.CHATKIT_JS_URL,
        "hints": HINTS,
        "attachments": attachments_client_config(),
    }
    return render(request, "chat/index.html", {"page_config": config, "scripts": SCRIPTS})
