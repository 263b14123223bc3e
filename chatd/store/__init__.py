"""chatd's storage: PostgreSQL behind one module, so the driver is swappable.

``db`` holds the driver and the ``Database`` API; ``migrate`` applies ``sql/``; the per-domain
stores (``users``, ``sessions``, ``channels``, ``messages``, ``search``) hold the named queries.
"""

from chatd.store.db import (
    Conn,
    Database,
    QueryTimeout,
    Record,
    StoreError,
    Unavailable,
    UniqueViolation,
    open_database,
)
from chatd.store.migrate import MigrationError, apply_migrations

__all__ = [
    "Conn",
    "Database",
    "MigrationError",
    "QueryTimeout",
    "Record",
    "StoreError",
    "Unavailable",
    "UniqueViolation",
    "apply_migrations",
    "open_database",
]
