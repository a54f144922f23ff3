"""Hook specifications: the plugin author's reference.

A plugin is a module or object with functions marked ``@hookimpl`` (from
:mod:`core.plugin`) and named after the hooks below. An implementation may accept
any subset of a hook's parameters, by name. Built-in behaviour ships as default
plugins in ``plugins/`` through exactly this mechanism; a third-party plugin is
installed with pip, registers under the ``huikuan`` entry-point group, and is
switched on by naming it in ``plugins.toml``::

    [project.entry-points.huikuan]
    courtesy_call = "huikuan_courtesy_call"

How huikuan calls hooks
-----------------------
huikuan calls the implementations of a hook one at a time, in pluggy's order (the
last registered first; ``tryfirst``/``trylast`` move an implementation), so that it
can record *which* plugin decided and isolate a plugin that fails:

- **first result** hooks stop at the first implementation that returns something
  other than ``None``; that plugin's name and version go into the recorded event.
  Return ``None`` to let the next plugin decide.
- **collect** hooks call every implementation and use all non-``None`` results.

If an implementation raises, the cycle records nothing for that account, reports
the plugin and the error, and goes on with the next account. Hook wrappers
(``wrapper=True``) are not supported, as the calls are made one by one.

Every hook gets ``settings`` (:class:`core.plugin.Settings`), plugins.toml and the
environment. Hooks run outside event handlers and may read files or the network,
but a decision must depend only on its arguments: it is recorded with what it was
based on, and a replay never asks a plugin again.
"""

from __future__ import annotations

from datetime import date, datetime

import pluggy

from huikuan.core.plugin import (
    PROJECT,
    AccountView,
    CommitmentOutcome,
    ContactVerdict,
    DeliveryReceipt,
    EscalationDecision,
    InterestCharge,
    InvoiceView,
    MessageDraft,
    OutgoingMessage,
    RenderedMessage,
    RiskAssessment,
    Settings,
    Signal,
    WorkPriority,
)

hookspec = pluggy.HookspecMarker(PROJECT)

# ---------------------------------------------------------------------------------------------
# The daily cycle, in the order it asks: commitments, interest, classes, risk, escalation.
# ---------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def huikuan_review_commitments(
    account: AccountView, as_of: date, settings: Settings
) -> list[CommitmentOutcome] | None:
    """Find the promises kept or broken and the instalments missed by ``as_of``.

    Return only *new* outcomes: a promise whose ``status`` is no longer ``pending``,
    or an instalment already in ``plan.missed``, was decided before. The default
    plugin (``plugins.commitments``) breaks a promise the day after its date unless
    payments since it was made cover it, and misses an instalment the day after it
    falls due unless payments since the plan was agreed cover the instalments so far.

    Stops at the first non-None result. Return ``[]`` to decide "nothing new".
    """


@hookspec(firstresult=True)
def huikuan_late_interest(
    invoice: InvoiceView, account: AccountView, as_of: date, settings: Settings
) -> InterestCharge | None:
    """Late interest (罚息) accrued on ``invoice`` since ``invoice.interest_accrued_to``.

    Called for each open, overdue invoice. Return None for no interest. Interest
    already charged stays when the principal is paid. Stops at the first non-None.
    """


@hookspec(firstresult=True)
def huikuan_classify(
    invoice: InvoiceView, account: AccountView, as_of: date, settings: Settings
) -> str | None:
    """The class of an open receivable on ``as_of``.

    One of ``not_due`` (未收款), ``in_collection`` (催收款), ``doubtful`` (准呆款),
    ``bad`` (呆款), ``dead`` (死款). A change from ``invoice.receivable_class`` is
    recorded. Stops at the first non-None result.
    """


@hookspec
def huikuan_risk_signals(
    account: AccountView, as_of: date, settings: Settings
) -> list[Signal] | None:
    """Danger signs found in the account's history (broken promises, bounces…).

    Collected from every plugin; the lists are joined and given to
    :func:`huikuan_risk_score`.
    """


