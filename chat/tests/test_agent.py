"""The agent and model factories: lazy, configured from settings, rebuilt on change."""

from __future__ import annotations

from agents import OpenAIResponsesModel

from chat.agent import build_agent, get_model, get_openai_client, get_run_config
from chat.offline_model import OfflineModel
from chat.server import TodoChatKitServer, get_server
from chat.store import DjangoStore

TODO_TOOLS = {
    "add_todo",
    "get_local_date",
    "show_todos",
    "list_todos",
    "search_todos",
    "complete_todo",
    "reopen_todo",
    "update_todo",
    "delete_todo",
}


def test_the_agent_has_the_todo_tools():
    agent = build_agent()

    assert {tool.name for tool in agent.tools} == TODO_TOOLS
    assert "todo" in agent.instructions
    # Tool arguments are described to the model from the docstrings.
    add = next(tool for tool in agent.tools if tool.name == "add_todo")
    assert set(add.params_json_schema["properties"]) == {
        "title",
        "description",
        "priority",
        "due_date",
    }
    assert "YYYY-MM-DD" in add.params_json_schema["properties"]["due_date"]["description"]


def test_without_a_key_the_offline_model_runs(settings):
    settings.CHATKIT = {**settings.CHATKIT, "OPENAI_API_KEY": None}

    assert isinstance(get_model(), OfflineModel)
    assert get_model() is get_model()


def test_with_a_key_the_responses_model_uses_the_configured_client(settings):
    settings.CHATKIT = {
        **settings.CHATKIT,
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
        "MODEL": "gpt-test-mini",
        "MODEL_TIMEOUT_SECONDS": 12.5,
    }

    model = get_model()
    client = get_openai_client()

    assert isinstance(model, OpenAIResponsesModel)
    assert model.model == "gpt-test-mini"
    assert (client.api_key, str(client.base_url)) == ("sk-test", "http://127.0.0.1:9/v1/")
    assert (client.timeout, client.max_retries) == (12.5, 1)


def test_models_are_rebuilt_when_settings_change(settings):
    settings.CHATKIT = {**settings.CHATKIT, "OPENAI_API_KEY": "sk-one"}
    first = get_model()

    settings.CHATKIT = {**settings.CHATKIT, "OPENAI_API_KEY": "sk-two"}

    assert get_model() is not first
    assert get_openai_client().api_key == "sk-two"


def test_runs_send_no_traces_and_use_the_configured_model(settings):
    settings.CHATKIT = {**settings.CHATKIT, "OPENAI_API_KEY": None}
    config = get_run_config()

    assert config.tracing_disabled is True
    assert config.trace_include_sensitive_data is False
    assert config.model is get_model()
    scripted = OfflineModel(token_delay_ms=0)
    assert get_run_config(scripted).model is scripted


def test_the_server_is_built_once_per_configuration(settings):
    server = get_server()

    assert isinstance(server, TodoChatKitServer)
    assert isinstance(server.store, DjangoStore)
    assert get_server() is server
    settings.CHATKIT = {**settings.CHATKIT, "HISTORY_ITEMS": 5}
    assert get_server() is not server
