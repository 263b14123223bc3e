"""A client's view of one channel's stream, built only from what the server sent (PROTOCOL.md §10):
the rules a client follows, written once for the tests (the web client's model/channels.js and
model/channel-log.js follow the same ones).

- Messages by seq; a Message is applied only when its ``v`` is higher than the one held.
- ``pos``: the last stream position applied (the resume cursor); every push at a position is
  recorded, so a test can check that each position arrived exactly once.
- Counts (§10.3): fresh ones are taken with the position they are as of, plus the client's own
  increments after it; a ``msg`` of someone else after that position and after the read marker
  counts one (and one mention if it mentions me).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Mirror:
    ch: int
    me: int
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    pos: int = 0
    positions: list[int] = field(default_factory=list)  # positions of pushed events, as applied
    read_seq: int = 0
    unread: int = 0
    mentions: int = 0
    as_of: int = -1
    deltas: list[tuple[int, int, int]] = field(default_factory=list)  # (position, +unread, +mentions)
    notified: list[int] = field(default_factory=list)  # seqs of messages a client would notify for
    read_rids: set[int] = field(default_factory=set)

    def counts(self, unread: int, mentions: int, as_of: int) -> None:
        """Counts the server computed as of position ``as_of``."""
        if as_of < self.as_of:
            return  # older than what is held
        later = [d for d in self.deltas if d[0] > as_of]
        self.unread = unread + sum(d[1] for d in later)
        self.mentions = mentions + sum(d[2] for d in later)
        self.deltas = later
        self.as_of = as_of

    def hello(self, channel: dict[str, Any], resumed: bool) -> None:
        """The hello ok's Channel; a channel not resumed goes live at its last_seq."""
        self.read_seq = max(self.read_seq, channel["read_seq"])
        self.counts(channel["unread"], channel["mentions"], channel["last_seq"])
        if not resumed:
            self.pos = channel["last_seq"]

    def mentions_me(self, m: dict[str, Any]) -> bool:
        return bool(m.get("all")) or self.me in m.get("mentions", [])

    def _hold(self, m: dict[str, Any]) -> None:
        held = self.messages.get(m["seq"])
        if held is None or m["v"] > held["v"]:
            self.messages[m["seq"]] = m

    def frame(self, f: dict[str, Any]) -> None:
        """Apply one frame the connection received (others' channels and unrelated ops ignored)."""
        op = f["op"]
        if op == "ok" and f.get("rid") in self.read_rids:
            self.read_rids.discard(f["rid"])
            self.read_seq = max(self.read_seq, f["seq"])
            self.counts(f["unread"], f["mentions"], f["last_seq"])
            return
        if f.get("ch") != self.ch:
            return
        if op in ("msg", "msg.changed"):
            pos = f["seq"]
            self.positions.append(pos)
            fresh = pos > self.pos and pos > self.as_of
            self.pos = max(self.pos, pos)
            m = {k: v for k, v in f.items() if k != "op"} if op == "msg" else f["message"]
            if op == "msg" and fresh and m["user"] != self.me and not m.get("deleted") and pos > self.read_seq:
                mention = 1 if self.mentions_me(m) else 0
                self.deltas.append((pos, 1, mention))
                self.unread += 1
                self.mentions += mention
                if mention:
                    self.notified.append(m["seq"])
            self._hold(m)
        elif op == "counts":
            self.counts(f["unread"], f["mentions"], f["seq"])
            if f.get("mention") is not None:
                self.notified.append(f["mention"])
        elif op == "read":
            self.read_seq = max(self.read_seq, f["seq"])
            if "last_seq" in f:
                self.counts(f["unread"], f["mentions"], f["last_seq"])
        elif op == "caughtup":
            self.pos = max(self.pos, f["seq"])
        elif op == "resync":
            raise AssertionError(f"unexpected resync of {self.ch}: {f}")
