"""The ledger: huikuan's event-sourced application, a thin service over the accounts.

Each command is checked against the customer's account and recorded as events in
one atomic save. Two writers to one account never lose a write: the store refuses
the second save of the same version (optimistic concurrency), and the ledger then
reads the account again and decides afresh.

Storage is chosen by the environment the adapters build (see ``adapters.storage``):
SQLite or PostgreSQL, optionally encrypted. The application's name is pinned, so
the tables keep their names whatever the class is called.
"""

from __future__ import annotations

import contextlib
import copy
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

import structlog
from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.persistence import IntegrityError, JSONTranscoder, PersistenceError

from huikuan.core import chain
from huikuan.core.account import Account, account_id
from huikuan.core.account.events import Decision
from huikuan.core.actor import Actor, acting_as
from huikuan.core.commands import Command, RegisterCustomer
from huikuan.core.errors import Conflict, DomainError, InvalidCommand, NotFound
from huikuan.core.handlers import handle, handler_for
from huikuan.core.integrity import Guard, refused
from huikuan.core.transcodings import register_all

log = structlog.get_logger("huikuan.ledger")
T = TypeVar("T")

# Optimistic retries per command. Each failed attempt means another writer succeeded,
# so the system as a whole always progresses; the bound only stops a pathological loop.
MAX_ATTEMPTS = 200


@dataclass(frozen=True)
class Outcome:
    """What a command did: ``recorded`` is False for an idempotent repeat."""

    account: Account
    recorded: bool
    events: tuple[Any, ...] = ()
    """The events recorded: what to answer from (``account`` is shared once saved)."""


@dataclass(frozen=True)
class HistoryEntry:
    """One event of an account, as the history view shows it."""

    version: int
    type: str
    occurred_on: date | None
    recorded_at: datetime
    data: dict[str, Any]
    recorded_by: str | None = None
    """Who recorded it (core.actor); None for an event stored before this was kept."""
    reason: str | None = None
    """The reason the request gave, if any."""


_ENVELOPE = ("originator_id", "originator_version", "timestamp", "originator_topic",
             "recorded_by", "recorded_reason")


def event_data(event: Any) -> dict[str, Any]:
    """An event's own fields, without the envelope the store keeps for every event (who
    recorded it and why are given beside them: :func:`recorded`)."""
    return {k: v for k, v in vars(event).items() if k not in _ENVELOPE}


def recorded(event: Any) -> dict[str, str | None]:
    """``recorded_by`` and ``reason`` of an event (None for one stored before them)."""
    return {"recorded_by": getattr(event, "recorded_by", None),
            "reason": getattr(event, "recorded_reason", None)}


def master_answer(account: Account, on: date | None) -> dict[str, Any]:
    """The master data an answer gives: the fields a change may set, the dated payment
    terms after the registration's, and the registration date."""
    return {"customer_id": account.customer_id, "currency": account.currency,
            **account.master_data(on), "payment_terms_changes": account.terms_changes(),
            "registered_on": account.registered_on}


class WrongCipherKey(Exception):
    """The store's events cannot be read with the cipher key given (or without one)."""


def _opens(state: bytes, cipher: Any) -> bool:
    """Whether a stored event's state reads: decrypts with ``cipher`` (AES-GCM checks
    the key), or without one is JSON."""
    try:
        if cipher is not None:
            cipher.decrypt(state)
        else:
            json.loads(state)
    except Exception:  # the ciphers raise ValueError or their own errors; JSON, ValueError
        return False
    return True


class TooMuchContention(DomainError):
    """The account kept changing under this command; the client may try again."""


def project(aggregate: Any, events: Iterable[Any]) -> Any:
    """The library's ``project_aggregate`` without its per-event ``isinstance`` against
    a runtime Protocol, which costs more than applying the event does."""
    for domain_event in events:
        aggregate = domain_event.mutate(aggregate)
    return aggregate


