"""The policy host: loads the plugins named in plugins.toml and asks them to decide.

Built-in plugins (``huikuan.plugins``) and third-party plugins (the ``huikuan``
entry-point group) are registered the same way, by name; ``[huikuan] plugins = [...]``
in plugins.toml says which run. Hooks are called one implementation at a time so the
host knows which plugin decided (its name and version go into the recorded event)
and can isolate a plugin that raises (see :mod:`huikuan.core.hookspecs`). Whether the
first answer wins or all are collected is the specification's (``firstresult``), and
the host holds every call site to it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from importlib import metadata
from typing import Any

import pluggy

from huikuan.core import hookspecs
from huikuan.core.plugin import PROJECT, AccountView, Settings

# The built-in plugins, by the name plugins.toml uses for them. huikuan registers them
# under the ``huikuan`` entry points of its own distribution (pyproject.toml), the
# mechanism a third-party plugin uses too, so core names no module of theirs.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "commitments", "interest", "classes", "risk", "escalation", "templates", "compliance",
    "limitation", "priority", "email", "sms", "letters", "worklist",
)
# Rules core applied itself before 0.2, now default plugins. They are registered
# whatever plugins.toml names, so a plugins.toml written before keeps its behaviour;
# each answers last (trylast), so a plugin of yours that answers takes over.
ALWAYS_ON: tuple[str, ...] = ("demands", "recipients", "credit", "documents")
ENTRY_POINT_GROUP = PROJECT


CYCLE_HOOKS = (
    "huikuan_review_commitments", "huikuan_late_interest", "huikuan_classify",
    "huikuan_risk_signals", "huikuan_risk_score", "huikuan_escalation",
)


# Hooks whose answers may change with the date alone: their plugins name the dates.
DATED_HOOKS = (*CYCLE_HOOKS, "huikuan_worklist_priority")


@functools.cache
def _entry_points() -> dict[str, metadata.EntryPoint]:
    """The installed plugins by name (read once per process: it scans every package).
    A name huikuan itself registers is huikuan's, whatever else claims it."""
    found = sorted(metadata.entry_points(group=ENTRY_POINT_GROUP),
                   key=lambda ep: _distribution(ep) == PROJECT)
    return {ep.name: ep for ep in found}


def _distribution(entry_point: metadata.EntryPoint) -> str | None:
    return entry_point.dist.name if entry_point.dist else None


@functools.cache
def huikuan_version() -> str:
    # Read once: each decision names it, and reading a package's metadata parses a file.
    try:
        return metadata.version("huikuan")
    except metadata.PackageNotFoundError:  # running from a source tree
        return "0+source"


@dataclass(frozen=True)
class PluginRef:
    """Which plugin decided: recorded in every decision event."""

    name: str
    version: str


class PluginError(Exception):
    """The plugins cannot be loaded as configured (unknown name, bad hook…)."""


class PluginFailure(Exception):
    """A plugin raised while deciding; the cycle skips the account and reports this."""

    def __init__(self, plugin: PluginRef, hook: str, error: BaseException) -> None:
        super().__init__(f"plugin {plugin.name!r} failed in {hook}: {error!r}")
        self.plugin = plugin
        self.hook = hook
        self.error = error


