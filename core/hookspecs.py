"""Hook specifications: the plugin author's reference.

A plugin is a module or object with functions marked ``@hookimpl`` (from
:mod:`huikuan.core.plugin`) and named after the hooks below. An implementation may
accept any subset of a hook's parameters, by name. Built-in behaviour ships as default
plugins in ``huikuan.plugins`` through exactly this mechanism; a third-party plugin is
installed with pip, registers under the ``huikuan`` entry-point group, and is switched
on by naming it in ``plugins.toml``::

    [project.entry-points.huikuan]
    courtesy_call = "huikuan_courtesy_call"

How huikuan calls hooks
-----------------------
huikuan calls the implementations of a hook one at a time, in pluggy's order (the
last registered first, so an installed plugin before the built-in ones;
``tryfirst``/``trylast`` move an implementation), so that it can record *which* plugin
decided and isolate a plugin that fails. Each hook states how its results are used,
and the host obeys the specification (``firstresult``) itself:

- **First non-None result wins**: the call stops at the first implementation that
  returns something other than ``None``; that plugin's name and version go into the
  recorded event. Return ``None`` to let the next plugin decide. The built-in default
  is marked ``trylast``, so any plugin of yours is asked before it.
- **All results are collected**: every implementation is called and all the
  non-``None`` results are used.

If an implementation raises, the cycle records nothing for that account, reports the
plugin and the error, and goes on with the next account. Hook wrappers
(``wrapper=True``, ``hookwrapper=True``) are refused when the plugin is registered, as
the calls are made one by one.

Every hook gets ``settings`` (:class:`huikuan.core.plugin.Settings`): plugins.toml and
the environment. Hooks run outside event handlers and may read files or the network,
but a decision must depend only on its arguments: it is recorded with what it was based
on, and a replay never asks a plugin again.

Versions
--------
Each hook says in which version of huikuan it appeared (``versionadded``) and, from
0.2 on, what changed since (``versionchanged``). The words hooks exchange (``Stage``,
``ReceivableClass``, ``Grade``, ``MessageKind``, ``MessageChannel``…) are ``Literal``
types in :mod:`huikuan.core.vocabulary`, re-exported by :mod:`huikuan.core.plugin`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pluggy

from huikuan.core.documents import Letter, Statement
from huikuan.core.plugin import (
    PROJECT,
    AccountView,
    ClassSchedule,
    CommitmentOutcome,
    ContactVerdict,
    CreditDecision,
    CreditPosition,
    DeliveryReceipt,
    EscalationDecision,
    InterestCharge,
    InterestTerms,
    InvoiceView,
    MessageDraft,
    MessageRequest,
    MessageView,
    ObsoleteVerdict,
    OutgoingMessage,
    PromiseVerdict,
    PromiseView,
    ReceivableClass,
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
    plugin (``huikuan.plugins.commitments``) breaks a promise the day after its date
    unless payments since it was made cover it, and misses an instalment the day after
    it falls due unless payments since the plan was agreed cover the instalments so far.

    **Result:** first non-None result wins. Return ``[]`` to decide "nothing new".

    :param account: The account as it stands before the cycle decides for it.
    :param as_of: The business date the cycle runs for.
    :param settings: plugins.toml and the environment.
    :returns: The new outcomes, each recorded as an event (``PromiseKept``,
        ``PromiseBroken``, ``InstallmentMissed``).

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def huikuan_interest_terms(
    account: AccountView, as_of: date, settings: Settings
) -> InterestTerms | None:
    """The late-interest terms (rates by date) ``account`` is held to.

    Asked by the cycle for each account it reviews, before ``huikuan_late_interest``.
    When the answer differs from the terms recorded on the account it is recorded
    (``InterestTermsSet``); the customer view, letters and statements accrue interest
    day by day from the recorded terms (:mod:`huikuan.core.interest`) through the day
    they show, so they never ask a plugin.

    **Result:** first non-None result wins. Return None when this plugin sets no terms
    for the account (then nothing is recorded, and an account never given terms accrues
    none in the views; interest already charged stays).

    :param account: The account under review.
    :param as_of: The business date the cycle runs for.
    :param settings: plugins.toml and the environment.
    :returns: The terms; ``InterestTerms(rates=())`` for no interest from now on.

    .. versionadded:: 0.4
    """


@hookspec(firstresult=True)
def huikuan_late_interest(
    invoice: InvoiceView, account: AccountView, as_of: date, settings: Settings
) -> InterestCharge | None:
    """Late interest (罚息) accrued on ``invoice`` since ``invoice.interest_accrued_to``.

    Called for each open, overdue invoice. Interest already charged stays when the
    principal is paid.

    **Result:** first non-None result wins. Return None for no interest.

    :param invoice: The open invoice, past its due date on ``as_of``.
    :param account: The account the invoice belongs to.
    :param as_of: The business date the cycle runs for.
    :param settings: plugins.toml and the environment.
    :returns: The charge, recorded as ``InterestCharged`` unless it covers no new day.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def huikuan_classify(
    invoice: InvoiceView, account: AccountView, as_of: date, settings: Settings
) -> ReceivableClass | None:
    """The class of an open receivable on ``as_of`` (货款分类).

    One of ``not_due`` (未收款), ``in_collection`` (催收款), ``doubtful`` (准呆款),
    ``bad`` (呆款), ``dead`` (死款). A change from ``invoice.receivable_class`` is
    recorded; a word outside :data:`~huikuan.core.vocabulary.CLASSES` is a failure of
    the plugin.

    **Result:** first non-None result wins.

    :param invoice: An invoice with money open.
    :param account: The account the invoice belongs to.
    :param as_of: The business date the cycle runs for.
    :param settings: plugins.toml and the environment.
    :returns: The invoice's class on ``as_of``.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def huikuan_class_schedule(
    invoice: InvoiceView, account: AccountView, settings: Settings
) -> ClassSchedule | None:
    """The classes ``invoice`` passes through (货款分类) and the day it enters each.

    Asked when an invoice is recorded, whenever a fact changes it (a payment, a credit
    note, a dispute, a write-off, a bounce, a recovery), and by the cycle for every
    open invoice (so a policy changed since applies from the cycle's date). No date is
    given: the answer holds for every day. A step holds from its ``from_on``
    (inclusive) until the next; before the first the invoice is ``not_due``. The
    schedule speaks of the time money is open: once nothing is open the invoice keeps
    the class it had the day it was settled, so a payment need not change it. The
    default plugin (``huikuan.plugins.classes``) gives the ``[classes]`` thresholds
    from the due date, and ``dead`` from the day a write-off settles the invoice
    (``invoice.written_off_in_full``); a write-off of a part changes nothing.

    What changed is recorded as ``ClassScheduled`` with what it was based on, holding
    from the day of the fact that prompted it (the issue date for a new invoice) or the
    cycle's date: the steps before that day stay as recorded, so the class a view gave
    for an earlier date never changes behind it. The views give the class on any date
    from it (``GET /customers/{id}?as_of=``, aging by class) without asking a plugin.

    **Result:** first non-None result wins. None from every plugin records nothing:
    the invoice is then classed as the cycle classifies it (:func:`huikuan_classify`),
    as before 1.1. Steps out of date order, or a word outside
    :data:`~huikuan.core.vocabulary.CLASSES`, is a failure of the plugin. A plugin
    that changes the classes implements this hook and :func:`huikuan_classify` alike:
    the cycle still asks the latter on its date (``ClassChanged`` in the history, and
    ``invoice.receivable_class`` for other plugins).

    :param invoice: The invoice, as the facts recorded so far leave it.
    :param account: The account the invoice belongs to.
    :param settings: plugins.toml and the environment.
    :returns: The steps, in date order, and what they were based on.

    .. versionadded:: 0.3
    """


@hookspec
def huikuan_risk_signals(
    account: AccountView, as_of: date, settings: Settings
) -> list[Signal] | None:
    """Danger signs found in the account's history (broken promises, bounces…).

    **Result:** all results are collected; the lists are joined, in the order the
    plugins were asked, and given to :func:`huikuan_risk_score`.

    :param account: The account as the earlier cycle hooks left it on ``as_of``.
    :param as_of: The business date the cycle runs for.
    :param settings: plugins.toml and the environment.
    :returns: The signs this plugin finds, or None (or ``[]``) for none.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def huikuan_risk_score(
    account: AccountView, signals: list[Signal], as_of: date, settings: Settings
) -> RiskAssessment | None:
    """Weigh ``signals`` into a score (0–100) and a grade (``A``–``E``).

    A change of score, grade or signals is recorded as ``RiskChanged``.

    **Result:** first non-None result wins.

    :param account: The account as the earlier cycle hooks left it on ``as_of``.
    :param signals: Every sign :func:`huikuan_risk_signals` found, from every plugin.
    :param as_of: The business date the cycle runs for.
    :param settings: plugins.toml and the environment.
    :returns: The score, grade and the codes of the signals that count.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def huikuan_escalation(
    account: AccountView, as_of: date, settings: Settings
) -> EscalationDecision | None:
    """Where the account should stand on the escalation ladder on ``as_of``.

    The default plugin (``huikuan.plugins.escalation``) applies the ladder of
    plugins.toml to the due date of the oldest unpaid, undisputed invoice; a pending
    promise or plan suspends it. Money under a dunning stop on ``as_of`` or handed off
    to a party (``account.pauses``, ``account.cases``, ``account.chaseable(as_of)``) is
    not chased, and the days it was stopped or with the party do not count. A plugin
    marked ``tryfirst`` can take over some accounts and return None for the rest.

    **Result:** first non-None result wins. Return None to leave the account as it is.

    :param account: The account as the earlier cycle hooks left it on ``as_of``.
    :param as_of: The business date the cycle runs for.
    :param settings: plugins.toml and the environment.
    :returns: The stage, the supply hold and the messages to queue if the stage rises.

    .. versionadded:: 0.1
    """


@hookspec
def huikuan_next_review(account: AccountView, as_of: date, settings: Settings) -> date | None:
    """The first date after ``as_of`` on which this plugin's cycle hooks could decide
    something different for ``account`` if no new fact arrived: a due date reaching a
    step of the ladder, a promise falling due, a risk signal leaving its window.

    Asked after the cycle has decided for the account on ``as_of``, with the account
    as those decisions left it. The cycle does not look at the account again before
    the earliest date any plugin gives, unless a fact (an invoice, a payment, a
    contact…) is recorded for it first. A date too early costs a visit; a date too
    late misses a decision, so when unsure return ``as_of`` plus one day. A plugin that
    implements any cycle hook (``huikuan_review_commitments`` to
    ``huikuan_escalation``) but not this one makes the cycle look at every account
    every day, as it must.

    **Result:** all results are collected; the earliest date is kept.

    :param account: The account as the cycle's decisions on ``as_of`` left it.
    :param as_of: The business date the cycle ran for.
    :param settings: plugins.toml and the environment.
    :returns: The date, or None if time alone changes nothing your plugin decides.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def huikuan_render_message(
    draft: MessageDraft, account: AccountView, settings: Settings
) -> RenderedMessage | None:
    """Write the subject and body of a queued message, in ``draft.language``.

    State the exact undisputed amount, the invoices, the deadline and the
    consequence. The text is recorded with the message.

    **Result:** first non-None result wins.

    :param draft: What the message says, every figure already decided.
    :param account: The account the message is queued for.
    :param settings: plugins.toml and the environment.
    :returns: The subject and body.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def huikuan_message_recipient(
    request: MessageRequest, account: AccountView, settings: Settings
) -> str | None:
    """Where a message the escalation asked for goes: an address, a person, a name.

    Asked when the message is queued; the answer is recorded with it. The default
    plugin (``huikuan.plugins.recipients``) sends e-mail to the first contact with an
    e-mail address and texts to the first with a phone number, tasks to the account's
    collector, and letters to the customer by name.

    **Result:** first non-None result wins. None from every plugin queues the message
    with no recipient, and the dispatcher fails it ("no address").

    :param request: The message the escalation asked for (its kind and channel).
    :param account: The account the message is queued for.
    :param settings: plugins.toml and the environment.
    :returns: The recipient as the channel plugin expects it.

    .. versionadded:: 0.2
    """


# ---------------------------------------------------------------------------------------------
# Sending: still wanted?, compliance, then delivery through a channel.
# ---------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def huikuan_message_obsolete(
    message: MessageView, account: AccountView, settings: Settings
) -> ObsoleteVerdict | None:
    """Should a queued message no longer go out? Asked each time before it is sent.

    The default plugin (``huikuan.plugins.demands``) cancels a demand (or a task)
    for money no longer owed (paid, credited, disputed since), one queued before
    the customer promised or agreed a plan, and one whose money still owed is all
    handed off to a party (``account.cases``).

    **Result:** first non-None result wins. ``ObsoleteVerdict(True, reason)`` cancels
    the message, recording the reason; ``ObsoleteVerdict(False)`` sends it whatever the
    plugins after yours would say; None leaves it to them (and if none answers, it goes).

    :param message: The queued message, as it stands.
    :param account: The account as it stands now, with what happened since queueing.
    :param settings: plugins.toml and the environment.
    :returns: The verdict.

    .. versionadded:: 0.2
    """


@hookspec
def huikuan_contact_allowed(
    message: OutgoingMessage, account: AccountView, now: datetime, settings: Settings
) -> ContactVerdict | None:
    """May ``message`` go out at ``now``? (合法合规催收)

    The default plugins: ``compliance`` (contact hours, attempts in a window) and
    ``demands``, which holds a demand or task whose money still owed is all under a
    dunning stop that day (暂缓催收, ``account.pauses``) until the day after the stop's
    last (a stop ended early makes it due again at once).

    **Result:** all results are collected: if any says ``allowed=False`` the message is
    held until the latest ``hold_until`` given. Return None to have no opinion.

    :param message: The message about to be handed to its channel.
    :param account: The account the message is for.
    :param now: The moment of sending (aware, UTC).
    :param settings: plugins.toml and the environment.
    :returns: The verdict, or None.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def huikuan_send_message(
    message: OutgoingMessage, settings: Settings
) -> DeliveryReceipt | None:
    """Deliver ``message`` through its ``channel``.

    A channel plugin returns None for channels it does not serve, a receipt when the
    message was accepted, and raises :class:`huikuan.core.plugin.DeliveryError` when
    not. The same ``message_id`` may be sent twice after a crash: pass it on (as the
    e-mail ``Message-ID``, a webhook's idempotency key) so the receiver can tell.

    **Result:** first non-None result wins.

    :param message: The message, rendered, with its recipient and attempt number.
    :param settings: plugins.toml and the environment.
    :returns: The receipt, recorded with ``MessageSent``.

    .. versionadded:: 0.1
    """


# ---------------------------------------------------------------------------------------------
# Views and answers.
# ---------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def huikuan_limitation_deadline(
    invoice: InvoiceView, account: AccountView, settings: Settings
) -> date | None:
    """The day the limitation period (诉讼时效) of ``invoice`` ends.

    The default: three years from the due date (from the last instalment for a
    plan), restarted by an acknowledgment, a written promise, a payment, a demand
    that reached the debtor (``account.messages``, ``delivered_on``) or a suit or
    arbitration filed (``account.filings``).

    Asked at the cycle and when facts arrive that may move the deadline (a payment,
    an acknowledgment, a proof of delivery…); the answer is recorded
    (``DeadlinesDecided``) and the views show it.

    **Result:** first non-None result wins.

    :param invoice: An invoice with money open.
    :param account: The account the invoice belongs to.
    :param settings: plugins.toml and the environment.
    :returns: The last day a claim can be brought.

    .. versionadded:: 0.1
    .. versionchanged:: 0.3
       The account's messages carry ``delivered_on`` and the account its ``filings``,
       and the default plugin restarts the period from them.
    """


