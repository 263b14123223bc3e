"""Request handlers, one module per capability: ``channels``, ``messages``, ``presence``.

Each handler serves one client frame type for an authenticated connection (a ``Peer``); which
handler serves which frame, and the access rule checked before it runs, is the table in
``chatd.gateway.dispatch``. Handlers use the domain services on ``peer.state`` and build their
replies with ``chatd.render``; they never see the socket.
"""
