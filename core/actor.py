"""Who recorded a fact or a decision, and why (谁记录的、为什么).

Every event stores ``recorded_by`` — ``key:<key_id>`` (an API key), ``user:<name>`` (a
person signed in to the workspace), ``cycle``, ``dispatcher``, ``import`` or ``system``
— and ``recorded_reason``, the reason the request gave (the ``X-Reason`` header, or a
fact's own ``reason`` field). They are stamped when the event is triggered, before its
chain hash is computed, so the chain covers them; ``apply`` never reads them, so a
replay is the same whoever recorded it. Events stored before they existed have neither
(read as ``None``).

The adapter that received the request says who is acting: the ledger's writing methods
take ``by=``, and an adapter that cannot thread it through every call (the HTTP API,
whose guard identifies the caller once per request) sets :data:`acting` for the
request's context. The ledger stamps each event of a save with the actor in force.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

MAX_REASON = 500
"""The longest reason kept (characters)."""

RECORDERS = ("cycle", "dispatcher", "import", "system")
"""The names of huikuan's own recorders; people and integrations are ``key:…``/``user:…``."""


@dataclass(frozen=True)
class Actor:
    """Who records, and the reason the request gave (None: none given)."""

    recorded_by: str
    reason: str | None = None

    @classmethod
    def key(cls, key_id: str, reason: str | None = None) -> Actor:
        return cls(f"key:{key_id}", reason)

    @classmethod
    def user(cls, name: str, reason: str | None = None) -> Actor:
        return cls(f"user:{name}", reason)


SYSTEM = Actor("system")
CYCLE = Actor("cycle")
DISPATCHER = Actor("dispatcher")
IMPORT = Actor("import")

acting: ContextVar[Actor] = ContextVar("huikuan_acting", default=SYSTEM)
"""The actor in force in this context: what events triggered here are stamped with."""


@contextmanager
def acting_as(actor: Actor | None) -> Iterator[Actor]:
    """Record as ``actor`` within the block (None: keep the one in force)."""
    if actor is None:
        yield acting.get()
        return
    token = acting.set(actor)
    try:
        yield actor
    finally:
        acting.reset(token)
