"""Test helpers speaking the two-phase upload: `attachments.create` through
/chatkit, then the bytes to the upload link, then a message naming it."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from chatkit.types import (
    AttachmentCreateParams,
    AttachmentDeleteParams,
    AttachmentsCreateReq,
    AttachmentsDeleteReq,
    InferenceOptions,
    ThreadAddUserMessageParams,
    ThreadCreateParams,
    ThreadsAddUserMessageReq,
    ThreadsCreateReq,
    UserMessageInput,
    UserMessageTextContent,
)
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import AsyncClient

from chat.tests import chatkit_client as ck


def _dump(request: Any) -> bytes:
    return request.model_dump_json(by_alias=True, exclude_none=True).encode()


def create_body(name: str, size: int, mime_type: str) -> bytes:
    params = AttachmentCreateParams(name=name, size=size, mime_type=mime_type)
    return _dump(AttachmentsCreateReq(params=params))


def delete_body(attachment_id: str) -> bytes:
    return _dump(AttachmentsDeleteReq(params=AttachmentDeleteParams(attachment_id=attachment_id)))


def message_input(text: str, attachment_ids: list[str]) -> UserMessageInput:
    return UserMessageInput(
        content=[UserMessageTextContent(text=text)],
        attachments=attachment_ids,
        inference_options=InferenceOptions(),
    )


def create_thread_with(text: str, attachment_ids: list[str]) -> bytes:
    params = ThreadCreateParams(input=message_input(text, attachment_ids))
    return _dump(ThreadsCreateReq(params=params))


def add_message_with(thread_id: str, text: str, attachment_ids: list[str]) -> bytes:
    params = ThreadAddUserMessageParams(
        thread_id=thread_id, input=message_input(text, attachment_ids)
    )
    return _dump(ThreadsAddUserMessageReq(params=params))


async def chatkit(client: AsyncClient, body: bytes, headers: dict[str, str]):
    return await client.post("/chatkit", body, content_type="application/json", headers=headers)


async def create(
    client: AsyncClient, headers: dict[str, str], name: str, data: bytes, mime_type: str
) -> dict[str, Any]:
    response = await chatkit(client, create_body(name, len(data), mime_type), headers)
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


async def upload(
    client: AsyncClient, url: str, data: bytes, name: str, mime_type: str, *, put=False
):
    if put:
        return await client.put(url, data, content_type=mime_type)
    return await client.post(url, {"file": SimpleUploadedFile(name, data, mime_type)})


async def attach(
    client: AsyncClient, headers: dict[str, str], name: str, data: bytes, mime_type: str
) -> dict[str, Any]:
    """Both phases: the attachment, ready to be named in a message."""
    attachment = await create(client, headers, name, data, mime_type)
    response = await upload(client, attachment["upload_descriptor"]["url"], data, name, mime_type)
    assert response.status_code == HTTPStatus.OK, response.content
    return attachment


async def turn(client: AsyncClient, body: bytes, headers: dict[str, str]) -> list[Any]:
    response = await chatkit(client, body, headers)
    assert response.status_code == HTTPStatus.OK, response.content
    return await ck.read_events(response.streaming_content)


def error(response) -> tuple[int, str]:
    return response.status_code, json.loads(response.content)["error"]["code"]
