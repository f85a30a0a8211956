"""The in-process delivery queue: bounded, deduplicated by delivery id, and safe to shut down."""
import threading

from bot.webhooks import Event
from bot.workqueue import InProcessQueue, Submitted


def event(delivery_id: str) -> Event:
    return Event(name="issues", delivery_id=delivery_id, payload={"action": "opened"})


def test_each_delivery_id_is_processed_once():
    seen = []
    queue = InProcessQueue(lambda e: seen.append(e.delivery_id), workers=2)
    results = [queue.submit(event(d)) for d in ("a", "b", "a", "a", "c")]
    assert queue.join(5)
    assert results == [Submitted.ACCEPTED, Submitted.ACCEPTED, Submitted.DUPLICATE, Submitted.DUPLICATE,
                       Submitted.ACCEPTED]
    assert sorted(seen) == ["a", "b", "c"]
    assert queue.submit(event("a")) is Submitted.DUPLICATE  # done deliveries are remembered too
    queue.close(1)


def test_a_full_queue_says_so_and_forgets_the_delivery():
    gate = threading.Event()
    queue = InProcessQueue(lambda e: gate.wait(5), maxsize=1, workers=1)
    assert queue.submit(event("running")) is Submitted.ACCEPTED
    queue_has_room = False
    for _ in range(100):  # wait until the worker has taken the first one
        if queue.submit(event("waiting")) is Submitted.ACCEPTED:
            queue_has_room = True
            break
        threading.Event().wait(0.01)
    assert queue_has_room
    assert queue.submit(event("overflow")) is Submitted.FULL
    gate.set()
    assert queue.join(5)
    # Refused for lack of room, so GitHub's (or an admin's) retry must be taken.
    assert queue.submit(event("overflow")) is Submitted.ACCEPTED
    queue.close(1)


def test_a_failed_delivery_can_be_redelivered():
    attempts = []

    def process(e):
        attempts.append(e.delivery_id)
        if len(attempts) == 1:
            raise RuntimeError("GitHub is down")

    queue = InProcessQueue(process, workers=1)
    queue.submit(event("x"))
    assert queue.join(5)
    assert queue.stats.failed == 1
    assert queue.submit(event("x")) is Submitted.ACCEPTED  # manual redelivery keeps the id
    assert queue.join(5)
    assert attempts == ["x", "x"] and queue.stats.processed == 1
    queue.close(1)


def test_close_finishes_running_work_and_hands_back_the_rest():
    gate = threading.Event()
    started = threading.Event()
    done = []

    def process(e):
        started.set()
        gate.wait(5)
        done.append(e.delivery_id)

    queue = InProcessQueue(process, maxsize=10, workers=1)
    for d in ("first", "second", "third"):
        queue.submit(event(d))
    assert started.wait(5)
    threading.Timer(0.2, gate.set).start()
    left = queue.close(timeout=0.1)
    assert done == ["first"]  # the running one was allowed to finish
    assert [e.delivery_id for e in left] == ["second", "third"]
    assert queue.submit(event("late")) is Submitted.CLOSED
