"""The errors the core raises, each a small class a caller can map to an answer.

Adapters translate them: over HTTP ``InvalidCommand`` is a 422, ``NotFound`` a 404
and ``Conflict`` a 409. Every message is safe to show to the client: it names the
field and the rule, never personal data.
"""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused. Nothing was recorded."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidCommand(DomainError):
    """The command breaks a rule of the account (wrong currency, too much, too early…)."""


class NotFound(DomainError):
    """The command names a customer, invoice, payment or dispute that does not exist."""


class Conflict(DomainError):
    """A client-chosen id was used before with different content."""


class Tampered(DomainError):
    """The account's stored events no longer verify (changed, removed or forged by hand).

    Reads of its history and every write are refused until an operator restores the
    store from a backup (see docs/events.md, "Tamper evidence"); nothing is recorded."""
