"""The ChatKit endpoint and its agent: the model, limits, sessions, retention."""

from __future__ import annotations

from config.env import env_bool, env_float, env_int, env_list, env_str, env_url

# Models a client may pick (inference_options.model); the first is the default.
_CHATKIT_MODELS = env_list("CHATKIT_MODELS")
CHATKIT = {
    # A real model when a key is set (OpenAI or a compatible server); else the offline model.
    "OPENAI_API_KEY": env_str("OPENAI_API_KEY"),
    "OPENAI_BASE_URL": env_url("OPENAI_BASE_URL"),
    "MODEL": _CHATKIT_MODELS[0] if _CHATKIT_MODELS else env_str("CHATKIT_MODEL", "gpt-4.1-mini"),
    # Empty: MODEL alone (chat/inference.py).
    "MODELS": _CHATKIT_MODELS,
    # The small model that titles a thread after its first answer (chat/titles.py).
    "TITLE_MODEL": env_str("CHATKIT_TITLE_MODEL", "gpt-4.1-nano"),
    # A model silent this long is cut off with a friendly error.
    "MODEL_TIMEOUT_SECONDS": env_float("CHATKIT_MODEL_TIMEOUT_SECONDS", 60.0),
    "OFFLINE_TOKEN_DELAY_MS": env_int("CHATKIT_OFFLINE_TOKEN_DELAY_MS", 0),
    "SESSION_TTL": env_int("CHATKIT_SESSION_TTL", 600),  # client secrets, seconds
    # Open /ws/todos/ sockets re-check their access this often (seconds): a user
    # deactivated or deleted by any path (a queryset update too) is closed within it.
    "SOCKET_RECHECK_SECONDS": env_float("CHATKIT_SOCKET_RECHECK_SECONDS", 5.0),
    "RATE_LIMIT": env_str("CHATKIT_RATE_LIMIT", "30/minute"),
    "THREAD_RETENTION_DAYS": env_int("CHATKIT_THREAD_RETENTION_DAYS", 30),
    "MAX_BODY_BYTES": env_int("CHATKIT_MAX_BODY_BYTES", 1048576),
    "MAX_MESSAGE_CHARS": env_int("CHATKIT_MAX_MESSAGE_CHARS", 8000),
    # What one turn sends to the model (chat/budget.py): history is trimmed,
    # oldest first, to this many characters of model input, and each tool
    # output or context note is cut to TOOL_OUTPUT_MAX_CHARS.
    "MODEL_INPUT_BUDGET_CHARS": env_int("CHATKIT_MODEL_INPUT_BUDGET_CHARS", 60000),
    "TOOL_OUTPUT_MAX_CHARS": env_int("CHATKIT_TOOL_OUTPUT_MAX_CHARS", 8000),
    # Largest `limit` a client's threads.list / items.list may ask for; a larger
    # one is served as this many (chat/limits.py), with `has_more` to walk on.
    "MAX_PAGE_SIZE": 100,
    # Items of recent history sent to the model on each turn.
    "HISTORY_ITEMS": 30,
    # How long a second turn on a thread waits for the running one to finish before
    # it is refused as busy (chat/turns.py).
    "TURN_WAIT_SECONDS": 10.0,
    # On PostgreSQL, a turn's thread/history read and item writes use psycopg's async
    # connections instead of the ORM in a worker thread (chat/pgstore.py).
    "ASYNC_DATABASE": env_bool("CHATKIT_ASYNC_DATABASE", True),
    "DOMAIN_KEY": env_str("CHATKIT_DOMAIN_KEY", "domain_pk_localhost_dev"),
    # An SSE comment after this many seconds of silence keeps proxies from cutting
    # a turn while the model thinks (chat/heartbeat.py); 0 turns it off.
    "HEARTBEAT_SECONDS": env_float("CHATKIT_HEARTBEAT_SECONDS", 15.0),
    # The Agents SDK's tracing (chat/agent.py): unset, on with an OpenAI key; 0 off; 1 on.
    "TRACING": env_bool("CHATKIT_TRACING", False) if env_str("CHATKIT_TRACING") else None,
    # Model inputs and outputs (the user's todos) in traces: off unless asked for.
    "TRACE_SENSITIVE_DATA": env_bool("CHATKIT_TRACE_SENSITIVE_DATA", False),
    # A client that disconnects stops its turn (the SDK's behaviour); by default a
    # turn runs to its end in a task of the worker (runs/registry.py).
    "STOP_ON_DISCONNECT": env_bool("CHATKIT_STOP_ON_DISCONNECT", False),
}

# The ChatKit web component's script; the built-in page falls back to its own
# client when it cannot load (offline, blocked). Tests point it at a stub.
CHATKIT_JS_URL = env_url(
    "CHATKIT_JS_URL", "https://cdn.platform.openai.com/deployments/chatkit/chatkit.js"
)
