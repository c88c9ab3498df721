"""Account APIs: `GET /api/me/` lets a frontend check its token."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User


class MeSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ("id", "email", "name", "better_auth_id")
        read_only_fields = fields


class MeView(APIView):
    """The caller's own account (Better Auth JWT or session; 401 otherwise)."""

    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)
