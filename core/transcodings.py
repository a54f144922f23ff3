"""How values that JSON does not know are written into stored events and snapshots.

The library registers ``Decimal``, ``datetime`` and ``UUID``; we add ``date`` and the
small records an account keeps (invoices, payments…, see core.account.records), so
snapshots can be taken.
The ``name`` of each transcoding is written into stored data: never change one.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from huikuan.core.account.records import RECORDS


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class RecordAsDict(Transcoding):
    """A dataclass record of the account's state, as a dict of its fields."""

    def __init__(self, cls: type[Any], name: str) -> None:
        self.type = cls
        self.name = name

    def encode(self, obj: Any) -> dict[str, Any]:
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}

    def decode(self, data: dict[str, Any]) -> Any:
        return self.type(**data)


def register_all(transcoder: JSONTranscoder) -> None:
    """Register every transcoding the huikuan store needs."""
    transcoder.register(DateAsISO())
    for name, cls in RECORDS.items():
        transcoder.register(RecordAsDict(cls, name))
