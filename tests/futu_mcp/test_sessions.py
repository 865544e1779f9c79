"""The per-key session book: caps count opening requests in flight, a slot is freed when a
session ends or its opening fails, and only sessions with nothing in flight grow idle."""

from futu_mcp.sessions import SessionBook
from tests.opend.test_throttle import Clock


def test_the_cap_counts_openings_in_flight_and_is_per_key() -> None:
    book = SessionBook(per_key=2, idle_timeout=60, clock=Clock())
    assert book.reserve("a") and book.reserve("a")
    assert not book.reserve("a")  # two openings in flight already fill the cap
    assert book.reserve("b")  # another key is not affected
    book.settle("a", "s1", owner=None, host=b"h")
    book.settle("a", None, owner=None, host=b"h")  # refused or failed: slot freed
    assert book.held("a") == 1 and book.of_key("a") == ["s1"]
    assert book.reserve("a") and not book.reserve("a")
    book.settle("a", "s2", owner=None, host=b"h")
    assert book.drop("s1") is not None and book.drop("s1") is None
    assert book.reserve("a")
    assert book.counts() == {"a": 1} and book.key_ids() == {"a"}


def test_only_sessions_with_nothing_in_flight_grow_idle() -> None:
    clock = Clock()
    book = SessionBook(per_key=4, idle_timeout=10, clock=clock)
    for sid in ("busy", "quiet"):
        assert book.reserve("k")
        book.settle("k", sid, owner=None, host=b"h")
    book.enter("busy")  # e.g. an open GET stream
    clock.now += 10
    assert book.idle() == ["quiet"]
    book.leave("busy")
    assert book.idle() == ["quiet"]  # its countdown restarted when the stream ended
    clock.now += 10
    assert sorted(book.idle()) == ["busy", "quiet"]
    book.enter("unknown")  # a session the book never held is ignored
    book.leave("unknown")
    assert book.get("unknown") is None
