"""The WebSocket gateway: ``route`` (the ``/ws`` adapter) → ``session`` (one connection's read
and write loops over a ``transport``) → ``resume`` (hello: subscribe, replay, go live) and
``dispatch`` (frame type → handler + access rule, checked in one place)."""
