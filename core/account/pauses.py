"""Dunning stops (暂缓催收): no demand and no step for some invoices, or the whole account,
for a while.

A stop holds from ``from_on`` through ``until_on`` (inclusive; without one, until it is
ended), or through the day before ``ended_on`` when it is ended early. What it means
for the ladder and the outbox is the policy's (the escalation plugin does not climb for
stopped money and stops its clock; the demands plugin holds a queued demand about it):
the account only keeps the facts, which plugins see as ``AccountView.pauses``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from huikuan.core.account.events import Fact
from huikuan.core.account.state import AccountState
from huikuan.core.errors import Conflict, InvalidCommand, NotFound


class Pauses(AccountState):
    """Dunning stops: recorded with a reason and a window, and ended early."""

    class DunningPaused(Fact):
        """Dunning stops for ``invoice_ids`` (None: the whole account, invoices issued
        later too) from ``from_on`` through ``until_on`` (None: until ended)."""

        TOPIC = "huikuan:Account.DunningPaused"
        KIND = "pause"
        ID_FIELD = "pause_id"
        REQUEST_FIELDS = ("pause_id", "reason", "from_on", "until_on", "invoice_ids")
        DATE_FIELD = "from_on"
        CHANGES_INVOICES = False
        pause_id: str
        reason: str
        from_on: date
        until_on: date | None
        invoice_ids: list[str] | None

        def apply(self, account: AccountState) -> None:
            super().apply(account)
            account.pauses = {**account.pauses, self.pause_id: {
                "pause_id": self.pause_id, "reason": self.reason, "from_on": self.from_on,
                "until_on": self.until_on,
                "invoice_ids": None if self.invoice_ids is None else list(self.invoice_ids),
                "ended_on": None,
            }}

    def pause_dunning(
        self,
        *,
        pause_id: str,
        reason: str,
        from_on: date,
        until_on: date | None = None,
        invoice_ids: list[str] | None = None,
    ) -> bool:
        """Record a dunning stop. False if it repeats one recorded."""
        fields: dict[str, Any] = {
            "pause_id": pause_id, "reason": reason, "from_on": from_on, "until_on": until_on,
            "invoice_ids": sorted(set(invoice_ids)) if invoice_ids else None,
        }
        if self._is_repeat(self.DunningPaused, fields):
            return False
        if until_on is not None and until_on < from_on:
            msg = f"until_on {until_on} is before from_on {from_on}"
            raise InvalidCommand(msg, field="until_on")
        for n, invoice_id in enumerate(invoice_ids or ()):
            self._invoice(invoice_id, field=f"invoice_ids[{n}]")
        return self._record(self.DunningPaused, **fields)

    class PauseEnded(Fact):
        """A dunning stop ended early: from ``ended_on`` it holds no more. Demands it
        held are tried again at once (the outbox decides whether they may go)."""

        TOPIC = "huikuan:Account.PauseEnded"
        KIND = "pause_end"
        ID_FIELD = "pause_id"
        REQUEST_FIELDS = ("pause_id", "ended_on")
        DATE_FIELD = "ended_on"
        CHANGES_INVOICES = False
        pause_id: str
        ended_on: date

        def apply(self, account: AccountState) -> None:
            super().apply(account)
            pause = account.pauses.get(self.pause_id)
            if pause is None:  # not in a history as of a date before it began
                return
            account.pauses = {**account.pauses,
                              self.pause_id: {**pause, "ended_on": self.ended_on}}
            stopped = pause["invoice_ids"]
            for message in account.messages.values():
                if message.status == "held" and (
                    stopped is None or set(stopped) & set(message.invoice_ids)
                ):
                    message.next_attempt_at = None

    def end_pause(self, *, pause_id: str, ended_on: date) -> bool:
        """End a dunning stop early. False if it repeats the end recorded."""
        pause = self.pauses.get(pause_id)
        if pause is None:
            raise NotFound(f"no pause {pause_id!r} on this account", field="pause_id")
        fields: dict[str, Any] = {"pause_id": pause_id, "ended_on": ended_on}
        recorded = self.requests.get(f"{self.PauseEnded.KIND}:{pause_id}")
        if recorded is not None and recorded["ended_on"] != ended_on:
            msg = f"pause {pause_id!r} was ended on {recorded['ended_on']}"
            raise Conflict(msg, field="pause_id")
        if self._is_repeat(self.PauseEnded, fields):
            return False
        if ended_on < pause["from_on"]:
            msg = (f"ended_on {ended_on} is before the pause began ({pause['from_on']}); "
                   "a pause not yet begun is ended on its first day")
            raise InvalidCommand(msg, field="ended_on")
        until_on = pause["until_on"]
        if until_on is not None and ended_on > until_on:
            msg = f"pause {pause_id!r} ran its course on {until_on}: there is nothing to end"
            raise Conflict(msg, field="pause_id")
        return self._record(self.PauseEnded, **fields)