@hookspec(firstresult=True)
def huikuan_risk_score(
    account: AccountView, signals: list[Signal], as_of: date, settings: Settings
) -> RiskAssessment | None:
    """Weigh ``signals`` into a score (0–100) and a grade (``A``–``E``).

    A change of score, grade or signals is recorded. Stops at the first non-None.
    """


@hookspec(firstresult=True)
def huikuan_escalation(
    account: AccountView, as_of: date, settings: Settings
) -> EscalationDecision | None:
    """Where the account should stand on the escalation ladder on ``as_of``.

    The default plugin (``plugins.escalation``) applies the ladder of plugins.toml to
    the due date of the oldest unpaid, undisputed invoice; a pending promise or plan
    suspends it. Return None to leave the account as it is. Stops at the first
    non-None result: a plugin marked ``tryfirst`` can take over some accounts and
    return None for the rest.
    """


@hookspec
def huikuan_next_review(account: AccountView, as_of: date, settings: Settings) -> date | None:
    """The first date after ``as_of`` on which this plugin's cycle hooks could decide
    something different for ``account`` if no new fact arrived: a due date reaching a
    step of the ladder, a promise falling due, a risk signal leaving its window.

    Asked after the cycle has decided for the account on ``as_of``, with the account
    as those decisions left it. The cycle does not look at the account again before
    the earliest date any plugin gives, unless a fact (an invoice, a payment, a
    contact…) is recorded for it first. Return None if time alone changes nothing
    your plugin decides. A date too early costs a visit; a date too late misses a
    decision, so when unsure return ``as_of`` plus one day.

    A collect hook: every implementation is asked. A plugin that implements any cycle
    hook (``huikuan_review_commitments`` to ``huikuan_escalation``) but not this one
    makes the cycle look at every account every day, as it must.
    """


@hookspec(firstresult=True)
def huikuan_render_message(
    draft: MessageDraft, account: AccountView, settings: Settings
) -> RenderedMessage | None:
    """Write the subject and body of a queued message, in ``draft.language``.

    State the exact undisputed amount, the invoices, the deadline and the
    consequence. The text is recorded with the message. Stops at the first non-None.
    """


# ---------------------------------------------------------------------------------------------
# Sending: compliance, then delivery through a channel.
# ---------------------------------------------------------------------------------------------


@hookspec
def huikuan_contact_allowed(
    message: OutgoingMessage, account: AccountView, now: datetime, settings: Settings
) -> ContactVerdict | None:
    """May ``message`` go out at ``now``? (合法合规催收)

    Collected from every plugin: if any says ``allowed=False`` the message is held
    until the latest ``hold_until`` given. Return None to have no opinion.
    """


@hookspec(firstresult=True)
def huikuan_send_message(
    message: OutgoingMessage, settings: Settings
) -> DeliveryReceipt | None:
    """Deliver ``message`` through its ``channel``.

    A channel plugin returns None for channels it does not serve, a receipt when the
    message was accepted, and raises :class:`core.plugin.DeliveryError` when not.
    The same ``message_id`` may be sent twice after a crash: pass it on (as the
    e-mail ``Message-ID``, a webhook's idempotency key) so the receiver can tell.
    Stops at the first non-None result.
    """


# ---------------------------------------------------------------------------------------------
# Views.
# ---------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def huikuan_limitation_deadline(
    invoice: InvoiceView, account: AccountView, settings: Settings
) -> date | None:
    """The day the limitation period (诉讼时效) of ``invoice`` ends.

    The default: three years from the due date (from the last instalment for a
    plan), restarted by an acknowledgment, a written promise or a payment. Stops at
    the first non-None result.
    """


@hookspec(firstresult=True)
def huikuan_worklist_priority(
    account: AccountView, as_of: date, settings: Settings
) -> WorkPriority | None:
    """How urgent the account is in its collector's queue on ``as_of`` (轻重缓急).

    Stops at the first non-None result.
    """
