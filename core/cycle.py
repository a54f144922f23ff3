"""The daily cycle: for a business date, ask the plugins what should happen and record it.

For each account, in order: commitments (promises kept or broken, instalments
missed), late interest, classes (each open invoice's schedule, and the class on the
date), risk, and the escalation ladder (stage, supply hold, messages queued); then
what the read views need from policy, the limitation deadlines and the place in the
worklist (see ``core.decisions``). Each decision is recorded as an event naming the
plugin, its version and what it was based on, in one atomic save per account; the
same date again finds nothing new to record. A date before the last run is refused,
and so is a run while another is under way on the same store (any date, any
process): the cycle holds a lock it is given for the whole run.

A plugin that raises is reported with the account and the cycle goes on.

An account is also decided again when facts arrive, between cycles
(``decide_after_facts``, see ``core.after_facts``): the ledger calls it before it saves
a command's facts, so a payment releases a hold and ranks the account again at once,
and a new invoice has its class schedule. A rise on the ladder, and every message,
stays the cycle's.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol
from uuid import NAMESPACE_URL, UUID, uuid5

import structlog
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from huikuan.core import after_facts, decisions
from huikuan.core.account import CLASSES, GRADES, STAGES, Account
from huikuan.core.actor import CYCLE, acting_as
from huikuan.core.aggregate import ChainedAggregate
from huikuan.core.documents import Statement, recorded
from huikuan.core.errors import Conflict, InvalidCommand, Tampered
from huikuan.core.interest import demanded_charges
from huikuan.core.ledger import Ledger
from huikuan.core.money import money
from huikuan.core.plugin import (
    AccountView,
    CommitmentOutcome,
    EscalationDecision,
    InterestCharge,
    InterestTerms,
    InvoiceView,
    MessageDraft,
    MessageRequest,
    RenderedMessage,
    RiskAssessment,
    Signal,
)
from huikuan.core.policy import PluginFailure, PluginRef, PolicyHost, huikuan_version, view_of
from huikuan.core.turns import Turn, in_this_process

log = structlog.get_logger("huikuan.cycle")

CYCLE_LOG_ID: UUID = uuid5(NAMESPACE_URL, "huikuan:cycle-log")
# Raised when the cycle starts recording decisions it did not record before: the
# policy it applies is then another, so its first run reviews every account once
# (a store written before records them for all its accounts).
RECORDS = "views-1 classes-1"  # views-1: limitation deadlines and worklist priorities
# (core.decisions); classes-1: a class schedule for every open invoice (core.classes)


class CycleLog(ChainedAggregate):
    """The record of the daily cycles run: which business dates, and what they did."""

    TOPIC = "huikuan:CycleLog"

    class Event(ChainedAggregate.Event):
        TOPIC = "huikuan:CycleLog.Event"

    class Created(ChainedAggregate.Created):
        TOPIC = "huikuan:CycleLog.Created"

        def apply(self, log: CycleLog) -> None:
            log.last_as_of = None

    class CycleCompleted(Event):
        TOPIC = "huikuan:CycleLog.CycleCompleted"
        # v2 added the fingerprint of the policy applied, and whether every account was
        # reviewed (v1 cycles all were) or only those due.
        class_version = 2
        as_of: date
        accounts: int
        counts: dict[str, int]
        failures: int
        policy: str
        reviewed_all: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["policy"] = ""
            state["reviewed_all"] = True

        @property
        def occurred_on(self) -> date:
            return self.as_of

        def apply(self, log: CycleLog) -> None:
            log.last_as_of = self.as_of
            log.last_policy = self.policy

    # (A class attribute, so a log restored from before v2 has it too.)
    last_policy: str = ""

    def __init__(self) -> None:
        self.last_as_of: date | None = None

    @classmethod
    def start(cls) -> CycleLog:
        return cls._create(cls.Created, id=CYCLE_LOG_ID)


@dataclass
class CycleSummary:
    """``accounts``: all the accounts the cycle covered; ``accounts_reviewed``: those it
    looked at (the others had nothing due, as their plugins said); ``accounts_changed``:
    those on which something was decided."""

    as_of: date
    accounts: int = 0
    accounts_reviewed: int = 0
    accounts_changed: int = 0
    reviewed_all: bool = True
    counts: Counter[str] = field(default_factory=Counter)
    failures: list[dict[str, str]] = field(default_factory=list)

    def merge(self, other: CycleSummary) -> None:
        """Add what another process reviewed of the same run."""
        self.accounts_reviewed += other.accounts_reviewed
        self.accounts_changed += other.accounts_changed
        self.counts.update(other.counts)
        self.failures.extend(other.failures)


class Helpers(Protocol):
    """Other processes that review a share of a run's accounts (a port: the adapters
    give one that starts processes on the same store and policy). The run's process
    holds the lock and records the run's completion once all have finished."""

    processes: int
    """How many processes review a run, this one included."""
    from_accounts: int
    """Fewer accounts to review than this: this process alone (starting others costs)."""

    def review(self, as_of: date, shards: list[list[UUID]], *, due_only: bool,
               policy: str) -> AbstractContextManager[Callable[[], list[CycleSummary]]]:
        """Start reviewing ``shards``, one per other process, under the policy whose
        fingerprint is ``policy`` (a process that finds another refuses: plugins.toml
        changed since this one read it); the context gives a call that waits for them
        and returns their summaries (raising if one failed), and on leaving it stops
        any still running."""
        ...


