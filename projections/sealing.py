"""Personal data in the read tables, sealed with a key derived from ``HUIKUAN_CIPHER_KEY``.

The events are encrypted by the event store's own cipher; the read tables beside them
hold what the views answer with, and some of it is personal: a customer's name, and a
message's subject, body and recipient (an e-mail address, a phone number, a name).
With a cipher key those columns (``SEALED``) are written sealed: AES-GCM (the
``cryptography`` package) under a key derived from the cipher key by HKDF-SHA256 for
this one use, a fresh random nonce per value, and the table, column and row id as
associated data, so a sealed value moved to another row or column does not open. What
the views sort, filter, sum or join on (ids, amounts, dates, classes, stages,
collectors) stays in clear; nothing in those tables is personal.

A sealed value is written as ``s1:`` and the base64 of the nonce and the ciphertext.
Without a cipher key nothing is sealed and the tables are as they always were. The
views record the key's check value (``check``: derived too, it reveals nothing of the
key) in ``hk_meta``, so views sealed under another key, or written in clear, are
recognised and folded again (``huikuan.projections.views.Projector``).

Searching sealed names (``q=``, a list sorted by name) cannot be done by SQL: names
are opened in the process (about 2 µs each, kept in a bounded cache by their sealed
form, so a repeated search opens only what changed) and filtered and sorted there.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# The columns of personal data, per table: sealed when a cipher key is set.
SEALED: dict[str, tuple[str, ...]] = {
    "hk_accounts": ("name",),
    "hk_messages": ("subject", "body", "recipient"),
}

PREFIX = "s1:"
_NONCE = 12


class SealBroken(Exception):
    """A sealed value does not open with this key (changed by hand, or another key's)."""


def _derive(key: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"huikuan read tables: " + purpose).derive(key)


class Sealer:
    """Seals and opens the personal columns; with no key, both give the value back."""

    def __init__(self, cipher_key: str | None, cache_size: int = 200_000) -> None:
        self._aead: AESGCM | None = None
        self.check: str | None = None
        """The key's check value as recorded in ``hk_meta`` (None: nothing is sealed)."""
        if cipher_key:
            key = base64.b64decode(cipher_key)
            self._aead = AESGCM(_derive(key, b"sealed columns v1"))
            self.check = "s1:" + _derive(key, b"key check v1")[:12].hex()
        # Opened values by their place and sealed form (which holds a random nonce, so a
        # changed value is a new entry): a search over every name opens each name once.
        # Emptied when full, which is rare and cheap; a dict's get and set are atomic.
        self._opened: dict[tuple[str, str], str] = {}
        self._cache_size = cache_size

    @property
    def sealing(self) -> bool:
        return self._aead is not None

    def seal(self, value: str | None, where: str) -> str | None:
        """``value`` sealed for its place (``"hk_accounts.name:C-1"``); None stays None."""
        if value is None or self._aead is None:
            return value
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, value.encode(), where.encode())
        return PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, value: str | None, where: str) -> str | None:
        """The clear value of one sealed for ``where``; ``SealBroken`` if it does not open."""
        if value is None or self._aead is None:
            return value
        place = (where, value)
        found = self._opened.get(place)
        if found is not None:
            return found
        try:
            # With a key every value was written sealed (views written in clear are
            # folded again first: see the check value), so a clear one was put there by
            # hand; the views' readers answer from the account instead.
            if not value.startswith(PREFIX):
                raise ValueError(value)
            raw = base64.b64decode(value[len(PREFIX):], validate=True)
            opened = self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], where.encode()).decode()
        except (InvalidTag, binascii.Error, ValueError):
            msg = f"a sealed value of {where.split(':', 1)[0]} does not open with this key"
            raise SealBroken(msg) from None
        if len(self._opened) >= self._cache_size:
            self._opened.clear()
        self._opened[place] = opened
        return opened