@hookspec(firstresult=True)
def huikuan_worklist_priority(
    account: AccountView, as_of: date, settings: Settings
) -> WorkPriority | None:
    """How urgent the account is in its collector's queue on ``as_of`` (轻重缓急).

    **Result:** first non-None result wins.

    :param account: The account to rank.
    :param as_of: The date of the worklist.
    :param settings: plugins.toml and the environment.
    :returns: The score (higher is more urgent), the reasons and a suggested action.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def huikuan_credit_decision(
    position: CreditPosition, amount: Decimal, settings: Settings
) -> CreditDecision | None:
    """May we ship ``amount`` more on credit to this customer? (前款不结，后货不送)

    Asked by the credit check (``GET /v1/customers/{id}/credit-check``) with the
    figures the views hold. The default plugin (``huikuan.plugins.credit``) refuses
    while supply is on hold, when the exposure plus ``amount`` would exceed the credit
    limit, and for risk grade E, giving every reason that applies.

    **Result:** first non-None result wins.

    :param position: The customer's exposure, credit limit, supply hold and grades.
    :param amount: What the customer would owe more, in the account's currency.
    :param settings: plugins.toml and the environment.
    :returns: Allowed or not, and the reasons (shown to the caller as they are).

    .. versionadded:: 0.2
    """


@hookspec(firstresult=True)
def huikuan_review_promise(
    promise: PromiseView, account: AccountView, settings: Settings
) -> PromiseVerdict | None:
    """What the policy makes of a promise to pay, asked as it is recorded (付款承诺).

    The seeds give a debtor 7 to 15 days to pay what it promises, never over 60: a
    promise dated further out is a debtor playing for time. The default plugin
    (``huikuan.plugins.commitments``) looks at the days from ``made_on`` to ``due_on``
    against ``[commitments] max_promise_days`` (60) and, beyond it, flags the promise
    (``beyond_max = "flag"``, the default) or refuses it (``"refuse"``).

    **Result:** first non-None result wins. None from every plugin records the promise
    as it is. ``accepted=False`` refuses it: nothing is recorded and the caller gets a
    422 naming ``due_on`` with the ``reasons``. Accepted with ``concerns`` records it
    and a ``PromiseFlagged`` decision (plugin, version, the concerns), shown to the
    collector in the promise's answer and the worklist's reasons.

    :param promise: The promise as it would be recorded (``status`` ``pending``).
    :param account: The account before the promise.
    :param settings: plugins.toml and the environment.
    :returns: The verdict.

    .. versionadded:: 0.3
    """


@hookspec(firstresult=True)
def huikuan_statement_due(account: AccountView, as_of: date, settings: Settings) -> date | None:
    """Whether the periodic statement of account (定期对账) is due on ``as_of``.

    Asked by the cycle for each account it reviews. A date answered is the first day of
    the statement's period: the cycle records the statement issued for ``as_of``
    (``StatementIssued``, id ``auto-<as_of>``) and queues it to the customer by e-mail.

    **Result:** first non-None result wins. None: no statement today.

    :param account: The account under review (``statements_issued`` says when).
    :param as_of: The business date the cycle runs for.
    :param settings: plugins.toml and the environment.
    :returns: The period's first day, or None.

    .. versionadded:: 0.4
    """


@hookspec(firstresult=True)
def huikuan_render_letter(letter: Letter, settings: Settings) -> bytes | None:
    """The printed letter (PDF) of a written demand, on the company's letterhead.

    Asked when a written demand is sent (the letter channel writes it, e-mail attaches
    it) and when one is asked for (``GET /messages/{id}/document``, ``huikuan letter``).
    Every figure is in ``letter`` (:mod:`huikuan.core.documents`): the layout and the
    words around them are the plugin's. The built-in ``documents`` plugin answers last.

    **Result:** first non-None result wins: the PDF's bytes.

    :param letter: The letter's every figure, the text sent and the letterhead.
    :param settings: plugins.toml and the environment.
    :returns: The PDF, or None to leave it to the next plugin.

    .. versionadded:: 0.4
    """


@hookspec(firstresult=True)
def huikuan_render_statement(statement: Statement, settings: Settings) -> bytes | None:
    """A statement of account (对账单) as a PDF, with the confirmation slip (对账函) the
    customer signs, seals and returns.

    Asked by ``GET /customers/{id}/statement?format=pdf``, ``huikuan statement`` and when
    a statement issued with ``send`` is e-mailed.

    **Result:** first non-None result wins: the PDF's bytes.

    :param statement: The statement's every figure and the letterhead.
    :param settings: plugins.toml and the environment.
    :returns: The PDF, or None to leave it to the next plugin.

    .. versionadded:: 0.4
    """
