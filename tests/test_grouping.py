"""Rows read for many keys at once, handed back per key (kit.grouping)."""

from operator import itemgetter

from embedcrm.kit.grouping import grouped, grouped_pairs


def test_every_key_asked_is_answered_and_rows_keep_their_order() -> None:
    rows = [("b", 1), ("a", 2), ("b", 3)]
    assert grouped(["a", "b", "c"], rows, itemgetter(0)) == {
        "a": [("a", 2)],
        "b": [("b", 1), ("b", 3)],
        "c": [],
    }
    assert grouped_pairs(["a", "b", "c"], rows) == {"a": [2], "b": [1, 3], "c": []}


def test_a_key_asked_twice_is_one_entry() -> None:
    assert grouped(["a", "a"], [("a", 1)], itemgetter(0)) == {"a": [("a", 1)]}