class PolicyHost:
    """The registered plugins and a typed way to ask them."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        extra_plugins: Iterable[tuple[str, object]] = (),
        load_entry_points: bool = True,
    ) -> None:
        self.settings = settings or Settings()
        self.manager = pluggy.PluginManager(PROJECT)
        self.manager.add_hookspecs(hookspecs)
        self.versions: dict[str, str] = {}
        enabled = list(self.settings.section("huikuan").get("plugins", DEFAULT_PLUGINS))
        # Without load_entry_points only huikuan's own plugins are found (for tests that
        # must not pick up whatever else is installed).
        available = {name: ep for name, ep in _entry_points().items()
                     if load_entry_points or _distribution(ep) == PROJECT}
        for name in [n for n in ALWAYS_ON if n not in enabled] + enabled:
            if name in available:
                entry_point = available[name]
                version = entry_point.dist.version if entry_point.dist else "unknown"
                self._register(name, entry_point.load(), version)
            else:
                msg = (
                    f"plugins.toml enables {name!r}, which is neither built in nor installed "
                    f"(pip install it; it registers under the {ENTRY_POINT_GROUP!r} entry points)"
                )
                raise PluginError(msg)
        for name, plugin in extra_plugins:
            self._register(name, plugin, str(getattr(plugin, "__version__", "test")))
        try:
            self.manager.check_pending()
        except pluggy.PluginValidationError as error:
            raise PluginError(str(error)) from None

    def _register(self, name: str, plugin: object, version: str) -> None:
        try:
            self.manager.register(plugin, name=name)
        except (pluggy.PluginValidationError, ValueError) as error:
            raise PluginError(f"plugin {name!r}: {error}") from None
        wrappers = [impl.function.__name__
                    for caller in self.manager.get_hookcallers(plugin) or ()
                    for impl in caller.get_hookimpls()
                    if impl.plugin is plugin and (impl.wrapper or impl.hookwrapper)]
        if wrappers:
            self.manager.unregister(plugin)
            msg = (f"plugin {name!r}: {', '.join(wrappers)} is a hook wrapper; huikuan calls "
                   "implementations one by one, so wrappers are not supported")
            raise PluginError(msg)
        self.versions[name] = str(getattr(plugin, "__version__", version))

    def daily_reviewers(self) -> list[str]:
        """Plugins with cycle hooks or a worklist priority but no ``huikuan_next_review``:
        they cannot say when an account needs them again, so with them the cycle reviews
        every account daily (and the worklist is ranked afresh for every account)."""
        def implementers(hook: str) -> set[str]:
            return {i.plugin_name for i in getattr(self.manager.hook, hook).get_hookimpls()}

        deciding = set().union(*(implementers(hook) for hook in DATED_HOOKS))
        return sorted(deciding - implementers("huikuan_next_review"))

    def fingerprint(self) -> str:
        """The policy in force: plugins, their versions and plugins.toml. When it
        changes, the next cycle reviews every account, whatever was scheduled."""
        document = json.dumps({"plugins": sorted(self.versions.items()),
                               "settings": self.settings.sections},
                              sort_keys=True, default=str)
        return hashlib.sha256(document.encode()).hexdigest()[:16]

    @property
    def plugin_names(self) -> list[str]:
        return [name for name, _ in self.manager.list_name_plugin()]

    def _impls(self, hook: str, kwargs: dict[str, Any], *, firstresult: bool) -> list[Any]:
        """The implementations of ``hook`` in the order to ask them, once the call is
        found to be what the hook's specification says."""
        caller = getattr(self.manager.hook, hook, None)
        if caller is None or caller.spec is None:
            raise TypeError(f"{hook!r} is not a huikuan hook (see huikuan.core.hookspecs)")
        if caller.spec.opts["firstresult"] != firstresult:
            how = ("the first non-None result wins: ask it with first() or decide()"
                   if caller.spec.opts["firstresult"]
                   else "all results are collected: ask it with collect()")
            raise TypeError(f"{hook}: {how}")
        expected = set(caller.spec.argnames) - {"settings"}
        if set(kwargs) != expected:
            msg = (f"{hook} takes {sorted(expected)} (and settings, which the host passes), "
                   f"not {sorted(kwargs)}")
            raise TypeError(msg)
        # pluggy calls the last-registered implementation first; so do we.
        return list(reversed(caller.get_hookimpls()))

    def _call(self, impl: Any, hook: str, kwargs: dict[str, Any]) -> Any:
        ref = PluginRef(impl.plugin_name, self.versions.get(impl.plugin_name, "unknown"))
        given = {**kwargs, "settings": self.settings}
        try:
            return impl.function(**{name: given[name] for name in impl.argnames}), ref
        except Exception as error:
            raise PluginFailure(ref, hook, error) from error

    def first(self, hook: str, **kwargs: Any) -> tuple[Any, PluginRef] | None:
        """The first non-None result of ``hook`` and the plugin that gave it.

        Only for a hook whose specification says the first result wins
        (``firstresult=True``); :class:`TypeError` otherwise."""
        for impl in self._impls(hook, kwargs, firstresult=True):
            result, ref = self._call(impl, hook, kwargs)
            if result is not None:
                return result, ref
        return None

    def collect(self, hook: str, **kwargs: Any) -> list[tuple[Any, PluginRef]]:
        """Every non-None result of ``hook``, each with the plugin that gave it.

        Only for a hook whose specification collects every result; :class:`TypeError`
        otherwise."""
        results = []
        for impl in self._impls(hook, kwargs, firstresult=False):
            result, ref = self._call(impl, hook, kwargs)
            if result is not None:
                results.append((result, ref))
        return results

    def decide(self, hook: str, **kwargs: Any) -> Any:
        """The first result of ``hook``, or None: for callers that need no provenance."""
        found = self.first(hook, **kwargs)
        return found[0] if found else None


# The views last made, by the account object they were made of: an account changes only
# by an event, which moves its version, so a view of the same object at the same version
# is the same view (the cycle asks for one several times between two decisions).
_VIEWS: OrderedDict[int, tuple[Any, int, AccountView]] = OrderedDict()
_VIEWS_LOCK = threading.Lock()


def view_of(account: Any) -> AccountView:
    """The read-only view of an account that plugins are given.

    The account's words (stage, class, grade, kind…) are passed on as they are: the
    aggregate records only those of :mod:`huikuan.core.vocabulary`.
    """
    with _VIEWS_LOCK:
        made = _VIEWS.get(id(account))
    if made is not None and made[0] is account and made[1] == account.version:
        return made[2]
    view = _view_of(account)
    with _VIEWS_LOCK:
        _VIEWS[id(account)] = (account, account.version, view)
        _VIEWS.move_to_end(id(account))
        while len(_VIEWS) > 16:
            _VIEWS.popitem(last=False)
    return view


