"""The base of huikuan's aggregates: explicit topics and a hash chain over their events.

Every event an aggregate triggers is given ``chain_hash`` (see :mod:`core.chain`)
before it is applied, computed over exactly what the store will keep of it. The
aggregate remembers the latest hash as ``chain_head`` so the next event can link to it.
"""

from __future__ import annotations

import dataclasses
import pickle
from datetime import date, datetime
from typing import Any, ClassVar, Self
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from huikuan.core import chain
from huikuan.core.actor import acting


def _content_of(event: Any) -> bytes:
    # Mirror eventsourcing's Mapper.to_stored_event: the row keeps id and version in
    # columns and the rest of the event's __dict__ (plus class_version) as its state.
    state = dict(vars(event))
    originator_id = state.pop("originator_id")
    originator_version = state.pop("originator_version")
    class_version = getattr(type(event), "class_version", 1)
    if class_version > 1:
        state["class_version"] = class_version
    return chain.stored_content(get_topic(type(event)), originator_id, originator_version, state)


class ChainedAggregate(Aggregate):
    """An aggregate whose events carry a tamper-evident hash chain."""

    chain_head: str = chain.GENESIS

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        # The library hands out a copy of a cached aggregate for every command and every
        # cycle step; a pickle round trip copies the same state (plain records, Decimals,
        # dates) several times faster than copy.deepcopy walks it in Python.
        copied: Self = pickle.loads(pickle.dumps(self, pickle.HIGHEST_PROTOCOL))  # noqa: S301
        return copied

    class Event(Aggregate.Event):
        chain_hash: str

        # Who recorded it and why (core.actor): kept in the stored state beside the
        # fields, not fields themselves (an event class of any shape gets them, and a
        # stored event without them reads None from these class defaults).
        recorded_by: ClassVar[str | None] = None
        recorded_reason: ClassVar[str | None] = None
        BODY_REASON: ClassVar[bool] = False
        """True for events whose own ``reason`` field is the request's reason (facts)."""

        DATE_FIELD: ClassVar[str | None] = None
        """The field holding the event's business date (of a datetime, its date), if any.

        A class attribute, so not stored: an event's stored state is its instance
        ``__dict__``, which holds its dataclass fields only.
        """

        @property
        def occurred_on(self) -> date | None:
            """The business date of the event: when it happened in the world."""
            if self.DATE_FIELD is None:
                return None
            value = getattr(self, self.DATE_FIELD)
            return value.date() if isinstance(value, datetime) else value

        def mutate(self, aggregate: Any) -> Any:
            aggregate = super().mutate(aggregate)
            aggregate.chain_head = self.chain_hash
            return aggregate

    class Created(Event, Aggregate.Created):
        def mutate(self, aggregate: Any) -> Any:
            aggregate = super().mutate(aggregate)
            aggregate.chain_head = self.chain_hash
            return aggregate

    @classmethod
    def _create(  # type: ignore[override]
        cls, event_class: type[Any], *, id: UUID, **kwargs: Any
    ) -> Self:
        kwargs.setdefault("timestamp", event_class.create_timestamp())
        draft = event_class(
            originator_topic=get_topic(cls),
            originator_id=id,
            originator_version=cls.INITIAL_VERSION,
            chain_hash="",
            **kwargs,
        )
        stamp = _stamp(draft, kwargs)
        chain_hash = chain.link(chain.GENESIS, _content_of(draft))
        aggregate = super()._create(event_class, id=id, chain_hash=chain_hash, **kwargs)
        for event in aggregate._pending_events:  # the created event, as the library made it
            _restamp(event, stamp)
        return aggregate

    def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None:
        kwargs.setdefault("timestamp", event_class.create_timestamp())
        draft = event_class(
            originator_id=self.id,
            originator_version=self.version + 1,
            chain_hash="",
            **kwargs,
        )
        stamp = _stamp(draft, kwargs)
        new_event = dataclasses.replace(
            draft, chain_hash=chain.link(self.chain_head, _content_of(draft))
        )
        _restamp(new_event, stamp)
        new_event.mutate(self)
        self._pending_events.append(new_event)


def _stamp(event: Any, fields: dict[str, Any]) -> dict[str, str]:
    """Put who records it, and why, on a new event (before its hash is computed): the
    actor in force (core.actor), and for a fact without a reason from the request, its
    own ``reason``. What was stamped is returned, to stamp a copy alike."""
    actor = acting.get()
    stamp = {"recorded_by": actor.recorded_by}
    reason = actor.reason
    if reason is None and event.BODY_REASON and isinstance(fields.get("reason"), str):
        reason = fields["reason"]
    if reason is not None:
        stamp["recorded_reason"] = reason
    _restamp(event, stamp)
    return stamp


def _restamp(event: Any, stamp: dict[str, str]) -> None:
    for name, value in stamp.items():
        object.__setattr__(event, name, value)  # the event is frozen once made
