"""Test helpers that speak ChatKit's wire protocol, built from chatkit's own types."""

from __future__ import annotations

import json
from collections.abc import AsyncIterable
from typing import Any

from chatkit.actions import Action
from chatkit.types import (
    FeedbackKind,
    InferenceOptions,
    ItemFeedbackParams,
    ItemsFeedbackReq,
    ItemsListParams,
    ItemsListReq,
    StructuredInputAnswerSubmission,
    StructuredInputSubmission,
    ThreadAddClientToolOutputParams,
    ThreadAddStructuredInputParams,
    ThreadAddUserMessageParams,
    ThreadCreateParams,
    ThreadCustomActionParams,
    ThreadDeleteParams,
    ThreadGetByIdParams,
    ThreadListParams,
    ThreadRetryAfterItemParams,
    ThreadsAddClientToolOutputReq,
    ThreadsAddStructuredInputReq,
    ThreadsAddUserMessageReq,
    ThreadsCreateReq,
    ThreadsCustomActionReq,
    ThreadsDeleteReq,
    ThreadsGetByIdReq,
    ThreadsListReq,
    ThreadsRetryAfterItemReq,
    ThreadsSyncCustomActionReq,
    ThreadStreamEvent,
    ThreadsUpdateReq,
    ThreadUpdateParams,
    UserMessageInput,
    UserMessageTagContent,
    UserMessageTextContent,
    WidgetItem,
)
from pydantic import BaseModel, TypeAdapter

_EVENT = TypeAdapter[ThreadStreamEvent](ThreadStreamEvent)


def _dump(request: BaseModel) -> bytes:
    return request.model_dump_json(by_alias=True, exclude_none=True).encode()


def user_input(text: str) -> UserMessageInput:
    return UserMessageInput(
        content=[UserMessageTextContent(text=text)],
        attachments=[],
        inference_options=InferenceOptions(),
    )


def tag(text: str, data: dict[str, Any], tag_id: str = "tag_1") -> UserMessageTagContent:
    """A ChatKit entity tag (`input_tag`), as the composer sends one."""
    return UserMessageTagContent(id=tag_id, text=text, data=data, interactive=True)


def user_input_parts(content: str | list[Any]) -> UserMessageInput:
    if isinstance(content, str):
        return user_input(content)
    parts = [UserMessageTextContent(text=p) if isinstance(p, str) else p for p in content]
    return UserMessageInput(content=parts, attachments=[], inference_options=InferenceOptions())


def create_thread(text: str | list[Any]) -> bytes:
    """threads.create; `text` may be a list of strings and tags."""
    return _dump(ThreadsCreateReq(params=ThreadCreateParams(input=user_input_parts(text))))


def add_message(thread_id: str, text: str | list[Any]) -> bytes:
    """threads.add_user_message; `text` may be a list of strings and tags."""
    return _dump(
        ThreadsAddUserMessageReq(
            params=ThreadAddUserMessageParams(thread_id=thread_id, input=user_input_parts(text))
        )
    )


def custom_action(
    thread_id: str, item_id: str | None, action_type: str, payload: Any = None, *, sync=False
) -> bytes:
    params = ThreadCustomActionParams(
        thread_id=thread_id, item_id=item_id, action=Action(type=action_type, payload=payload)
    )
    request = ThreadsSyncCustomActionReq if sync else ThreadsCustomActionReq
    return _dump(request(params=params))


def retry_after(thread_id: str, item_id: str) -> bytes:
    params = ThreadRetryAfterItemParams(thread_id=thread_id, item_id=item_id)
    return _dump(ThreadsRetryAfterItemReq(params=params))


def client_tool_output(thread_id: str, result: Any) -> bytes:
    """threads.add_client_tool_output: the client's answer to a pending tool call."""
    params = ThreadAddClientToolOutputParams(thread_id=thread_id, result=result)
    return _dump(ThreadsAddClientToolOutputReq(params=params))