def _message_id(customer_id: str, as_of: date, stage: str, kind: str, channel: str) -> str:
    key = f"{customer_id}|{as_of.isoformat()}|{stage}|{kind}|{channel}"
    return "m-" + hashlib.sha256(key.encode()).hexdigest()[:24]


_jsonable = decisions.jsonable


class CycleRunning(Conflict):
    """Another cycle is under way on this store: this one was refused, nothing recorded."""


CycleLock = Turn
"""One cycle at a time: entered for the whole run, it yields whether this run may go on
(False: another holds it). A port: the adapters give one shared by the processes on a
store (``huikuan.adapters.locks.cycle_lock``)."""

# Without a lock given, one run at a time in this process.
_PROCESS_TURN = in_this_process()


class ReviewSchedule(Protocol):
    """Where the cycle finds the accounts due for review: a port, answered by the
    projections (an index of each account's next review date)."""

    def accounts_due(self, as_of: date) -> tuple[list[UUID], int]:
        """The accounts due for review on ``as_of``, and how many accounts there are."""
        ...


class DailyCycle:
    """Runs the collection policy over every account for one business date.

    Each account is reviewed when a fact was recorded for it since its last review, or
    when the date its plugins named has come (``huikuan_next_review``); on other days
    nothing can change for it, so the cycle's cost follows the accounts it acts on.
    Without a ``schedule``, or when a plugin cannot name dates, or when the policy has
    changed since the last cycle, or with ``review_all``, every account is reviewed.
    """

    def __init__(self, ledger: Ledger, host: PolicyHost,
                 schedule: ReviewSchedule | None = None,
                 lock: CycleLock | None = None, helpers: Helpers | None = None) -> None:
        self.ledger = ledger
        self.host = host
        self.schedule = schedule
        self.lock = lock or _PROCESS_TURN
        self.helpers = helpers

    # ---- the run

    def _log(self) -> CycleLog | None:
        try:
            cycle_log: CycleLog = self.ledger.get(CYCLE_LOG_ID)
        except AggregateNotFoundError:
            return None
        return cycle_log

    def fingerprint(self) -> str:
        """The policy in force (the host's fingerprint) and what the cycle records."""
        document = f"{self.host.fingerprint()}|{RECORDS}"
        return hashlib.sha256(document.encode()).hexdigest()[:16]

    def last_as_of(self) -> date | None:
        cycle_log = self._log()
        return cycle_log.last_as_of if cycle_log else None

    def _accounts(self, as_of: date, review_all: bool) -> tuple[Iterable[UUID], int | None]:
        """The accounts to review and how many there are in all (None: all of them)."""
        why = self._why_review_all(review_all)
        if why is not None or self.schedule is None:
            log.info("cycle.reviews_all", reason=why)
            return self.ledger.account_ids(), None
        return self.schedule.accounts_due(as_of)

    def _why_review_all(self, review_all: bool) -> str | None:
        if review_all:
            return "asked to"
        if self.schedule is None:
            return "no review schedule"
        cycle_log = self._log()
        if cycle_log is None:
            return "first cycle"
        if cycle_log.last_policy != self.fingerprint():
            return "policy changed"
        undated = self.host.daily_reviewers()
        if undated:
            return "plugins without huikuan_next_review: " + ", ".join(undated)
        return None

    def run(self, as_of: date, *, allow_future: bool = False,
            review_all: bool = False) -> CycleSummary:
        """Run the cycle for ``as_of``. Raises :class:`CycleRunning` when another cycle
        holds the lock: two at once, for different dates, would each decide from what
        the other had not yet recorded (a stage set back, a letter queued twice)."""
        with self.lock() as acquired:
            if not acquired:
                msg = ("another cycle is running on this store; "
                       "run this one again when it has finished")
                raise CycleRunning(msg, field="as_of")
            # Every decision of the cycle says the cycle recorded it (core.actor), whoever
            # asked for the run.
            with acting_as(CYCLE):
                return self._run(as_of, allow_future=allow_future, review_all=review_all)

    def _run(self, as_of: date, *, allow_future: bool, review_all: bool) -> CycleSummary:
        # Read under the lock: no other cycle can complete a later date meanwhile.
        last = self.last_as_of()
        if last is not None and as_of < last:
            msg = f"the cycle has run for {last}; a cycle for an earlier date ({as_of}) is refused"
            raise InvalidCommand(msg, field="as_of")
        # Somewhere on earth it is already tomorrow; later than that is a mistake that
        # would lock today's cycle out (dates only move forward) and send real letters.
        latest_today = (datetime.now(UTC) + timedelta(hours=14)).date()
        if as_of > latest_today and not allow_future:
            msg = f"{as_of} is in the future; the cycle runs for today or earlier dates"
            raise InvalidCommand(msg, field="as_of")
        accounts, total = self._accounts(as_of, review_all)
        ids = list(accounts)
        helpers = self.helpers
        if helpers is not None and len(ids) >= helpers.from_accounts and helpers.processes > 1:
            # Interleaved, so each process gets its share of the large accounts too.
            shards = [ids[k::helpers.processes] for k in range(helpers.processes)]
            with helpers.review(as_of, shards[1:], due_only=total is not None,
                                policy=self.fingerprint()) as others:
                summary = self.review(as_of, shards[0], due_only=total is not None)
                for other in others():
                    summary.merge(other)
        else:
            summary = self.review(as_of, ids, due_only=total is not None)
        summary.accounts = summary.accounts_reviewed if total is None else total
        if last is None or as_of > last:
            self._record_completed(summary)
        log.info("cycle.completed", as_of=as_of.isoformat(), accounts=summary.accounts,
                 reviewed=summary.accounts_reviewed, changed=summary.accounts_changed,
                 failures=len(summary.failures))
        return summary

    def review(self, as_of: date, accounts: Iterable[UUID], *, due_only: bool,
               going_on: Callable[[], bool] = lambda: True) -> CycleSummary:
        """Review ``accounts`` for ``as_of`` (``due_only``: those still due for review),
        recording what the plugins decide on each: the body of a run, which the caller
        holds the lock for; helper processes review their share of a run with it, and
        stop between two accounts when ``going_on`` says the run is over."""
        summary = CycleSummary(as_of=as_of, reviewed_all=not due_only)
        for aggregate_id in accounts:
            if not going_on():
                msg = "the cycle's run stopped: its process is gone"
                raise CycleRunning(msg, field="as_of")
            try:
                account: Account = self.ledger.checkout(aggregate_id)
            except Tampered as error:  # refused until restored; the others go on
                summary.failures.append({"customer_id": str(aggregate_id), "plugin": "",
                                         "hook": "", "error": error.message})
                log.error("cycle.account_tampered", account=str(aggregate_id))
                continue
            if due_only and not account.due_for_review(as_of):
                self.ledger.checkin(account)
                continue  # reviewed since the schedule was read
            summary.accounts_reviewed += 1
            counts: Counter[str] = Counter()

            def decide(account: Account, counts: Counter[str] = counts) -> bool:
                counts.clear()  # a retry after a concurrent write decides afresh
                if account.reviewed_on is not None and account.reviewed_on > as_of:
                    # A cycle for a later date decided for it (one that stopped before
                    # completing): deciding for an earlier one would set it back.
                    return False
                self.decide(account, as_of, counts)
                for_views = self.decide_for_views(account, as_of)
                scheduled = self.schedule_review(account, as_of)
                return bool(counts) or for_views or scheduled

            try:
                outcome = self.ledger.change(account.customer_id, "cycle", decide, account)
            except PluginFailure as failure:
                summary.failures.append({
                    "customer_id": account.customer_id, "plugin": failure.plugin.name,
                    "hook": failure.hook, "error": repr(failure.error),
                })
                log.warning("cycle.plugin_failed", customer_id=account.customer_id,
                            plugin=failure.plugin.name, hook=failure.hook)
                continue
            except Exception as error:  # one account must never stop the cycle for all
                summary.failures.append({
                    "customer_id": account.customer_id, "plugin": "", "hook": "",
                    "error": repr(error),
                })
                log.error("cycle.account_failed", customer_id=account.customer_id,
                          error=type(error).__name__)
                continue
            if outcome.recorded and counts:
                summary.accounts_changed += 1
                summary.counts.update(counts)
        return summary

    def _record_completed(self, summary: CycleSummary) -> None:
        for _ in range(50):
            try:
                cycle_log: CycleLog = self.ledger.get(CYCLE_LOG_ID)
            except AggregateNotFoundError:
                cycle_log = CycleLog.start()
            if cycle_log.last_as_of is not None and cycle_log.last_as_of >= summary.as_of:
                return
            cycle_log.trigger_event(
                CycleLog.CycleCompleted, as_of=summary.as_of, accounts=summary.accounts,
                counts=dict(summary.counts), failures=len(summary.failures),
                policy=self.fingerprint(), reviewed_all=summary.reviewed_all,
            )
            try:
                self.ledger.save(cycle_log)
                return
            except IntegrityError:
                continue

    # ---- one account

    def decide(self, account: Account, as_of: date, counts: Counter[str]) -> None:
        """Ask the plugins about one account and record their decisions on it."""
        self._commitments(account, as_of, counts)
        self._interest_terms(account, as_of, counts)
        self._interest(account, as_of, counts)
        self._classes(account, as_of, counts)
        self._risk(account, as_of, counts)
        self._escalation(account, as_of, counts)
        self._statement(account, as_of, counts)

    def _statement(self, account: Account, as_of: date, counts: Counter[str]) -> None:
        # The periodic statement of account (定期对账), when the policy says it is due:
        # its figures drawn from the ledger as of its dates, recorded and e-mailed.
        found = self.host.first("huikuan_statement_due", account=view_of(account),
                                as_of=as_of)
        statement_id = f"auto-{as_of.isoformat()}"
        if not found or statement_id in account.statements:
            return
        from huikuan.core.printing import statement_for

        drawn = statement_for(self.ledger, self.host, account.customer_id, as_of, found[0])
        if account.issue_statement(statement_id=statement_id, as_of=as_of,
                                   from_on=drawn.from_on, send=True,
                                   figures=recorded(drawn.figures())):
            queue_statement(self.host, account, statement_id, drawn, as_of)
            counts["statement_issued"] += 1

    def decide_for_views(self, account: Account, as_of: date) -> bool:
        """Ask the plugins what the read views need (limitation deadlines, the place in
        the worklist) and record what changed since last decided. True if recorded."""
        view = view_of(account)  # neither decision changes what the other is asked
        deadlines = self._deadlines(account, view, as_of)
        priority = self._priority(account, view, as_of)
        return deadlines or priority

    def _deadlines(self, account: Account, view: AccountView, as_of: date,
                   only: Collection[str] | None = None) -> bool:
        """Ask again for the open invoices (``only`` these, if given)."""
        recorded = decisions.recorded_deadlines(account)
        by_plugin: dict[PluginRef, dict[str, date | None]] = {}
        for invoice in view.open_invoices():
            if only is not None and invoice.invoice_id not in only:
                continue
            found = self.host.first("huikuan_limitation_deadline", invoice=invoice,
                                    account=view)
            deadline, ref = found if found else (None, _core())
            if invoice.invoice_id in recorded and recorded[invoice.invoice_id] == deadline:
                continue
            by_plugin.setdefault(ref, {})[invoice.invoice_id] = deadline
        for ref, changed in by_plugin.items():
            # What each deadline ran from: the invoice's due date, and the account's
            # facts (plans, promises, acknowledgments, payments) as recorded before it.
            based_on = {"due_on": {i.invoice_id: i.due_on for i in view.invoices
                                   if i.invoice_id in changed}}
            account.record_decision(
                decisions.DeadlinesDecided, decided_on=as_of, plugin=ref.name,
                plugin_version=ref.version, based_on=_jsonable(based_on), deadlines=changed)
        return bool(by_plugin)

    def _priority(self, account: Account, view: AccountView, as_of: date) -> bool:
        if view.undisputed_overdue(as_of) <= 0 and not view.demandable():
            return False  # not on the worklist whatever a plugin says
        found = self.host.first("huikuan_worklist_priority", account=view, as_of=as_of)
        if found:
            chosen, ref = found
            priority = decisions.Priority(as_of, int(chosen.score), tuple(chosen.reasons),
                                          chosen.suggested_action)
        else:
            priority, ref = decisions.Priority(as_of, None), _core()
        if priority.same_as(decisions.recorded_priority(account)):
            return False
        account.record_decision(
            decisions.PriorityDecided, decided_on=as_of, plugin=ref.name,
            plugin_version=ref.version, based_on=_jsonable(decisions.based_on(view, as_of)),
            priority=priority.score, reasons=list(priority.reasons),
            suggested_action=priority.suggested_action)
        return True

    def decide_after_facts(self, account: Account, as_of: date | None,
                           today: date | None = None) -> None:
        """When facts arrive: decide again what they may have changed (classes, risk,
        the ladder, the views' decisions), recording it beside the facts (the ledger
        saves both at once). ``as_of``: the last cycle's date (``after_facts_date``),
        None before any cycle. See ``core.after_facts``."""
        after_facts.decide_after_facts(self, account, as_of, today)

    def decide_views_after_facts(self, account: Account, as_of: date,
                                 view: AccountView | None = None, *,
                                 deadlines_only: bool = False) -> None:
        """When facts arrive: decide again, for ``as_of`` (see ``after_facts_date``), the
        account's place in the worklist and the deadlines of the invoices the pending
        events may have moved, recording what changed beside the facts (the ledger
        saves both at once). A plugin that fails leaves it to the next cycle: a fact
        is never refused for a decision the views need. ``view``: the account's, if
        the caller has it. ``deadlines_only``: the deadlines alone (a suit filed
        before any cycle ran, see ``filed_on``)."""
        view = view or view_of(account)
        try:
            self._deadlines(account, view, as_of, deadlines_moved(account))
            if not deadlines_only:
                self._priority(account, view, as_of)
        except Exception as error:
            # The error's kind only: its text may quote the account's data (a name).
            log.warning("cycle.after_facts_failed", customer_id=account.customer_id,
                        error=type(error).__name__)

    def schedule_review(self, account: Account, as_of: date) -> bool:
        """Ask the plugins when the account next needs the cycle; record it if that
        changed. True if recorded."""
        found = self.host.collect("huikuan_next_review", account=view_of(account),
                                  as_of=as_of)
        # The plugin that needs the account soonest decides; the others' dates are kept.
        found.sort(key=lambda pair: pair[0])
        next_review = max(found[0][0], as_of + timedelta(days=1)) if found else None
        if not account.review_needed and account.next_review == next_review:
            return False
        ref = found[0][1] if found else _core()
        account.record_decision(
            Account.ReviewScheduled, decided_on=as_of, plugin=ref.name,
            plugin_version=ref.version,
            based_on={"next_review": {r.name: day.isoformat() for day, r in found}},
            next_review=next_review)
        return True

    def _record(self, account: Account, event_class: type[Account.Decision], ref: PluginRef,
                as_of: date, based_on: Any, **fields: Any) -> None:
        account.record_decision(
            event_class, decided_on=as_of, plugin=ref.name, plugin_version=ref.version,
            based_on=_jsonable(dict(based_on)), **fields,
        )

    def _commitments(self, account: Account, as_of: date, counts: Counter[str]) -> None:
        found = self.host.first("huikuan_review_commitments", account=view_of(account),
                                as_of=as_of)
        if not found:
            return
        outcomes: list[CommitmentOutcome] = found[0]
        for outcome in outcomes:
            if outcome.kind in ("promise_kept", "promise_broken"):
                promise = account.promises.get(outcome.ref)
                if promise is None or promise.status != "pending":
                    continue  # decided before, or not a promise of this account
                event_class = (Account.PromiseKept if outcome.kind == "promise_kept"
                               else Account.PromiseBroken)
                self._record(account, event_class, found[1], as_of, outcome.based_on,
                             promise_id=outcome.ref)
            elif outcome.kind == "installment_missed":
                plan = account.plans.get(outcome.ref)
                if plan is None or outcome.installment is None or (
                    outcome.installment in plan.missed
                ):
                    continue
                self._record(account, Account.InstallmentMissed, found[1], as_of,
                             outcome.based_on, plan_id=outcome.ref,
                             installment=outcome.installment)
            else:
                continue
            counts[outcome.kind] += 1

    def _interest_terms(self, account: Account, as_of: date, counts: Counter[str]) -> None:
        # The rates are recorded on the account when they change, so the views accrue
        # interest through any day from the account alone (core.interest.charges).
        found = self.host.first("huikuan_interest_terms", account=view_of(account),
                                as_of=as_of)
        if not found:
            return
        terms: InterestTerms = found[0]
        rates = [[p.from_on.isoformat(), str(p.annual)] for p in terms.rates]
        if (rates == [list(r) for r in account.interest_rates]
                and terms.settle == account.settle_order):
            return
        if not rates and not account.interest_rates and terms.settle == account.settle_order:
            return
        self._record(account, Account.InterestTermsSet, found[1], as_of,
                     {"rates": len(rates), "settle": terms.settle}, rates=rates,
                     settle=terms.settle)
        counts["interest_terms_set"] += 1

    def _interest(self, account: Account, as_of: date, counts: Counter[str]) -> None:
        view = view_of(account)
        for invoice in sorted(view.invoices, key=lambda i: (i.due_on, i.invoice_id)):
            if invoice.due_on >= as_of or not _may_have_accrued(invoice):
                continue
            found = self.host.first("huikuan_late_interest", invoice=invoice, account=view,
                                    as_of=as_of)
            if not found:
                continue
            charge: InterestCharge = found[0]
            already_to = invoice.interest_accrued_to or charge.from_on
            if charge.amount <= 0 or charge.to_on <= already_to:
                continue
            self._record(account, Account.InterestCharged, found[1], as_of, charge.based_on,
                         invoice_id=invoice.invoice_id, amount=charge.amount,
                         from_on=charge.from_on, to_on=charge.to_on,
                         annual_rate=charge.annual_rate)
            counts["interest_charged"] += 1

    def _classes(self, account: Account, as_of: date, counts: Counter[str]) -> None:
        # The schedule of every open invoice, from this date: one recorded before
        # schedules existed starts one, and a policy changed since applies from today.
        view = view_of(account)  # a schedule changes nothing a plugin is shown
        after_facts.schedule_classes(self.host, account,
                                     dict.fromkeys(account.open_ids, as_of), counts, view)
        for invoice in view.open_invoices():
            found = self.host.first("huikuan_classify", invoice=invoice, account=view,
                                    as_of=as_of)
            if not found or found[0] == invoice.receivable_class:
                continue
            if found[0] not in CLASSES:
                raise PluginFailure(found[1], "huikuan_classify",
                                    ValueError(f"unknown class {found[0]!r}"))
            self._record(account, Account.ClassChanged, found[1], as_of,
                         {"days_overdue": invoice.days_overdue(as_of)},
                         invoice_id=invoice.invoice_id, previous=invoice.receivable_class,
                         new=found[0])
            counts["class_changed"] += 1

    def _risk(self, account: Account, as_of: date, counts: Counter[str],
              view: AccountView | None = None) -> None:
        """Weigh the risk again (``view``: the account's, if the caller has it)."""
        view = view or view_of(account)
        signals: list[Signal] = []
        sources: dict[str, str] = {}
        for found_signals, ref in self.host.collect("huikuan_risk_signals", account=view,
                                                    as_of=as_of):
            for signal in found_signals:
                signals.append(signal)
                sources.setdefault(signal.code, ref.name)
        found = self.host.first("huikuan_risk_score", account=view, signals=signals,
                                as_of=as_of)
        if not found:
            return
        assessment: RiskAssessment = found[0]
        if assessment.grade not in GRADES:
            raise PluginFailure(found[1], "huikuan_risk_score",
                                ValueError(f"unknown grade {assessment.grade!r}"))
        new = {"score": assessment.score, "grade": assessment.grade,
               "signals": sorted(set(assessment.signals))}
        if new == {**account.risk, "signals": sorted(account.risk["signals"])}:
            return
        based_on = {**assessment.based_on,
                    "signals": [{"code": s.code, "found_by": sources.get(s.code),
                                 **dict(s.detail)} for s in signals]}
        self._record(account, Account.RiskChanged, found[1], as_of, based_on,
                     score=assessment.score, grade=assessment.grade, signals=new["signals"])
        counts["risk_changed"] += 1

    def _escalation(self, account: Account, as_of: date, counts: Counter[str]) -> None:
        view = view_of(account)
        found = self.host.first("huikuan_escalation", account=view, as_of=as_of)
        if not found:
            return
        decision: EscalationDecision = found[0]
        ref = found[1]
        if decision.stage not in STAGES:
            raise PluginFailure(ref, "huikuan_escalation",
                                ValueError(f"unknown stage {decision.stage!r}"))
        rising = STAGES.index(decision.stage) > STAGES.index(account.stage)
        if decision.stage != account.stage:
            self._record(account, Account.StageEntered, ref, as_of, decision.based_on,
                         stage=decision.stage, skipped=list(decision.skipped))
            counts["stage_entered"] += 1
            counts[f"stage:{decision.stage}"] += 1
        if decision.supply_hold is not None and decision.supply_hold != account.supply_hold:
            event_class = Account.SupplyHeld if decision.supply_hold else Account.SupplyReleased
            reason = f"stage {decision.stage}"
            self._record(account, event_class, ref, as_of, decision.based_on, reason=reason)
            counts["supply_held" if decision.supply_hold else "supply_released"] += 1
        if rising and decision.fee is not None and decision.fee > 0:
            fee_id = f"{decision.stage}-{as_of.isoformat()}"
            try:  # a fee of 50.00 on a JPY account is the plugin's mistake, said as such
                fee = money(decision.fee, account.currency, field="fee")
            except InvalidCommand as error:
                raise PluginFailure(ref, "huikuan_escalation", error) from None
            if fee_id not in account.fees:
                self._record(account, Account.FeeCharged, ref, as_of, decision.based_on,
                             fee_id=fee_id, stage=decision.stage, amount=fee)
                counts["fee_charged"] += 1
        if rising:
            for request in decision.messages:
                self._queue(account, view, as_of, decision, ref, request, counts)

    def _queue(self, account: Account, view: AccountView, as_of: date,
               decision: EscalationDecision, ref: PluginRef, request: MessageRequest,
               counts: Counter[str]) -> None:
        message_id = _message_id(account.customer_id, as_of, decision.stage, request.kind,
                                 request.channel)
        if message_id in account.messages:
            return
        chosen = set(request.invoice_ids)
        invoices = tuple(i for i in view.demandable() if i.invoice_id in chosen)
        amount = sum((i.undisputed_open for i in invoices), Decimal(0))
        deadline = (as_of + timedelta(days=request.deadline_days)
                    if request.deadline_days is not None else None)
        draft = with_charges(account, MessageDraft(
            message_id=message_id, kind=request.kind, channel=request.channel,
            language=view.language, amount=amount, currency=view.currency,
            invoices=invoices, deadline=deadline, as_of=as_of,
        ))
        text, renderer = render_message(self.host, draft, view)
        based_on = {
            **decision.based_on,
            "rendered_by": f"{renderer.name} {renderer.version}" if renderer else None,
        }
        self._record(
            account, Account.MessageQueued, ref, as_of, based_on,
            message_id=message_id, kind=request.kind, channel=request.channel,
            recipient=_recipient(self.host, view, request), language=view.language,
            subject=text.subject, body=text.body, amount=amount,
            invoice_ids=[i.invoice_id for i in invoices], deadline=deadline,
        )
        counts[f"message:{request.kind}"] += 1


