"""A promise to pay held to the policy as it is recorded (付款承诺).

The seeds give a debtor 7 to 15 days to pay what it promises, never over 60. The
``huikuan_review_promise`` hook says what the policy makes of a promise (the default:
``huikuan.plugins.commitments``): refused, nothing is recorded and the caller is told
why; flagged, the promise is recorded with a ``PromiseFlagged`` decision beside it, in
the same save, naming the plugin that flagged it.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from huikuan.core.account import Account
from huikuan.core.commands import MakePromise
from huikuan.core.errors import InvalidCommand
from huikuan.core.handlers import handle
from huikuan.core.plugin import PromiseVerdict
from huikuan.core.policy import PluginFailure, PolicyHost, view_of

log = structlog.get_logger("huikuan.promises")


class PromiseRefused(InvalidCommand):
    """The policy refuses the promise (its date is too far out, say): 422 on ``due_on``."""

    def __init__(self, reasons: tuple[str, ...]) -> None:
        super().__init__("; ".join(reasons) or "the policy refuses this promise",
                         field="due_on")
        self.reasons = reasons


def reviewed_promise(host: PolicyHost, command: MakePromise) -> Callable[[Account], bool]:
    """The change that records ``command`` held to the promise review, for
    ``Ledger.change``. A repeat of a promise recorded before stays a repeat, whatever
    the review would say now."""

    def change(account: Account) -> bool:
        before = view_of(account)
        if not handle(account, command):
            return False
        promise = account.promises[command.promise_id]
        view = next(p for p in view_of(account).promises if p.promise_id == promise.promise_id)
        try:
            found = host.first("huikuan_review_promise", promise=view, account=before)
        except PluginFailure as failure:
            # A fact from the world is recorded even when a plugin fails on it (as for
            # the decisions made after facts); the failure is logged, not hidden.
            log.error("promise.review_failed", plugin=failure.plugin.name,
                      error=repr(failure.error))
            return True
        if found is None:
            return True
        verdict, ref = found
        if not isinstance(verdict, PromiseVerdict):
            msg = f"{ref.name}: huikuan_review_promise returned {type(verdict).__name__}"
            raise TypeError(msg)
        if not verdict.accepted:
            # Raised before the save: the promise triggered above is never stored.
            raise PromiseRefused(tuple(verdict.reasons))
        if verdict.concerns:
            account.record_decision(
                Account.PromiseFlagged, decided_on=promise.made_on, plugin=ref.name,
                plugin_version=ref.version, promise_id=promise.promise_id,
                concerns=list(verdict.concerns),
                based_on={"made_on": promise.made_on.isoformat(),
                          "due_on": promise.due_on.isoformat(), "amount": str(promise.amount)})
        return True

    return change
