"""Mounted at /api/todos/."""

from django.urls import path

from todos import apis

app_name = "todos"

urlpatterns = [
    path("", apis.TodoListApi.as_view(), name="list"),
    path("stats/", apis.TodoStatsApi.as_view(), name="stats"),
    path("<int:todo_id>/", apis.TodoDetailApi.as_view(), name="detail"),
]