def structured_input(thread_id: str, item_id: str, answers: dict[str, list[str]]) -> bytes:
    """threads.add_structured_input: `answers` maps each input's id to its values."""
    submission = StructuredInputSubmission(
        answers={key: StructuredInputAnswerSubmission(values=v) for key, v in answers.items()}
    )
    params = ThreadAddStructuredInputParams(thread_id=thread_id, item_id=item_id, input=submission)
    return _dump(ThreadsAddStructuredInputReq(params=params))


def feedback(thread_id: str, item_ids: list[str], kind: FeedbackKind) -> bytes:
    params = ItemFeedbackParams(thread_id=thread_id, item_ids=item_ids, kind=kind)
    return _dump(ItemsFeedbackReq(params=params))


def list_threads(limit: int = 20, order: str = "desc", after: str | None = None) -> bytes:
    return _dump(ThreadsListReq(params=ThreadListParams(limit=limit, order=order, after=after)))


def list_items(thread_id: str, limit: int = 20, order: str = "asc", after: str | None = None):
    params = ItemsListParams(thread_id=thread_id, limit=limit, order=order, after=after)
    return _dump(ItemsListReq(params=params))


def get_thread(thread_id: str) -> bytes:
    return _dump(ThreadsGetByIdReq(params=ThreadGetByIdParams(thread_id=thread_id)))


def update_thread(thread_id: str, title: str) -> bytes:
    return _dump(ThreadsUpdateReq(params=ThreadUpdateParams(thread_id=thread_id, title=title)))


def delete_thread(thread_id: str) -> bytes:
    return _dump(ThreadsDeleteReq(params=ThreadDeleteParams(thread_id=thread_id)))


def parse_sse(raw: bytes) -> list[ThreadStreamEvent]:
    """Every `data:` frame, validated as a ChatKit ThreadStreamEvent."""
    events = []
    for frame in raw.decode().split("\n\n"):
        if frame.startswith("data: "):
            events.append(_EVENT.validate_python(json.loads(frame[len("data: ") :])))
    return events


def assistant_text(events: list[Any]) -> str:
    done = [
        e for e in events if e.type == "thread.item.done" and e.item.type == "assistant_message"
    ]
    return "".join(part.text for event in done for part in event.item.content)


def widget_item(events: list[Any]) -> Any:
    """The (last) widget item a stream finished."""
    done = [e for e in events if e.type == "thread.item.done" and e.item.type == "widget"]
    assert done, [e.type for e in events]
    return done[-1].item


def widget_from_data(data: dict[str, Any]) -> WidgetItem:
    """A stored widget item's JSON, validated as the SDK's WidgetItem."""
    return TypeAdapter(WidgetItem).validate_python(data)


def with_metadata(body: bytes, **metadata: Any) -> bytes:
    """A request body with `metadata` set (ChatKit's integration-specific field)."""
    data = json.loads(body)
    data["metadata"] = {**data.get("metadata", {}), **metadata}
    return json.dumps(data).encode()


def with_inference(body: bytes, *, model: str | None = None, tool: str | None = None) -> bytes:
    """A message request whose `inference_options` pick `model` and force `tool`
    (ChatKit's composer.models / composer.tools)."""
    data = json.loads(body)
    options: dict[str, Any] = {}
    if model is not None:
        options["model"] = model
    if tool is not None:
        options["tool_choice"] = {"id": tool}
    data["params"]["input"]["inference_options"] = options
    return json.dumps(data).encode()


async def read_stream(chunks: AsyncIterable[bytes]) -> bytes:
    """Every byte of a stream (a StreamingResult, a response's streaming_content)."""
    return b"".join([chunk async for chunk in chunks])


async def read_events(chunks: AsyncIterable[bytes]) -> list[ThreadStreamEvent]:
    """A stream's events, read to its end."""
    return parse_sse(await read_stream(chunks))
