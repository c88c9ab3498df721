"""Our agent's SDK identity signature: computed once, the same as the SDK's own."""

from __future__ import annotations

from agents import _run_state_agent_identity as sdk_identity
from agents.run_internal.tool_use_tracker import AgentToolUseTracker, serialize_tool_use_tracker

from chat import agent_identity
from chat.agent import build_agent


def test_the_sdk_still_has_the_function_we_cache():
    # A failure here means a new openai-agents: check chat/agent_identity.py still applies.
    assert agent_identity._SDK_SIGNATURE is not None
    assert build_agent() is build_agent()
    assert sdk_identity._agent_identity_signature is agent_identity._signature


def test_our_agents_signature_is_the_sdks_and_is_computed_once():
    agent = build_agent()

    first = sdk_identity._agent_identity_signature(agent)

    assert first == agent_identity._SDK_SIGNATURE(agent)
    assert sdk_identity._agent_identity_signature(agent) is first  # not rebuilt


def test_other_agents_get_the_sdks_own_signature_every_time():
    other = build_agent().clone(name="Another assistant", tools=[])

    first = sdk_identity._agent_identity_signature(other)

    assert first == agent_identity._SDK_SIGNATURE(other)
    assert sdk_identity._agent_identity_signature(other) is not first  # computed afresh
    assert first != sdk_identity._agent_identity_signature(build_agent())


def test_the_identity_map_and_tool_snapshot_are_unchanged():
    agent = build_agent()
    tracker = AgentToolUseTracker()
    tracker.add_tool_use(agent, ["list_todos"])

    assert sdk_identity._build_agent_identity_map(agent) == {"Todo assistant": agent}
    assert serialize_tool_use_tracker(tracker, starting_agent=agent) == {
        "Todo assistant": ["list_todos"]
    }
