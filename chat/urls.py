from django.urls import path

from chat import pages, run_views, views

urlpatterns = [
    path("", pages.index, name="index"),
    path("chatkit", views.chatkit_endpoint, name="chatkit"),
    path("api/chatkit/usage", views.usage_endpoint, name="chatkit-usage"),
    path("api/chatkit/entities", views.entities_endpoint, name="chatkit-entities"),
    path(
        "api/chatkit/entities/<int:todo_id>/preview",
        views.entity_preview_endpoint,
        name="chatkit-entity-preview",
    ),
    path("api/chatkit/session", views.ChatKitSessionView.as_view(), name="chatkit-session"),
    path("api/chatkit/threads/<str:thread_id>/stop", run_views.stop_view, name="chatkit-stop"),
    path(
        "api/chatkit/threads/<str:thread_id>/events", run_views.events_view, name="chatkit-events"
    ),
]
