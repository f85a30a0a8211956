"""The in-process delivery queue: bounded, deduplicated by delivery id, and safe to shut down."""
import threading

from bot.github.webhooks import Event
from bot.jobs.queue import InProcessQueue, Submitted


def handler(ctx, event) -> None:
    """What the web tier routed the delivery to (the tests' process functions ignore it)."""


def event(delivery_id: str) -> Event:
    return Event(name="issues", delivery_id=delivery_id, payload={"action": "opened"})


def test_each_delivery_id_is_processed_once():
    seen = []
    queue = InProcessQueue(lambda e, h: seen.append(e.delivery_id), workers=2)
    results = [queue.submit(event(d), handler) for d in ("a", "b", "a", "a", "c")]
    assert queue.join(5)
    assert results == [Submitted.ACCEPTED, Submitted.ACCEPTED, Submitted.DUPLICATE, Submitted.DUPLICATE,
                       Submitted.ACCEPTED]
    assert sorted(seen) == ["a", "b", "c"]
    assert queue.submit(event("a"), handler) is Submitted.DUPLICATE  # done deliveries are remembered too
    queue.close(1)


def test_a_full_queue_says_so_and_forgets_the_delivery():
    gate = threading.Event()
    queue = InProcessQueue(lambda e, h: gate.wait(5), maxsize=1, workers=1)
    assert queue.submit(event("running"), handler) is Submitted.ACCEPTED
    queue_has_room = False
    for _ in range(100):  # wait until the worker has taken the first one
        if queue.submit(event("waiting"), handler) is Submitted.ACCEPTED:
            queue_has_room = True
            break
        threading.Event().wait(0.01)
    assert queue_has_room
    assert queue.submit(event("overflow"), handler) is Submitted.FULL
    gate.set()
    assert queue.join(5)
    # Refused for lack of room, so GitHub's (or an admin's) retry must be taken.
    assert queue.submit(event("overflow"), handler) is Submitted.ACCEPTED
    queue.close(1)


def test_a_failed_delivery_can_be_redelivered():
    attempts = []

    def process(e, h):
        attempts.append(e.delivery_id)
        if len(attempts) == 1:
            raise RuntimeError("GitHub is down")

    queue = InProcessQueue(process, workers=1)
    queue.submit(event("x"), handler)
    assert queue.join(5)
    assert queue.stats.failed == 1
    assert queue.submit(event("x"), handler) is Submitted.ACCEPTED  # manual redelivery keeps the id
    assert queue.join(5)
    assert attempts == ["x", "x"] and queue.stats.processed == 1
    queue.close(1)


def test_close_waits_for_running_work_and_hands_back_the_rest():
    gate = threading.Event()
    started = threading.Event()
    done = []

    def process(e, h):
        started.set()
        gate.wait(5)
        done.append(e.delivery_id)

    queue = InProcessQueue(process, maxsize=10, workers=1)
    for d in ("first", "second", "third"):
        queue.submit(event(d), handler)
    assert started.wait(5)
    left = queue.close(timeout=0.1)  # within the grace period, the running one did not finish
    assert [e.delivery_id for e in left] == ["second", "third"]  # handed back, never started
    assert done == []
    assert queue.submit(event("late"), handler) is Submitted.CLOSED
    gate.set()  # the busy worker is not abandoned half-way while the process lives
    for _ in range(200):
        if done:
            break
        threading.Event().wait(0.01)
    assert done == ["first"]


def test_later_work_runs_on_its_own_thread_once_per_key_and_never_holds_up_a_delivery():
    gate, ran, seen = threading.Event(), [], []
    queue = InProcessQueue(lambda e, h: seen.append(e.delivery_id), workers=1)
    assert queue.submit_job("pack:1", lambda: (gate.wait(5), ran.append("pack:1")))
    assert not queue.submit_job("pack:1", lambda: ran.append("again"))  # queued or running: not twice
    assert queue.submit_job("pack:2", lambda: ran.append("pack:2"))
    assert queue.submit(event("d1"), handler) is Submitted.ACCEPTED
    for _ in range(500):  # the delivery is processed while the later work is held up
        if seen:
            break
        threading.Event().wait(0.01)
    assert seen == ["d1"] and ran == []
    assert not queue.join(0.05)  # join waits for later work too
    gate.set()
    assert queue.join(5)
    assert ran == ["pack:1", "pack:2"]
    assert queue.submit_job("pack:1", lambda: ran.append("later again"))  # done: may be queued anew
    assert queue.join(5) and ran[-1] == "later again"
    queue.close(1)


def test_later_work_that_fails_leaves_the_thread_working():
    ran = []
    queue = InProcessQueue(lambda e, h: None, workers=1)
    queue.submit_job("broken", lambda: 1 / 0)
    queue.submit_job("next", lambda: ran.append("next"))
    assert queue.join(5) and ran == ["next"]
    queue.close(1)
    assert not queue.submit_job("after-close", lambda: ran.append("no"))


def test_later_work_asked_for_while_it_runs_runs_once_more_after():
    started, gate, ran = threading.Event(), threading.Event(), []
    queue = InProcessQueue(lambda e, h: None, workers=1)
    queue.submit_job("pack:1", lambda: (started.set(), gate.wait(5), ran.append("first")))
    assert started.wait(5)
    assert not queue.submit_job("pack:1", lambda: ran.append("again"))  # running: kept for after it
    assert not queue.submit_job("pack:1", lambda: ran.append("again, twice"))  # once more, not twice more
    gate.set()
    assert queue.join(5)
    assert ran == ["first", "again, twice"]
    queue.close(1)