def queue_statement(host: PolicyHost, account: Account, statement_id: str,
                    statement: Statement, today: date) -> None:
    """A statement issued, e-mailed to the customer, its text written by the template
    plugins (the dispatcher attaches its PDF from the recorded figures)."""
    view = view_of(account)
    draft = MessageDraft(message_id=f"statement-{statement_id}", kind="statement",
                         channel="email", language=view.language,
                         amount=statement.closing_balance, currency=statement.currency,
                         invoices=(), deadline=None, as_of=statement.as_of)
    text, _ = render_message(host, draft, view)
    account.queue_statement(
        statement_id=statement_id, decided_on=today,
        recipient=_recipient(host, view, MessageRequest(kind="statement", channel="email")),
        subject=text.subject, body=text.body, amount=statement.closing_balance,
        plugin="huikuan", plugin_version=huikuan_version())


def with_charges(account: Account, draft: MessageDraft) -> MessageDraft:
    """The draft with the interest and fees owed on its day beside its principal: a
    demand states them separately (core.interest), as figures decided, not by a plugin."""
    interest, fees, each = demanded_charges(
        account, [i.invoice_id for i in draft.invoices], draft.as_of)
    return replace(draft, interest=interest, fees=fees, invoice_interest=each)


def render_message(host: PolicyHost, draft: MessageDraft,
                   view: AccountView) -> tuple[RenderedMessage, PluginRef | None]:
    """The text of a message, as the template plugins write it (``huikuan_render_message``),
    and who wrote it (None: no plugin did, a bare subject). The cycle renders when it
    queues; the dispatcher renders again when the account changed before sending."""
    rendered = host.first("huikuan_render_message", draft=draft, account=view)
    if rendered is None:
        return RenderedMessage(subject=f"{draft.kind} {draft.amount} {draft.currency}",
                               body=""), None
    text: RenderedMessage = rendered[0]
    return text, rendered[1]


