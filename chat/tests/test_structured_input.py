"""Asking instead of guessing: an ambiguous todo reference or a duplicate add answers
with a `structured_input` item; `threads.add_structured_input` acts on the chosen todo
only. Offline model and a real one (the fake OpenAI endpoint); another user's question
is 404."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from chat import choices
from chat.tests import chatkit_client as ck
from chat.tests.fake_openai import FakeOpenAI, as_configured_model
from chat.tests.test_views import post, stream
from todos.models import Todo

pytestmark = pytest.mark.django_db(transaction=True)


def question_of(events):
    done = [e for e in events if e.type == "thread.item.done"]
    assert done and done[-1].item.type == "structured_input", [e.type for e in events]
    item = done[-1].item
    assert item.status == "pending"
    (asked,) = item.inputs
    assert asked.type == "multiple_choice" and not asked.multiple
    return item, asked


@pytest.fixture
async def milks(user):
    oat = await Todo.objects.acreate(owner=user, title="oat milk")
    soy = await Todo.objects.acreate(owner=user, title="soy milk")
    return oat, soy


@pytest.mark.parametrize(
    ("command", "check"),
    [
        ("complete milk", lambda todo: todo.completed),
        ("delete milk", lambda todo: todo is None),
    ],
)
async def test_an_ambiguous_reference_asks_and_the_answer_acts_on_that_todo_only(
    async_client, user, bearer, milks, command, check
):
    oat, soy = milks
    headers = bearer(user)

    asked = await stream(async_client, ck.create_thread(command), headers)

    item, question = question_of(asked)
    assert sorted(o.value for o in question.options) == sorted([str(oat.id), str(soy.id)])
    assert "oat milk" in question.question and "soy milk" in question.question
    assert not await Todo.objects.filter(completed=True).aexists()
    assert await Todo.objects.acount() == 2
    assert "assistant_message" not in [
        e.item.type for e in asked if e.type == "thread.item.done"
    ]  # the run stopped at the question
    thread_id = asked[0].thread.id

    answered = await stream(
        async_client, ck.structured_input(thread_id, item.id, {question.id: [str(soy.id)]}), headers
    )

    soy_now = await Todo.objects.filter(pk=soy.pk).afirst()
    oat_now = await Todo.objects.aget(pk=oat.pk)
    assert check(soy_now)
    assert not oat_now.completed  # the other one is untouched
    replaced = next(e for e in answered if e.type == "thread.item.replaced").item
    assert (replaced.id, replaced.status) == (item.id, "answered")
    assert replaced.inputs[0].answer.values == [str(soy.id)]
    assert "soy milk" in ck.assistant_text(answered)
    assert "client_effect" in [e.type for e in answered]
    # Answered: a second answer is refused before any stream.
    again = ck.structured_input(thread_id, item.id, {question.id: [str(oat.id)]})
    assert (await post(async_client, again, headers)).status_code == HTTPStatus.BAD_REQUEST
    oat_now = await Todo.objects.aget(pk=oat.pk)
    assert not oat_now.completed


async def test_a_value_the_question_did_not_offer_changes_nothing(
    async_client, user, other_user, bearer, milks
):
    foreign = await Todo.objects.acreate(owner=other_user, title="their milk")
    headers = bearer(user)
    asked = await stream(async_client, ck.create_thread("complete milk"), headers)
    item, question = question_of(asked)

    answered = await stream(
        async_client,
        ck.structured_input(asked[0].thread.id, item.id, {question.id: [str(foreign.id)]}),
        headers,
    )

    assert not await Todo.objects.filter(completed=True).aexists()
    assert ck.assistant_text(answered) == choices.MSG_SKIPPED


async def test_another_users_question_is_404(async_client, user, other_user, bearer, milks):
    oat, _ = milks
    asked = await stream(async_client, ck.create_thread("complete milk"), bearer(user))
    item, question = question_of(asked)
    body = ck.structured_input(asked[0].thread.id, item.id, {question.id: [str(oat.id)]})

    response = await post(async_client, body, bearer(other_user))

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert not await Todo.objects.filter(completed=True).aexists()


@pytest.mark.parametrize(("answer", "count"), [(choices.ADD_AGAIN, 2), (choices.DONT_ADD, 1)])
async def test_adding_an_open_title_again_asks_first(async_client, user, bearer, answer, count):
    await Todo.objects.acreate(owner=user, title="Buy Milk")
    headers = bearer(user)

    asked = await stream(async_client, ck.create_thread("add buy milk due 2030-01-02"), headers)

    item, question = question_of(asked)
    assert [o.value for o in question.options] == [choices.ADD_AGAIN, choices.DONT_ADD]
    assert await Todo.objects.acount() == 1

    await stream(
        async_client,
        ck.structured_input(asked[0].thread.id, item.id, {question.id: [answer]}),
        headers,
    )

    assert await Todo.objects.acount() == count
    if count == 2:
        added = await Todo.objects.aget(title="buy milk")
        assert added.due_date.isoformat() == "2030-01-02"


async def test_a_done_todo_with_that_title_does_not_ask(async_client, user, bearer):
    await Todo.objects.acreate(owner=user, title="buy milk", completed=True)

    events = await stream(async_client, ck.create_thread("add buy milk"), bearer(user))

    assert await Todo.objects.acount() == 2
    assert "structured_input" not in [e.item.type for e in events if e.type == "thread.item.done"]


async def test_a_later_turn_in_the_thread_still_works(async_client, user, bearer, milks):
    oat, _ = milks
    headers = bearer(user)
    asked = await stream(async_client, ck.create_thread("complete milk"), headers)
    item, question = question_of(asked)
    thread_id = asked[0].thread.id
    await stream(
        async_client, ck.structured_input(thread_id, item.id, {question.id: [str(oat.id)]}), headers
    )

    later = await stream(async_client, ck.add_message(thread_id, "add bread"), headers)

    assert "bread" in ck.assistant_text(later)


async def test_a_real_model_asks_the_same_way(async_client, user, bearer, settings, milks):
    oat, soy = milks
    fake = FakeOpenAI(steps=[("complete_todo", {"ref": "milk"})])
    with as_configured_model(settings, fake):
        headers = bearer(user)
        asked = await stream(async_client, ck.create_thread("I finished the milk"), headers)
        item, question = question_of(asked)
        assert len(fake.agent_requests()) == 1  # the run stopped at the question
        await stream(
            async_client,
            ck.structured_input(asked[0].thread.id, item.id, {question.id: [str(oat.id)]}),
            headers,
        )
    await oat.arefresh_from_db()
    await soy.arefresh_from_db()
    assert (oat.completed, soy.completed) == (True, False)
    assert len(fake.agent_requests()) == 1  # the server acted on the answer itself


async def test_an_earlier_question_answered_after_a_later_one_was_asked(
    async_client, user, bearer, milks
):
    oat, _ = milks
    rye = await Todo.objects.acreate(owner=user, title="rye bread")
    await Todo.objects.acreate(owner=user, title="corn bread")
    headers = bearer(user)
    first = await stream(async_client, ck.create_thread("complete milk"), headers)
    first_item, first_question = question_of(first)
    thread_id = first[0].thread.id
    second = await stream(async_client, ck.add_message(thread_id, "delete bread"), headers)
    question_of(second)  # a second question, still waiting

    answered = await stream(
        async_client,
        ck.structured_input(thread_id, first_item.id, {first_question.id: [str(oat.id)]}),
        headers,
    )

    await oat.arefresh_from_db()
    assert oat.completed  # the first question's answer, acted on
    assert await Todo.objects.filter(pk=rye.pk).aexists()  # the second one still waits
    assert "structured_input" not in [
        e.item.type for e in answered if e.type == "thread.item.done"
    ]  # nothing asked again
    assert "oat milk" in ck.assistant_text(answered)
