"""A user message's `inference_options`: the model it picks and the composer tool
it forces (ChatKit's `composer.models` and `composer.tools`).

Checked before any stream (`400 bad_request`): the model must be one of
CHATKIT_MODELS (CHATKIT_MODEL alone when unset), the tool one of COMPOSER_TOOLS.
For a turn, `model_settings` forces the tool on the first model call (the Agents
SDK resets `tool_choice` once a tool ran, so the answer after it is free), for a
real model and the offline one alike.
"""

from __future__ import annotations

from agents import ModelSettings
from chatkit.types import ChatKitReq, InferenceOptions, UserMessageInput
from django.conf import settings

from config.exceptions import BadRequest

# The tools a composer may force: the whole message is their input.
COMPOSER_TOOLS = ("add_todo", "search_todos")


def allowed_models() -> list[str]:
    """CHATKIT_MODELS, or CHATKIT_MODEL alone; the first is the default."""
    config = settings.CHATKIT
    return list(config.get("MODELS") or []) or [config["MODEL"]]


def check_inference_options(request: ChatKitReq) -> None:
    """BadRequest for a model or composer tool the server doesn't offer."""
    message = getattr(request.params, "input", None)
    if not isinstance(message, UserMessageInput) or message.inference_options is None:
        return
    options = message.inference_options
    if options.model is not None and options.model not in allowed_models():
        raise BadRequest(f"Model {options.model!r} is not offered; choose one of CHATKIT_MODELS.")
    if options.tool_choice is not None and options.tool_choice.id not in COMPOSER_TOOLS:
        raise BadRequest(
            f"Tool {options.tool_choice.id!r} is not a composer tool ({', '.join(COMPOSER_TOOLS)})."
        )


def chosen_model(options: InferenceOptions | None) -> str | None:
    """The model a message picked, when it isn't the default."""
    if options is None or options.model is None or options.model == settings.CHATKIT["MODEL"]:
        return None
    return options.model if options.model in allowed_models() else None


def model_settings(options: InferenceOptions | None) -> ModelSettings | None:
    """The run's model settings: the forced composer tool, if any."""
    if options is None or options.tool_choice is None:
        return None
    if options.tool_choice.id not in COMPOSER_TOOLS:
        return None
    return ModelSettings(tool_choice=options.tool_choice.id)
