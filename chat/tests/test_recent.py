"""chat/recent.py: the held newest items take in a request's writes, or give up."""

import datetime

from chat.recent import RecentItems
from chat.tests.factories import assistant_message, user_message

T0 = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)


def _at(minutes: int, item):
    return item.model_copy(update={"created_at": T0 + datetime.timedelta(minutes=minutes)})


def _held() -> RecentItems:
    older, newer = _at(0, user_message("thr_1", "a")), _at(1, assistant_message("thr_1", "b"))
    return RecentItems("thr_1", [newer, older], has_more=True)


def test_a_new_newest_item_goes_first():
    held = _held()
    new = _at(2, user_message("thr_1", "c"))

    assert held.written(new)
    data, more = held.newest(2)
    assert [i.id for i in data] == [new.id, held.items[1].id] and more


def test_an_item_older_than_the_newest_is_refused():
    held = _held()
    assert not held.written(_at(-5, user_message("thr_1", "late")))


def test_an_update_in_place_replaces_it_unless_its_time_moved():
    held = _held()
    changed = held.items[0].model_copy(update={"content": []})
    assert held.written(changed)
    assert held.items[0].content == []

    assert not held.written(_at(9, held.items[1]))


def test_more_than_held_is_not_answered_when_the_thread_has_more():
    held = _held()
    assert held.newest(3) is None
    assert held.newest(2) is not None
    assert RecentItems("thr_1", list(held.items), has_more=False).newest(3) is not None


def test_items_handed_out_are_copies_all_the_way_down():
    held = _held()
    data, _ = held.newest(1)
    assert data[0] == held.items[0]
    data[0].content[0].text = "changed inside"
    assert held.items[0].content[0].text == "b"
    data[0].content = []
    assert held.items[0].content != []
