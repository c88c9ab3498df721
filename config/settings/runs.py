"""Runs (runs/): chat turns that outlive their connection."""

from __future__ import annotations

from config.env import env_float, env_int

RUNS = {
    # Chunks a running turn keeps for a late listener (a re-attach); past it the
    # oldest go, so a run's memory is bounded.
    "MAX_EVENTS": env_int("RUNS_MAX_EVENTS", 4000),
    # Re-attach streams (GET …/events) one user may hold open on one worker (one more
    # is 429), and copies of one run a worker keeps for other workers (past it, the
    # oldest ends): a user cannot make a worker hold or copy without bound.
    "MAX_LISTENERS": env_int("RUNS_MAX_LISTENERS", 5),
    # A run past its first second holds a lease of LEASE_SECONDS, renewed every
    # RENEW_SECONDS; every worker finishes lapsed ones (its worker died) every
    # SWEEP_SECONDS, and runs that died younger (chat/recovery.py), so an interrupted
    # turn is marked within about 35 s.
    "LEASE_SECONDS": env_float("RUNS_LEASE_SECONDS", 20.0),
    "RENEW_SECONDS": env_float("RUNS_RENEW_SECONDS", 5.0),
    "SWEEP_SECONDS": env_float("RUNS_SWEEP_SECONDS", 15.0),
}
