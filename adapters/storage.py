"""Where the events live: ``HUIKUAN_DATABASE_URL`` turned into the ledger's settings.

``sqlite:///relative/path``, ``sqlite:////absolute/path`` or ``sqlite:///:memory:``
select SQLite; ``postgresql://user[:password]@host[:port]/db[?schema=name]`` selects
PostgreSQL (psycopg 3). ``HUIKUAN_CIPHER_KEY`` (base64, 16/24/32 bytes) encrypts event
data at rest with AES-GCM, and seals the read views' personal columns with a key derived
from it (:mod:`huikuan.projections.sealing`); make one with ``python -c "import base64,
secrets; print(base64.b64encode(secrets.token_bytes(32)).decode())"``. A key that is
not one, or not the store's, is refused when the store is opened.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from huikuan.core.ledger import Ledger, WrongCipherKey

DEFAULT_DATABASE_URL = "sqlite:///./var/huikuan.sqlite3"


class ConfigurationError(ValueError):
    """The configuration cannot work; the message says which setting and why."""


def ledger_env(database_url: str, cipher_key: str | None = None) -> dict[str, str]:
    """The eventsourcing environment for a database URL (and an optional cipher key)."""
    parts = urlsplit(database_url)
    env: dict[str, str]
    if parts.scheme == "sqlite":
        path = unquote(database_url[len("sqlite:///"):]) if database_url.startswith(
            "sqlite:///"
        ) else ""
        if not path:
            msg = f"HUIKUAN_DATABASE_URL {database_url!r}: write sqlite:///path/to/file.sqlite3"
            raise ConfigurationError(msg)
        if path != ":memory:" and not path.startswith("file:"):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": "30",
        }
    elif parts.scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        database = parts.path.lstrip("/")
        if not (parts.hostname and database):
            msg = f"HUIKUAN_DATABASE_URL {database_url!r}: write postgresql://user@host/database"
            raise ConfigurationError(msg)
        query = parse_qs(parts.query)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": database,
            "POSTGRES_HOST": parts.hostname,
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_SCHEMA": query.get("schema", [""])[0],
            "POSTGRES_POOL_SIZE": query.get("pool_size", ["5"])[0],
            "POSTGRES_MAX_OVERFLOW": query.get("max_overflow", ["20"])[0],
            "POSTGRES_ENABLE_DB_FUNCTIONS": "y",
            "POSTGRES_LOCK_TIMEOUT": "30",
        }
    else:
        msg = (
            f"HUIKUAN_DATABASE_URL {database_url!r}: huikuan stores events in "
            "SQLite (sqlite:///…) or PostgreSQL (postgresql://…)"
        )
        raise ConfigurationError(msg)
    if cipher_key:
        try:
            size = len(base64.b64decode(cipher_key, validate=True))
        except (binascii.Error, ValueError):
            size = -1
        if size not in (16, 24, 32):
            msg = ("HUIKUAN_CIPHER_KEY is the base64 of a 16, 24 or 32 byte key (make one "
                   "with: python -c \"import base64, secrets; "
                   "print(base64.b64encode(secrets.token_bytes(32)).decode())\")")
            raise ConfigurationError(msg)
        env["CIPHER_TOPIC"] = "eventsourcing.cryptography:AESCipher"
        env["CIPHER_KEY"] = cipher_key
    return env


def open_ledger(
    database_url: str | None = None,
    cipher_key: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Ledger:
    """Open the ledger the arguments, or else the environment (``os.environ``), point at."""
    environment = os.environ if env is None else env
    url = database_url or environment.get("HUIKUAN_DATABASE_URL") or DEFAULT_DATABASE_URL
    key = cipher_key if cipher_key is not None else environment.get("HUIKUAN_CIPHER_KEY")
    # Only our settings reach the library, never stray PERSISTENCE_MODULE-style variables
    # of the process environment, so a URL always means what it says.
    settings = ledger_env(url, key)
    # The audit key keys the chain hashes and signs the anchors (core.chain, core.anchors).
    if audit_key := environment.get("HUIKUAN_AUDIT_KEY"):
        settings["HUIKUAN_AUDIT_KEY"] = audit_key
    ledger = Ledger(env=settings)
    try:
        ledger.check_cipher()
    except WrongCipherKey as error:
        ledger.close()
        raise ConfigurationError(str(error)) from None
    return ledger
