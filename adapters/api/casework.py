"""The case work over HTTP: dunning stops, hand-offs and their updates, costs, guarantees.

Each write is idempotent by its id (the same body again: 200 and nothing recorded; a
different one: 409) and records nothing when refused. Who may do what is in the role
matrix (:data:`huikuan.adapters.api.access.MAY`): collectors and managers keep these
facts; handing a case off is a manager's decision; and a collector's dunning stop is
short, with an end (``[pauses] collector_max_days``, 30 days): a longer or open-ended
one is a manager's (403 for a collector).
"""

# No ``from __future__ import annotations``: Litestar reads the handlers' body and answer
# types from their annotations.

from typing import Any

from litestar import Request, Response
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, JSONBody
from pydantic import BaseModel, ConfigDict

from huikuan.adapters.api import answers as a
from huikuan.adapters.api.access import MANAGERS, caller, services
from huikuan.adapters.api.routing import AnswerT, answer, operation
from huikuan.core import case_commands as cc
from huikuan.core import commands as c
from huikuan.core.account import Account
from huikuan.core.ledger import Outcome
from huikuan.core.plugin import Settings

COLLECTOR_MAX_DAYS = 30


def collector_max_days(settings: Settings) -> int:
    """``[pauses] collector_max_days``: the longest dunning stop a collector may record
    (days from ``from_on`` through ``until_on``); longer or open-ended: a manager's."""
    return int(settings.section("pauses").get("collector_max_days", COLLECTOR_MAX_DAYS))


# ---- what the writes answer


class PauseRecorded(cc.PauseDunning, a.Recorded):
    pass


class PauseEnded(cc.EndPause, a.Recorded):
    pass


class HandoffRecorded(cc.HandOff, a.Recorded):
    covered_invoice_ids: list[str]
    """The invoices handed off: those named, or every invoice open on handed_on."""
    status: str
    """``filed`` when filed_on was given, else ``handed_off``."""


class HandoffUpdateRecorded(cc.UpdateHandoff, a.Recorded):
    update_id: str
    """The update's id: the one given, or the one its content gives."""


class CostRecorded(cc.RecordCost, a.Recorded):
    collector: str | None
    """The account's collector when the cost was recorded."""


class GuaranteeRecorded(cc.RecordGuarantee, a.Recorded):
    pass


class FeeWaived(cc.WaiveFee, a.Recorded):
    pass


class InterestWaived(cc.WaiveInterest, a.Recorded):
    pass


# ---- bodies whose id is in the path


class EndPauseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ended_on: c.BusinessDate


class WaiveFeeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    waived_on: c.BusinessDate
    reason: cc.Reason | None = None


class UpdateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: c.BusinessDate
    status: cc.UpdateStatus
    note: c.Text | None = None
    case_number: c.Ref | None = None
    recovered_amount: c.Amount | None = None
    """What the party reports recovered with this update: information only (the money
    comes in through ``POST …/payments``)."""
    update_id: c.Id | None = None


def _answered(outcome: Outcome, model: type[AnswerT], fields: dict[str, Any]) -> Response[Any]:
    return Response(answer(model, fields), status_code=201 if outcome.recorded else 200)


def _recorded(outcome: Outcome, event_class: type[Any]) -> Any:
    return next((e for e in outcome.events if isinstance(e, event_class)), None)


@operation("POST", "/customers/{customer_id:str}/pauses", "pauseDunning", tag="facts",
           writes=PauseRecorded)
def pause_dunning(
    request: Request[Any, Any, Any],
    customer_id: FromPath[str],
    data: JSONBody[cc.PauseDunning],
) -> Response[PauseRecorded]:
    """A dunning stop (暂缓催收) for some invoices or the whole account

    No message and no step of the ladder for them from from_on through until_on. A
    collector may record one of at most ``[pauses] collector_max_days`` (30) days, with
    an ``until_on``; a longer or open-ended stop is a manager's decision (403)."""
    _, role = caller(request)
    if role not in MANAGERS:
        most = collector_max_days(services(request).host.settings)
        days = None if data.until_on is None else (data.until_on - data.from_on).days + 1
        if days is None or days > most:
            raise PermissionDeniedException(
                f"the {role} role may stop dunning for at most {most} days, with an "
                "until_on; a longer or open-ended stop is a manager's decision")
    outcome = services(request).ledger.execute(customer_id, data)
    return _answered(outcome, PauseRecorded, {"customer_id": customer_id, **data.model_dump()})


@operation("POST", "/customers/{customer_id:str}/pauses/{pause_id:str}/end", "endPause",
           tag="facts", writes=PauseEnded)
def end_pause(
    request: Request[Any, Any, Any],
    customer_id: FromPath[str],
    pause_id: FromPath[str],
    data: JSONBody[EndPauseBody],
) -> Response[PauseEnded]:
    """A dunning stop ends early: the ladder runs again from ended_on

    404 for an unknown stop; 409 for one ended before on another day, or already over."""
    command = cc.EndPause(pause_id=pause_id, **data.model_dump())
    outcome = services(request).ledger.execute(customer_id, command)
    return _answered(outcome, PauseEnded, {"customer_id": customer_id, **command.model_dump()})


