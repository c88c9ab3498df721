from django.urls import path

from usage import views

urlpatterns = [
    path("metrics", views.metrics_view, name="metrics"),
]
