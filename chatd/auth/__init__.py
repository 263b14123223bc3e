"""Accounts and sessions: who the user is, and whether a request or a socket may act for them.

Modules, bottom up:

- ``names``: pure validation and normalisation of usernames, display names, passwords (no I/O).
- ``tokens``: session tokens, API tokens and invite codes, and their SHA-256 digests (no I/O).
- ``passwords``: argon2id hashing and verification in worker threads behind a limiter.
- ``throttle``: the login throttle (exponential, capped backoff per account and per address).
- ``accounts``: registration, login, password change, admin changes (uses the stores).
- ``sessions``: the session cookie, ``Principal``, ``authenticate`` / ``revalidate`` (what the
  HTTP guard and the WebSocket gateway call).
- ``events``: the daemon's handlers for ``session_revoked`` / ``user_disabled`` notifications.
"""
