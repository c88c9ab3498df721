"""URL map: API under /api/, ChatKit at /chatkit, the built-in page at /."""

from django.contrib import admin
from django.urls import include, path

from accounts.views import MeView
from config import views
from usage.admin import dashboard_view

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    # Before the admin's own URLs: /admin/usage/ is the usage dashboard, not the app index.
    path("admin/usage/", admin.site.admin_view(dashboard_view), name="usage-dashboard"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/me/", MeView.as_view(), name="api-me"),
    path("api/todos/", include("todos.urls")),
    path("api/attachments/", include("attachments.urls")),
    path("", include("usage.urls")),
    path("", include("chat.urls")),
]

handler400 = "config.errors.handler400"
handler403 = "config.errors.handler403"
handler404 = "config.errors.handler404"
handler500 = "config.errors.handler500"
