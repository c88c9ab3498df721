from django.urls import path, register_converter

from chat import pages, read_views, run_views, views


class ThreadIdConverter:
    """A path segment without NUL: PostgreSQL refuses a NUL in a query (a 500), and no
    thread id holds one, so such a path is simply not found."""

    regex = "[^/\x00]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ThreadIdConverter, "tid")

urlpatterns = [
    path("", pages.index, name="index"),
    path("chatkit", views.chatkit_endpoint, name="chatkit"),
    path("api/chatkit/usage", read_views.usage_endpoint, name="chatkit-usage"),
    path("api/chatkit/entities", read_views.entities_endpoint, name="chatkit-entities"),
    path(
        "api/chatkit/entities/<int:todo_id>/preview",
        read_views.entity_preview_endpoint,
        name="chatkit-entity-preview",
    ),
    path("api/chatkit/session", views.ChatKitSessionView.as_view(), name="chatkit-session"),
    path("api/chatkit/threads/<tid:thread_id>/stop", run_views.stop_view, name="chatkit-stop"),
    path(
        "api/chatkit/threads/<tid:thread_id>/events", run_views.events_view, name="chatkit-events"
    ),
]