class Ledger(Application[UUID]):
    """Records facts on customer accounts and answers for one account's state and history."""

    name = "huikuan"
    snapshotting_intervals = {Account: 100}  # noqa: RUF012 (the library's class attribute)
    env = {  # noqa: RUF012
        "AGGREGATE_CACHE_MAXSIZE": "2000",
        "ORIGINATOR_ID_TYPE": "uuid",
    }

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        # Every aggregate kept in the store must have its topics registered before any
        # event is read: a rebuild or the event feed meets the key ring and the cycle log
        # too, whichever adapter opened the ledger. (Imported here: both modules use Ledger.)
        from huikuan.core import access, anchors, cycle, users  # noqa: F401

        super().__init__(env=env)
        # HUIKUAN_AUDIT_KEY keys the hash chain of the events recorded from now on (and
        # signs the anchors); without it hashes are plain SHA-256 (see core.chain).
        self.audit_key: str | None = self.env.get("HUIKUAN_AUDIT_KEY") or None
        chain.use_key(self.audit_key)
        self.guard = Guard(self)
        # The library fast-forwards a cached aggregate under a lock but copies it outside
        # that lock; two threads reading one account at once could copy it mid-update.
        # Reads of one aggregate therefore take turns (striped locks, a fixed number).
        self._read_locks = [threading.Lock() for _ in range(64)]

    def check_cipher(self) -> None:
        """Raise ``WrongCipherKey`` unless this ledger reads the store's events: the
        first or the latest stored event opens with its cipher key, or is JSON without
        one (either, so that one damaged event is left for the audit to name).

        Without this check a wrong key would make every account look damaged (its
        events cannot be folded) instead of saying what is wrong.
        """
        last = self.recorder.max_notification_id()
        if not last:
            return  # an empty store opens with any key
        states = [n.state for start in {1, last}
                  for n in self.recorder.select_notifications(start=start, limit=1)]
        cipher = self.mapper.cipher
        if any(_opens(state, cipher) for state in states):
            return
        if cipher is None:
            msg = ("this store's events are encrypted: set HUIKUAN_CIPHER_KEY to the key "
                   "they were written with")
        else:
            msg = ("HUIKUAN_CIPHER_KEY does not open this store's events: they were "
                   "written with another key, or without one")
        raise WrongCipherKey(msg)

    decide_after_facts: Callable[[Account], None] | None = None
    """Asks the policy, when facts arrive, what they change (the invoices' class
    schedules; once a cycle has run, risk, a fall on the ladder or a supply hold, the
    place in the worklist, the limitation deadlines: core.after_facts) and records it on
    the account before it is saved, so facts and decisions are one save (the bootstrap
    sets it to the cycle's policy; a bare ledger records the facts alone)."""

    def decide_for_facts(self, account: Account) -> None:
        """Let the policy decide after the account's pending events, if any is not a
        decision already (the cycle decides for itself)."""
        if self.decide_after_facts is not None and any(
            not isinstance(event, Decision) for event in account.pending_events
        ):
            self.decide_after_facts(account)

    def get(self, aggregate_id: UUID, *, copy: bool = True) -> Any:
        """The aggregate as it stands now (a private copy unless ``copy`` is False)."""
        with self._read_locks[hash(aggregate_id) % len(self._read_locks)]:
            return self._load(aggregate_id, deepcopy_from_cache=copy)

    def _load(self, aggregate_id: UUID, **options: Any) -> Any:
        """The repository's aggregate; one that cannot be folded, or an anchored one now
        gone, is ``Tampered`` (a clear refusal, not an error from deep in a fold)."""
        try:
            return self.repository.get(aggregate_id, projector_func=project, **options)
        except AggregateNotFoundError:
            gone = self.guard.gone(aggregate_id, f"aggregate {aggregate_id}")
            if gone is not None:
                raise gone from None
            raise
        except PersistenceError:
            raise  # the database, not the data: let it surface as it is
        except Exception as error:  # any damage may surface as any error
            raise refused(f"aggregate {aggregate_id}",
                          f"its events cannot be folded ({type(error).__name__})") from None

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        # The library snapshots at every multiple of the interval a save passes, each time
        # rebuilding the aggregate from the store: quadratic for a long account saved at
        # once (an import, a demo). One snapshot of the saved aggregate itself, at its
        # final version, serves as well.
        if not (self.snapshots and self.snapshotting_intervals):
            return
        crossed: dict[UUID, Any] = {}
        for event in processing_event.events:
            aggregate = processing_event.aggregates.get(event.originator_id)
            interval = self.snapshotting_intervals.get(type(aggregate)) if aggregate else None
            if interval and event.originator_version % interval == 0:
                crossed[event.originator_id] = aggregate
        for aggregate in crossed.values():
            snapshot_class = getattr(type(aggregate), "Snapshot", type(self).snapshot_class)
            assert snapshot_class is not None
            self.snapshots.put([snapshot_class.take(aggregate)])

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_all(transcoder)

    # ---- write side

    def register_customer(self, command: RegisterCustomer, *,
                          by: Actor | None = None) -> Outcome:
        """Open the customer's account, or report the existing one for a repeat.
        ``by``: who records it (default: the actor in force, core.actor)."""
        with acting_as(by):
            return self._register_customer(command)

    def _register_customer(self, command: RegisterCustomer) -> Outcome:
        request = command.model_dump(exclude={"registered_on"})
        bound = log.bind(customer_id=command.customer_id, command="register")
        for _ in range(MAX_ATTEMPTS):
            try:
                existing = self.account(command.customer_id)
            except NotFound:
                pass
            else:
                if existing.is_same_registration(request):
                    bound.info("command.repeated")
                    return Outcome(existing, recorded=False)
                msg = f"customer {command.customer_id!r} was registered with different details"
                bound.info("command.refused", reason="conflict")
                raise Conflict(msg, field="customer_id")
            registered_on = command.registered_on or datetime.now(
                ZoneInfo(command.timezone)
            ).date()
            account = Account.register(registered_on=registered_on, **request)
            try:
                self.save(account)
            except IntegrityError:
                continue  # registered by someone else meanwhile: compare with theirs
            bound.info("command.recorded", version=account.version)
            return Outcome(account, recorded=True)
        raise TooMuchContention("the account is busy; try again")

    def execute(self, customer_id: str, command: Command, *,
                by: Actor | None = None) -> Outcome:
        """Record ``command`` on the customer's account (or recognise a repeat)."""
        handler = handler_for(command)

        def change(account: Account) -> bool:
            return handler(account, command)

        return self.change(customer_id, handler.__name__, change, by=by)

    def execute_many(self, customer_id: str, commands: list[Command], *,
                     by: Actor | None = None) -> Outcome:
        """Record several commands on one account in a single atomic save.

        All or nothing: if one is refused, none is recorded. Repeats among them are
        skipped, so a batch can be sent again safely. Used by importers and the demo.
        """

        def change(account: Account) -> bool:
            recorded = False
            for command in commands:
                recorded = handle(account, command) or recorded
            return recorded

        return self.change(customer_id, "batch", change, by=by)

    def change(
        self, customer_id: str, name: str, change: Callable[[Account], bool],
        account: Account | None = None, *, by: Actor | None = None,
    ) -> Outcome:
        """Apply ``change`` to the account and save, retrying on a concurrent write.

        ``by``: who records it (default: the actor in force, core.actor); every event
        of the save is stamped with it, the decisions made after its facts too (the
        plugin that made each is named in the decision itself).

        ``change`` returns False when there is nothing to record (a repeat). The first
        try starts from the account as this process last saved it, without reading the
        store (no copy, no query): if another process wrote since, the save finds the
        version taken, and every retry, like a refusal on that first try, starts from
        the store's latest. ``account``, checked out by the caller, is used instead.
        """
        with acting_as(by):
            return self._change(customer_id, name, change, account)

    def _change(
        self, customer_id: str, name: str, change: Callable[[Account], bool],
        account: Account | None,
    ) -> Outcome:
        bound = log.bind(customer_id=customer_id, command=name)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            maybe_behind = False
            if account is None or attempt > 1:
                maybe_behind = attempt == 1
                account = self._checkout_account(customer_id, latest=attempt > 1)
            try:
                recorded = change(account)
                if recorded:
                    self._check_reasons(account)
            except DomainError as error:
                if maybe_behind:
                    continue  # refused by what may be old news: decide on the latest
                bound.info("command.refused", reason=type(error).__name__, field=error.field)
                raise
            if not recorded:
                bound.info("command.repeated")
                answer = copy.deepcopy(account)
                self.checkin(account)
                return Outcome(answer, recorded=False)
            self.decide_for_facts(account)
            events = tuple(account.pending_events)
            try:
                self.save_checked(account)
            except IntegrityError:
                bound.debug("command.retried", attempt=attempt)
                continue
            self.checkin(account)
            bound.info("command.recorded", version=account.version, attempts=attempt)
            return Outcome(account, recorded=True, events=events)
        raise TooMuchContention("the account is busy; try again")

    require_reason: Callable[[], frozenset[str]] = staticmethod(frozenset)
    """The kinds of fact that need a reason (``[audit] require_reason``; the bootstrap
    sets where to read them): a fact of one of them recorded without a reason is
    refused, 422 on ``reason``, and nothing is recorded."""

    def _check_reasons(self, account: Account) -> None:
        required = self.require_reason()
        if not required:
            return
        for event in account.pending_events:
            kind = getattr(event, "KIND", "")
            if kind in required and getattr(event, "recorded_reason", None) is None:
                msg = (f"a reason is required for a {kind.replace('_', ' ')} "
                       "(the X-Reason header or the body's reason; [audit] require_reason)")
                raise InvalidCommand(msg, field="reason")

    def _checkout_account(self, customer_id: str, *, latest: bool) -> Account:
        try:
            account: Account = self.checkout(account_id(customer_id), latest=latest,
                                             what=f"customer {customer_id!r}")
        except AggregateNotFoundError:
            raise NotFound(f"no customer {customer_id!r}", field="customer_id") from None
        return account

    def checkout(self, aggregate_id: UUID, *, latest: bool = True, what: str = "") -> Any:
        """An aggregate to change, owned by the caller until ``checkin``.

        It is taken out of the cache, so no reader copies it half-changed and no other
        writer in this process shares it (theirs comes from the store); nothing is
        copied. With ``latest`` False, the cached state is used as this process last
        saved it, without asking the store whether another process wrote since.
        """
        cache = self.repository.cache
        with self._read_locks[hash(aggregate_id) % len(self._read_locks)]:
            # Trust what the store holds only while its chain does (the whole chain the
            # first time, then one look at its head), so nothing is written on a tampered
            # aggregate.
            self.guard.vouch(aggregate_id, what or f"aggregate {aggregate_id}")
            if not latest and cache is not None:
                try:
                    return cache.get(aggregate_id, evict=True)
                except KeyError:
                    pass
            aggregate = self._load(aggregate_id, deepcopy_from_cache=False)
            if cache is not None:
                with contextlib.suppress(KeyError):
                    cache.get(aggregate_id, evict=True)
            return aggregate

    def save_checked(self, aggregate: Any) -> None:
        """Save a checked-out aggregate and tell the guard what this process wrote, so
        its next look at the aggregate need not read those events back."""
        events = list(aggregate.pending_events)
        self.save(aggregate)
        self.guard.wrote(aggregate.id, events)

    def checkin(self, aggregate: Any) -> None:
        """Give back a checked-out aggregate, saved or unchanged, for the next change."""
        cache = self.repository.cache
        if cache is not None and not aggregate.pending_events:
            with self._read_locks[hash(aggregate.id) % len(self._read_locks)]:
                cache.put(aggregate.id, aggregate)

    # ---- read side: one account

    def account(self, customer_id: str) -> Account:
        """The account as it stands now."""
        try:
            account: Account = self.get(account_id(customer_id))
        except AggregateNotFoundError:
            raise NotFound(f"no customer {customer_id!r}", field="customer_id") from None
        assert isinstance(account, Account)
        return account

    def master_data(self, customer_id: str, on: date | None = None) -> dict[str, Any]:
        """The customer's master data now (core.account.master), payment terms as in
        force on ``on``: read from the account as cached, copying only these fields."""
        return self._read_cached(customer_id, lambda account: master_answer(account, on))

    def charges(self, customer_id: str, on: date) -> dict[str, Any]:
        """Interest and fees owed on ``on`` (core.interest.charges), from the account as
        cached."""
        from huikuan.core.interest import charges

        return self._read_cached(customer_id, lambda account: charges(account, on))

    def _read_cached(self, customer_id: str, read: Callable[[Account], T]) -> T:
        """``read`` of the account as cached, not copied: ``read`` only reads."""
        aggregate_id = account_id(customer_id)
        with self._read_locks[hash(aggregate_id) % len(self._read_locks)]:
            try:
                account: Account = self._load(aggregate_id, deepcopy_from_cache=False)
            except AggregateNotFoundError:
                raise NotFound(f"no customer {customer_id!r}", field="customer_id") from None
            return read(account)

    def has_customer(self, customer_id: str) -> bool:
        try:
            self.account(customer_id)
        except NotFound:
            return False
        return True

    def _events(self, customer_id: str) -> list[Any]:
        """The account's events, for its history: only if its stored chain holds."""
        aggregate_id = account_id(customer_id)
        try:
            events = list(self.events.get(aggregate_id))
        except PersistenceError:
            raise
        except Exception as error:  # any damage may surface as any error
            raise refused(f"customer {customer_id!r}",
                          f"its events cannot be read ({type(error).__name__})") from None
        if not events:
            gone = self.guard.gone(aggregate_id, f"customer {customer_id!r}")
            if gone is not None:
                raise gone
            raise NotFound(f"no customer {customer_id!r}", field="customer_id")
        # Every event is shown: check the whole chain, not only what is new since the
        # last look (which still shows events this process read that are gone).
        self.guard.vouch(aggregate_id, f"customer {customer_id!r}")
        self.guard.check(aggregate_id, f"customer {customer_id!r}")
        return events

    def account_as_of(self, customer_id: str, as_of: date) -> Account:
        """The account as it stood at the end of business date ``as_of``.

        Built from the events whose business date is on or before ``as_of``, in the
        order they were recorded; a payment back-dated into the past counts. The
        registration always counts: it frames the account.
        """
        events = self._events(customer_id)
        selected = [
            e for e in events
            if e.originator_version == 1 or e.occurred_on is None or e.occurred_on <= as_of
        ]
        account = Account.replay(selected)
        assert account is not None
        return account

    def account_as_recorded(self, customer_id: str, at: datetime) -> Account:
        """The account exactly as the ledger knew it at ``at`` (recording time)."""
        events = self._events(customer_id)
        known = [e for e in events if e.timestamp <= at]
        if not known:
            raise NotFound(f"customer {customer_id!r} was not yet registered at {at}")
        account: Account = self._load(account_id(customer_id),
                                      version=known[-1].originator_version)
        assert isinstance(account, Account)
        return account

    def history(self, customer_id: str, as_of: date | None = None,
                recorded_by: str | None = None) -> list[HistoryEntry]:
        """Every event of the account in order; with ``as_of``, those that had happened;
        with ``recorded_by``, those that one recorded."""
        entries = []
        for event in self._events(customer_id):
            if recorded_by is not None and getattr(event, "recorded_by", None) != recorded_by:
                continue
            occurred_on = event.occurred_on
            if (
                as_of is not None
                and event.originator_version != 1
                and occurred_on is not None
                and occurred_on > as_of
            ):
                continue
            data = event_data(event)
            entries.append(
                HistoryEntry(
                    version=event.originator_version,
                    type=type(event).__name__,
                    occurred_on=occurred_on,
                    recorded_at=event.timestamp,
                    data=data,
                    **recorded(event),
                )
            )
        return entries

    # ---- read side: the whole store

    def account_ids(self) -> Iterator[UUID]:
        """Every account in the store, in the order they were registered."""
        topic = Account.Registered.TOPIC
        last = 0
        while True:
            page = self.recorder.select_notifications(
                start=last, limit=1000, topics=[topic], inclusive_of_start=False
            )
            if not page:
                return
            for notification in page:
                originator_id = notification.originator_id
                yield originator_id if isinstance(originator_id, UUID) else UUID(
                    str(originator_id)
                )
            last = page[-1].id
