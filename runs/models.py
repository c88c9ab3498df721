"""A running turn's lease: proof that its worker is alive, renewed every few seconds."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class RunLease(models.Model):
    """One row per run that outlived its first second; gone when the run ends. A row
    whose `expires_at` has passed belongs to a worker that died mid-run."""

    thread_id = models.CharField(primary_key=True, max_length=80)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="run_leases"
    )
    started_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["expires_at"]
        indexes = [models.Index(fields=["expires_at"], name="runs_lease_expires")]

    def __str__(self) -> str:
        return f"run of {self.thread_id} until {self.expires_at:%H:%M:%S}"
