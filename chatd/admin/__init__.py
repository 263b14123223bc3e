"""Admin commands of the ``chatd`` CLI that act on the database beside a running daemon.

``chatd user add|list|passwd|disable|enable|promote|demote|token`` (``users``), ``chatd sessions
list|revoke`` (``sessions``), ``chatd invite create|list|revoke`` (``invites``), ``chatd post``
(``post``), ``chatd backup|restore|export`` (``backup``), ``chatd status`` (``status``), ``chatd
files report|gc`` (``files``) and ``chatd search reindex`` (``search``). They work whether or not
chatd is running; when it is, the daemon hears about revoked sessions, disabled users and posted
messages through LISTEN/NOTIFY (``session_revoked``, ``user_disabled``, ``chatd_events``) and acts
at once.

Exit codes as for every ``chatd`` command: 0 success, 1 failure (unknown user, invalid name…,
with a message on stderr), 2 usage error.
"""

from __future__ import annotations

from chatd.admin import backup, files, invites, post, search, sessions, status, users
from chatd.admin.common import AddCommon, SubParsers


def add_commands(sub: SubParsers, common: AddCommon) -> None:
    """Register the admin sub-commands on the ``chatd`` parser (in the order ``--help`` lists them)."""
    users.add_commands(sub, common)
    sessions.add_commands(sub, common)
    invites.add_commands(sub, common)
    post.add_commands(sub, common)
    backup.add_commands(sub, common)
    status.add_commands(sub, common)
    files.add_commands(sub, common)
    search.add_commands(sub, common)
