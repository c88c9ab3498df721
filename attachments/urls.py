from django.urls import path

from attachments import views

urlpatterns = [
    path("<str:attachment_id>/upload", views.upload, name="attachment-upload"),
    path("<str:attachment_id>/preview", views.preview, name="attachment-preview"),
]
