"""The presence pusher: the first change goes out at once, a storm's changes go out together,
a change undone within the interval is not pushed, and only members of shared channels hear."""

from __future__ import annotations

import trio
import trio.testing

from chatd.hub import Hub
from chatd.presence import PresenceTracker
from chatd.presence_push import PUSH_INTERVAL_SECS, PresencePusher
from chatd.wire import decode_server_frame


class Member:
    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        self.pushes: list[tuple[float, int, str]] = []  # (time, user, state)

    def deliver(self, ch: int, seq: int, frame: bytes) -> None:
        raise AssertionError("presence is ephemeral")

    def deliver_ephemeral(self, ch: int, frame: bytes) -> None:
        f = decode_server_frame(frame)
        self.pushes.append((trio.current_time(), f["user"], f["state"]))


async def started(nursery: trio.Nursery) -> tuple[Hub, PresenceTracker, PresencePusher]:
    hub = Hub(None)  # type: ignore[arg-type]  # no database: nothing here posts
    await nursery.start(hub.run)
    tracker = PresenceTracker()
    pusher = PresencePusher(hub, tracker)
    await nursery.start(pusher.run)
    return hub, tracker, pusher


async def test_changes_are_pushed_at_once_then_gathered(nursery: trio.Nursery, autojump_clock: trio.testing.MockClock) -> None:
    hub, tracker, pusher = await started(nursery)
    watcher = Member(1)
    hub.subscribe(10, watcher)
    t0 = trio.current_time()
    tracker.connected(2, 200)
    pusher.changed(2, [10])
    await trio.testing.wait_all_tasks_blocked()
    assert watcher.pushes == [(t0, 2, "online")]  # a quiet spell: no delay
    for uid in range(3, 53):  # a storm of arrivals right after
        tracker.connected(uid, uid * 100)
        pusher.changed(uid, [10])
    await trio.testing.wait_all_tasks_blocked()
    assert len(watcher.pushes) == 1  # held back ...
    await trio.sleep(PUSH_INTERVAL_SECS)
    await trio.testing.wait_all_tasks_blocked()
    later = watcher.pushes[1:]
    assert [(u, s) for _, u, s in later] == [(uid, "online") for uid in range(3, 53)]
    assert {t for t, _, _ in later} == {t0 + PUSH_INTERVAL_SECS}  # ... and sent together


async def test_a_change_undone_within_the_interval_is_not_pushed(nursery: trio.Nursery, autojump_clock: trio.testing.MockClock) -> None:
    hub, tracker, pusher = await started(nursery)
    watcher = Member(1)
    hub.subscribe(10, watcher)
    tracker.connected(2, 200)
    pusher.changed(2, [10])
    await trio.testing.wait_all_tasks_blocked()
    tracker.disconnected(2, 200)  # a blip: gone and back before the next push
    pusher.changed(2, [10])
    tracker.connected(2, 201)
    pusher.changed(2, [10])
    await trio.sleep(PUSH_INTERVAL_SECS * 3)
    tracker.disconnected(2, 201)
    pusher.changed(2, [10])
    await trio.sleep(PUSH_INTERVAL_SECS * 3)
    assert [(u, s) for _, u, s in watcher.pushes] == [(2, "online"), (2, "offline")]


async def test_only_members_of_shared_channels_hear_and_never_about_themselves(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    hub, tracker, pusher = await started(nursery)
    same, other, me = Member(1), Member(3), Member(2)
    hub.subscribe(10, same)
    hub.subscribe(11, other)
    hub.subscribe(10, me)
    tracker.connected(2, 200)
    pusher.changed(2, [10])
    await trio.sleep(PUSH_INTERVAL_SECS)
    assert [(u, s) for _, u, s in same.pushes] == [(2, "online")]
    assert other.pushes == [] and me.pushes == []
