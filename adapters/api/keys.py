"""API keys over HTTP, for admin keys alone: make one (its secret answered this once),
list them (never a secret or a hash), revoke one (refused from then on, in every process).
"""

# No ``from __future__ import annotations``: Litestar reads the body and answer types
# from the annotations as evaluated here.

from datetime import date, datetime
from typing import Annotated, Any

from litestar import Request, Response
from litestar.params import FromPath, JSONBody
from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from huikuan.adapters.api.access import services
from huikuan.adapters.api.answers import Answer
from huikuan.adapters.api.routing import answer, operation
from huikuan.core import commands as c
from huikuan.core.access import Role, issue, list_keys, revoke_key

Label = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(c.plain_text),
]


class CreateKey(BaseModel):
    """A new key: its role, a label saying whose or what for, and optionally the date
    it stops working (on that date, where the company is, it is refused)."""

    model_config = ConfigDict(extra="forbid")
    role: Role
    label: Label
    expires_on: c.BusinessDate | None = None


class KeyListed(Answer):
    key_id: str
    role: str
    label: str
    created_at: datetime
    expires_on: date | None
    revoked: bool
    revoked_at: datetime | None = None


class KeyCreated(KeyListed):
    key: str
    """The key itself: shown this once, never stored (only a salted hash is)."""


@operation("POST", "/keys", "createKey", tag="keys", creates=True)
def create_key(request: Request[Any, Any, Any], data: JSONBody[CreateKey]) -> Response[KeyCreated]:
    """Make an API key for a role; the answer holds the key, shown this once."""
    made = issue(services(request).ledger, data.role, data.label, data.expires_on)
    return Response(answer(KeyCreated, {**made.key.listed(), "key": made.secret}),
                    status_code=201, headers={"Cache-Control": "no-store"})


@operation("GET", "/keys", "listKeys", tag="keys")
def keys(request: Request[Any, Any, Any]) -> list[KeyListed]:
    """Every API key ever made, oldest first: id, role, label, dates, revoked (never the
    key or its hash)."""
    return [answer(KeyListed, k.listed()) for k in list_keys(services(request).ledger)]


@operation("POST", "/keys/{key_id:str}/revoke", "revokeKey", tag="keys", writes=KeyListed)
def revoke(request: Request[Any, Any, Any], key_id: FromPath[str]) -> Response[KeyListed]:
    """Revoke a key: from now on it is refused (401) by every process on the store.
    Revoking it again answers the same (200) and records nothing."""
    revoked, recorded = revoke_key(services(request).ledger, key_id)
    return Response(answer(KeyListed, revoked.listed()), status_code=201 if recorded else 200)


KEYS = [create_key, keys, revoke]
