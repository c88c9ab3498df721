"""Our agent's identity signature in the Agents SDK, computed once instead of twice a run.

openai-agents 0.24 builds an "agent identity map" on every run, twice (the tool-use
snapshot of a streamed result, and the sandbox runtime's resume keys, even with no
sandbox). Each build serialises the whole agent to canonical JSON: its model settings
and every tool, 0.4-0.5 ms for our agent with nine tools, about a tenth of the CPU of a
whole turn (`bench.profile_turn`). The signature depends only on the agent's
configuration, and ours is built once (`chat.agent.build_agent`) and never changed, so
it is computed once here and handed back for that one agent object; every other agent
goes through the SDK's own function. No public hook exists for this, so this wraps one
private function of the SDK; `test_agent_identity.py` checks that the SDK still has it
and that the identity map it builds is unchanged. Without it (another SDK version),
runs just pay the full cost again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from agents import Agent
from agents import _run_state_agent_identity as sdk_identity

logger = logging.getLogger(__name__)

_SDK_SIGNATURE: Callable[[Agent[Any]], str] | None = getattr(
    sdk_identity, "_agent_identity_signature", None
)
# id(agent) -> (agent, signature); the agent is held so its id is never reused.
_frozen: dict[int, tuple[Agent[Any], str]] = {}


def _signature(agent: Agent[Any]) -> str:
    known = _frozen.get(id(agent))
    if known is not None and known[0] is agent:
        return known[1]
    assert _SDK_SIGNATURE is not None
    return _SDK_SIGNATURE(agent)


def freeze_identity(agent: Agent[Any]) -> None:
    """Compute `agent`'s signature now and reuse it for every later run.

    Only for an agent that is never modified after this call. Without the SDK function
    this relies on, nothing is changed."""
    if _SDK_SIGNATURE is None:
        logger.info("Agents SDK without _agent_identity_signature: identity not cached")
        return
    _frozen[id(agent)] = (agent, _SDK_SIGNATURE(agent))
    sdk_identity._agent_identity_signature = _signature  # type: ignore[attr-defined]