@operation("POST", "/customers/{customer_id:str}/handoffs", "handOff", tag="facts",
           writes=HandoffRecorded)
def hand_off(
    request: Request[Any, Any, Any],
    customer_id: FromPath[str],
    data: JSONBody[cc.HandOff],
) -> Response[HandoffRecorded]:
    """A hand-off (移交): the case's invoices leave the ladder for the party

    To an agency, a lawyer, litigation, arbitration or the legal department. A suit or
    arbitration filed (``filed_on``) restarts their limitation period. With
    ``message_id``, it accepts the proposal of a hand-off review task."""
    outcome = services(request).ledger.execute(customer_id, data)
    event = _recorded(outcome, Account.HandedOff)
    covered = (event.covered_invoice_ids if event is not None
               else outcome.account.cases[data.handoff_id]["invoice_ids"])
    return _answered(outcome, HandoffRecorded, {
        "customer_id": customer_id, **data.model_dump(), "covered_invoice_ids": covered,
        "status": "filed" if data.filed_on else "handed_off"})


@operation("POST", "/customers/{customer_id:str}/handoffs/{handoff_id:str}/updates",
           "updateHandoff", tag="facts", writes=HandoffUpdateRecorded)
def update_handoff(
    request: Request[Any, Any, Any],
    customer_id: FromPath[str],
    handoff_id: FromPath[str],
    data: JSONBody[UpdateBody],
) -> Response[HandoffUpdateRecorded]:
    """A case's progress, to its end or its return

    Accepted, filed, hearing, judgment, enforcement, settled, closed or returned (its
    invoices back on the ladder). ``filed`` on a suit or arbitration restarts the
    limitation period from ``on``."""
    command = cc.UpdateHandoff(handoff_id=handoff_id, **data.model_dump())
    outcome = services(request).ledger.execute(customer_id, command)
    event = _recorded(outcome, Account.HandoffUpdated)
    update_id = (event.update_id if event is not None else outcome.account.handoff_update_id(
        **command.model_dump()))
    return _answered(outcome, HandoffUpdateRecorded, {
        "customer_id": customer_id, **command.model_dump(), "update_id": update_id})


@operation("POST", "/customers/{customer_id:str}/costs", "recordCost", tag="facts",
           writes=CostRecorded)
def record_cost(
    request: Request[Any, Any, Any],
    customer_id: FromPath[str],
    data: JSONBody[cc.RecordCost],
) -> Response[CostRecorded]:
    """A collection cost (催收成本), in the currency it was paid in"""
    outcome = services(request).ledger.execute(customer_id, data)
    event = _recorded(outcome, Account.CostRecorded)
    collector = (event.collector if event is not None
                 else outcome.account.costs[data.cost_id]["collector"])
    return _answered(outcome, CostRecorded, {"customer_id": customer_id, **data.model_dump(),
                                             "collector": collector})


@operation("POST", "/customers/{customer_id:str}/guarantees", "recordGuarantee", tag="facts",
           writes=GuaranteeRecorded)
def record_guarantee(
    request: Request[Any, Any, Any],
    customer_id: FromPath[str],
    data: JSONBody[cc.RecordGuarantee],
) -> Response[GuaranteeRecorded]:
    """A guarantee (担保) in the case file"""
    outcome = services(request).ledger.execute(customer_id, data)
    return _answered(outcome, GuaranteeRecorded,
                     {"customer_id": customer_id, **data.model_dump()})


@operation("POST", "/customers/{customer_id:str}/fees/{fee_id:str}/waive", "waiveFee",
           tag="facts", writes=FeeWaived)
def waive_fee(
    request: Request[Any, Any, Any],
    customer_id: FromPath[str],
    fee_id: FromPath[str],
    data: JSONBody[WaiveFeeBody],
) -> Response[FeeWaived]:
    """A fee (催收费) waived: a manager's decision

    The fee is no longer owed from waived_on; the customer view lists it as waived.
    404 for an unknown fee; 409 for one waived before on another day or for another
    reason."""
    command = cc.WaiveFee(fee_id=fee_id, **data.model_dump())
    outcome = services(request).ledger.execute(customer_id, command)
    return _answered(outcome, FeeWaived, {"customer_id": customer_id, **command.model_dump()})


@operation("POST", "/customers/{customer_id:str}/interest-waivers", "waiveInterest",
           tag="facts", writes=InterestWaived)
def waive_interest(
    request: Request[Any, Any, Any],
    customer_id: FromPath[str],
    data: JSONBody[cc.WaiveInterest],
) -> Response[InterestWaived]:
    """Late interest waived on an invoice (减免利息): a manager's decision

    At most the interest owed on the invoice on waived_on (409 otherwise); the customer
    view, letters and statements state the interest less what was waived."""
    outcome = services(request).ledger.execute(customer_id, data)
    return _answered(outcome, InterestWaived, {"customer_id": customer_id,
                                               **data.model_dump()})


CASEWORK = [pause_dunning, end_pause, hand_off, update_handoff, record_cost, record_guarantee,
            waive_fee, waive_interest]
