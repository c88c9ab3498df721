"""Runs (runs/): chat turns that outlive their connection."""

from __future__ import annotations

from config.env import env_int

RUNS = {
    # Chunks a running turn keeps for a late listener (a re-attach); past it the
    # oldest go, so a run's memory is bounded.
    "MAX_EVENTS": env_int("RUNS_MAX_EVENTS", 4000),
}
