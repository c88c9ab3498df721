"""The offline model's reading of attachments (see test_flow for the full turns)."""

from __future__ import annotations

import json

from chat.offline_attachments import Attached, answer, todo_calls, todo_titles


def user_message(text: str, *parts: str) -> dict:
    content = [{"type": "input_text", "text": text}]
    content += [{"type": "input_text", "text": part} for part in parts]
    return {"role": "user", "type": "message", "content": content}


CSV = "Attached file “shop.csv” (text/csv):\nmilk,1\n,eggs\n\n"
IMAGE = "Attached image “photo.png” (image/png)"


def test_csv_rows_give_their_first_non_empty_cell():
    assert todo_titles(Attached("file", "s.csv", "text/csv", 'milk,1\n,eggs\n"a, b",c\n')) == [
        "milk",
        "eggs",
        "a, b",
    ]


def test_add_these_calls_add_todo_once_per_line():
    calls = todo_calls([user_message("Add these", CSV)])
    assert [json.loads(call.arguments) for call in calls] == [{"title": "milk"}, {"title": "eggs"}]
    assert {call.name for call in calls} == {"add_todo"}


def test_no_calls_without_a_text_file_or_after_the_first_step():
    assert todo_calls([user_message("add these", IMAGE)]) == []
    assert todo_calls([user_message("hello", CSV)]) == []
    done = {"type": "function_call_output", "call_id": "c", "output": "{}"}
    assert todo_calls([user_message("add these", CSV), done]) == []


def test_the_answer_names_each_attachment():
    text = answer([user_message("", CSV, IMAGE)])
    assert "“shop.csv”" in text and "“photo.png”" in text and "add these" in text
    assert answer([user_message("add these", IMAGE)]).endswith("text or CSV files.")
    assert answer([user_message("list")]) is None