def _view_of(account: Any) -> AccountView:
    from huikuan.core.plugin import (
        CaseView,
        ContactView,
        ContestedSpan,
        FilingView,
        InstallmentView,
        InvoiceView,
        MessageView,
        PauseView,
        PaymentView,
        PlanView,
        PromiseView,
        ReportedSignal,
    )

    contested = account.contested()  # once, not per invoice
    spans: dict[str, list[ContestedSpan]] = {}
    for dispute in account.disputes.values():
        spans.setdefault(dispute.invoice_id, []).append(ContestedSpan(
            amount=dispute.amount, raised_on=dispute.raised_on,
            resolved_on=dispute.resolved_on))
    delivered = account.demand_deliveries
    written_off: dict[str, list[tuple[Any, Decimal]]] = {}
    for write_off in account.write_offs.values():
        written_off.setdefault(write_off["invoice_id"], []).append(
            (write_off["written_off_on"], write_off["amount"]))

    return AccountView(
        customer_id=account.customer_id,
        name=account.name,
        currency=account.currency,
        payment_terms_days=account.payment_terms_days,
        credit_limit=account.credit_limit,
        credit_grade=account.credit_grade,
        timezone=account.timezone,
        collector=account.collector,
        tags=tuple(account.tags),
        language=account.language,
        contacts=tuple(dict(c) for c in account.contacts),
        stage=account.stage,
        stage_entered_on=account.stage_entered_on,
        supply_hold=account.supply_hold,
        risk_score=int(account.risk["score"]),
        risk_grade=account.risk["grade"],
        risk_signals=tuple(account.risk["signals"]),
        invoices=tuple(
            InvoiceView(
                invoice_id=i.invoice_id, amount=i.amount, open_amount=i.open_amount,
                disputed_amount=account.disputed_amount(i, contested),
                issued_on=i.issued_on,
                due_on=i.due_on, receivable_class=i.class_, interest=i.interest,
                interest_accrued_to=i.interest_accrued_to, written_off=i.written_off,
                delivered_on=i.delivered_on, acknowledged_on=i.acknowledged_on,
                movements=tuple((d, Decimal(v)) for d, v in i.movements),
                contested=tuple(spans.get(i.invoice_id, ())),
                write_offs=tuple(written_off.get(i.invoice_id, ())),
                recovered=i.recovered,
            )
            for i in account.invoices.values()
        ),
        payments=tuple(
            PaymentView(payment_id=p.payment_id, amount=p.amount, received_on=p.received_on,
                        allocations=dict(p.allocations), unapplied=p.unapplied,
                        bounced_on=p.bounced_on)
            for p in account.payments.values()
        ),
        promises=tuple(
            PromiseView(promise_id=p.promise_id, amount=p.amount, due_on=p.due_on,
                        made_on=p.made_on, written=p.written, status=p.status,
                        concerns=tuple(p.concerns))
            for p in account.promises.values()
        ),
        plans=tuple(
            PlanView(
                plan_id=p.plan_id, agreed_on=p.agreed_on, status=p.status,
                missed=tuple(p.missed),
                installments=tuple(
                    InstallmentView(number=n, due_on=i["due_on"], amount=i["amount"])
                    for n, i in enumerate(p.installments, start=1)
                ),
            )
            for p in account.plans.values()
        ),
        contact_log=tuple(
            ContactView(occurred_at=c.occurred_at, occurred_on=c.occurred_on,
                        channel=c.channel, direction=c.direction, outcome=c.outcome)
            for c in account.contact_log
        ),
        reported_signals=tuple(
            ReportedSignal(signal=s["signal"], observed_on=s["observed_on"], note=s["note"])
            for s in account.risk_signals
        ),
        acknowledgments=tuple(dict(a) for a in account.acknowledgments),
        messages=tuple(
            MessageView(message_id=m.message_id, kind=m.kind, channel=m.channel,
                        status=m.status, queued_on=m.queued_on, attempts=m.attempts,
                        sent_at=m.sent_at, invoice_ids=tuple(m.invoice_ids),
                        delivered_on=delivered[m.message_id]["delivered_on"]
                        if m.message_id in delivered else None)
            for m in account.messages.values()
        ),
        filings=tuple(
            FilingView(kind=f["kind"], filed_on=f["filed_on"],
                       invoice_ids=tuple(f.get("invoice_ids") or ()))
            for f in account.filings
        ),
        address=dict(account.address) if account.address is not None else None,
        pauses=tuple(
            PauseView(pause_id=p["pause_id"], reason=p["reason"], from_on=p["from_on"],
                      until_on=p["until_on"], invoice_ids=tuple(p["invoice_ids"] or ()),
                      ended_on=p["ended_on"])
            for p in account.pauses.values()
        ),
        cases=tuple(
            CaseView(handoff_id=c["handoff_id"], to=c["to"], handed_on=c["handed_on"],
                     invoice_ids=tuple(c["invoice_ids"]), status=c["status"],
                     party=c["party"], reference=c["reference"],
                     case_number=c["case_number"], filed_on=c["filed_on"],
                     recovered=c["recovered"], returned_on=c["returned_on"])
            for c in account.cases.values()
        ),
        statements_issued=tuple(s["as_of"] for s in account.statements.values()),
    )
