"""Channel actors: one sequencer per active channel (group commit, acks, ordered fan-out)."""

from chatd.hub.actor import BATCH_MAX, Busy, CatchUp, ChannelActor, SendRequest, Subscriber
from chatd.hub.changes import ChangeRequest
from chatd.hub.hub import Hub

__all__ = ["BATCH_MAX", "Busy", "CatchUp", "ChangeRequest", "ChannelActor", "Hub", "SendRequest", "Subscriber"]