def after_facts_date(ledger: Ledger, account: Account) -> date | None:
    """The date a fact arriving now is decided for: that of the last cycle, or the
    day the cycle last reviewed the account if later (a cycle still running); None
    before any cycle, when the views read the facts as version 1 did. The same date
    the views ranked an account for when they asked the plugins themselves."""
    try:
        cycle_log: CycleLog = ledger.get(CYCLE_LOG_ID, copy=False)
    except AggregateNotFoundError:
        last = None
    else:
        last = cycle_log.last_as_of
    dates = [d for d in (last, account.reviewed_on) if d is not None]
    return max(dates) if dates else None


# Facts the limitation period of any invoice may run from (plugins/limitation.py): a
# plan agreed, a written promise. Others move only the invoices they change.
_MOVE_EVERY_DEADLINE = (Account.PaymentPlanAgreed, Account.PromiseMade)


def deadlines_moved(account: Account) -> set[str] | None:
    """The invoices whose limitation deadline the account's pending events may have
    moved; None: any of them."""
    moved: set[str] = set()
    for event in account.pending_events:
        if isinstance(event, _MOVE_EVERY_DEADLINE):
            return None
        if isinstance(event, Account.PaymentBounced):
            # Asked after the bounce, the payment settles nothing: what it settled is
            # in the event.
            moved.update(a["invoice_id"] for a in event.reversed_allocations)
            continue
        if not isinstance(event, Account.Event):
            continue  # the registration: no invoice yet
        changed = event.invoices_changed(account)
        if changed is None:
            return None
        moved.update(changed)
    return moved


def _core() -> PluginRef:
    """Who decided when no plugin did (the answer is then "none")."""
    return PluginRef("huikuan.cycle", huikuan_version())


def _recipient(host: PolicyHost, view: AccountView, request: MessageRequest) -> str | None:
    """Where a message goes, as the plugins say (``huikuan_message_recipient``)."""
    found = host.first("huikuan_message_recipient", request=request, account=view)
    recipient: str | None = found[0] if found else None
    return recipient


def _may_have_accrued(invoice: InvoiceView) -> bool:
    """Whether interest may have accrued on ``invoice`` since it was last charged: it is
    open, or money left it after the last charge (paid in full between two cycles, the
    days it was overdue before the payment are still owed)."""
    since = invoice.interest_accrued_to or invoice.due_on
    return invoice.open_amount > 0 or any(on > since for on, _ in invoice.movements)
