"""The write side: facts recorded on a customer's account, and the collection cycle.

Every write is idempotent by its client-chosen id: the same id with the same body
answers 200 with the same answer and records nothing; different content is a 409.
"""

# No ``from __future__ import annotations``: the fact handlers are made in a loop and
# Litestar reads their body and answer types from the annotations as evaluated here.

from decimal import Decimal
from typing import Annotated, Any, Literal

from litestar import Request, Response
from litestar.exceptions import PermissionDeniedException
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, JSONBody
from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from huikuan.adapters.api import answers as a
from huikuan.adapters.api.access import MANAGERS, MASTER_DATA_BY_ROLE, caller, services
from huikuan.adapters.api.routing import AnswerT, answer, operation
from huikuan.core import commands as c
from huikuan.core.account import Account
from huikuan.core.clock import company_today
from huikuan.core.credit import checked_invoice
from huikuan.core.ledger import Outcome
from huikuan.core.money import minor_units
from huikuan.core.promises import reviewed_promise


def _worked_out(command: c.Command, outcome: Outcome) -> dict[str, Any]:
    """What the ledger worked out for a new invoice or payment: from the events just
    recorded (once saved, the account object may already be serving the next command),
    or for a repeat as the account has it."""
    if isinstance(command, c.IssueInvoice):
        if not outcome.recorded:
            invoice = outcome.account.invoices[command.invoice_id]
            return {"due_on": invoice.due_on, "open_amount": invoice.open_amount,
                    "credit_override": outcome.account.credit_overrides.get(
                        command.invoice_id)}
        issued = next(e for e in outcome.events if isinstance(e, Account.InvoiceIssued))
        credited = sum((e.amount for e in outcome.events if isinstance(e, Account.CreditApplied)
                        and e.invoice_id == issued.invoice_id), Decimal(0))
        override = next((e for e in outcome.events
                         if isinstance(e, Account.CreditOverridden)), None)
        return {"due_on": issued.due_on, "open_amount": issued.amount - credited,
                "credit_override": None if override is None else {
                    "reasons": override.reasons, "override_reason": override.override_reason,
                    "overridden_by": override.overridden_by}}
    if isinstance(command, c.ReceivePayment):
        if not outcome.recorded:
            payment = outcome.account.payments[command.payment_id]
            return {"applied": [{"invoice_id": i, "amount": amount}
                                for i, amount in payment.allocations.items()],
                    "unapplied": payment.unapplied,
                    "recovered": [{"invoice_id": i, "amount": amount}
                                  for i, amount in payment.recovered.items()],
                    **_standing(outcome)}
        received = next(e for e in outcome.events if isinstance(e, Account.PaymentReceived))
        return {"applied": [{"invoice_id": a["invoice_id"], "amount": a["amount"]}
                            for a in received.allocations],
                "unapplied": received.unapplied,
                "recovered": [{"invoice_id": e.invoice_id, "amount": e.amount}
                              for e in outcome.events
                              if isinstance(e, Account.RecoveryReceived)],
                **_standing(outcome)}
    if isinstance(command, _STANDING):
        return _standing(outcome)
    return {}


def _as_recorded(fields: Any, currency: str) -> Any:
    """``fields`` with each amount written as the account records it, with its currency's
    minor units: ``"1000"`` is answered ``"1000.00"`` in CNY, the same answer a repeat
    sent as ``"1000.00"`` gets."""
    if isinstance(fields, Decimal):
        return fields.quantize(Decimal(1).scaleb(-minor_units(currency)))
    if isinstance(fields, dict):
        return {name: _as_recorded(value, currency) for name, value in fields.items()}
    if isinstance(fields, list):
        return [_as_recorded(value, currency) for value in fields]
    return fields


# Facts that move money: their answer says where the account stands once recorded.
_STANDING = (c.BouncePayment, c.IssueCreditNote, c.RaiseDispute, c.ResolveDispute,
             c.WriteOff)


def _standing(outcome: Outcome) -> dict[str, Any]:
    """The account's stage and supply hold once the command was recorded: as the
    decisions recorded with it left them, else as the account stands."""
    stage, hold = outcome.account.stage, outcome.account.supply_hold
    if outcome.recorded:
        for event in outcome.events:
            if isinstance(event, Account.StageEntered):
                stage = event.stage
            elif isinstance(event, (Account.SupplyHeld, Account.SupplyReleased)):
                hold = isinstance(event, Account.SupplyHeld)
    return {"stage": stage, "supply_hold": hold}


def _record(
    request: Request[Any, Any, Any], customer_id: str, command: c.Command, model: type[AnswerT]
) -> Response[AnswerT]:
    outcome = services(request).ledger.execute(customer_id, command)
    fields = _as_recorded({"customer_id": customer_id, **command.model_dump(),
                           **_worked_out(command, outcome)}, outcome.account.currency)
    return Response(answer(model, fields), status_code=201 if outcome.recorded else 200)


def _customer_fact(
    path: str, command_type: type[c.Command], model: type[BaseModel], operation_id: str,
    summary: str,
) -> HTTPRouteHandler:
    @operation("POST", f"/customers/{{customer_id:str}}/{path}", operation_id, tag="facts",
               writes=model, summary=summary)
    def handler(
        request: Request[Any, Any, Any],
        customer_id: FromPath[str],
        data: JSONBody[command_type],  # type: ignore[valid-type]
    ) -> Response[model]:  # type: ignore[valid-type]
        return _record(request, customer_id, data, model)

    return handler


# path, command, answer, operationId, and what it records (the contract's words)
FACTS = [
    _customer_fact("deliveries", c.ConfirmDelivery, a.DeliveryRecorded, "confirmDelivery",
                   "Proof of delivery (回单签收)"),
    _customer_fact("payments", c.ReceivePayment, a.PaymentRecorded, "receivePayment",
                   "A payment; without allocations it settles the oldest due first"),
    _customer_fact("credit-notes", c.IssueCreditNote, a.CreditNoteRecorded, "issueCreditNote",
                   "An allowance (折让) against an invoice"),
    _customer_fact("disputes", c.RaiseDispute, a.DisputeRecorded, "raiseDispute",
                   "Part or all of an invoice is disputed"),
    _customer_fact("contacts", c.LogContact, a.ContactRecorded, "logContact",
                   "A contact in the case file"),
    _customer_fact("payment-plans", c.AgreePaymentPlan, a.PaymentPlanRecorded,
                   "agreePaymentPlan", "An instalment plan"),
    _customer_fact("acknowledgments", c.AcknowledgeDebt, a.AcknowledgmentRecorded,
                   "acknowledgeDebt", "The debtor acknowledged the debt in writing: the "
                   "limitation period starts again"),
    _customer_fact("risk-signals", c.ReportRiskSignal, a.RiskSignalRecorded, "reportRiskSignal",
                   "A danger sign reported by a collector"),
    _customer_fact("write-offs", c.WriteOff, a.WriteOffRecorded, "writeOff",
                   "Write-off (核销); the claim stays on record"),
]


OverrideReason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    AfterValidator(c.plain_text),
]


class IssueInvoice(c.IssueInvoice):
    """A sale invoiced (the command's body, named as the command is in the document)."""

    override_reason: OverrideReason | None = None
    """Why a sale the credit check refuses (``[credit] enforce``) goes ahead: a manager's
    or an admin's decision, recorded with who gave it. Any other role giving it: 403."""


@operation("POST", "/customers/{customer_id:str}/invoices", "issueInvoice", tag="facts",
           writes=a.InvoiceRecorded)
def issue_invoice(
    request: Request[Any, Any, Any],
    customer_id: FromPath[str],
    data: JSONBody[IssueInvoice],
) -> Response[a.InvoiceRecorded]:
    """A sale invoiced: a receivable

    With ``[credit] enforce = true``, a sale the credit check refuses (over the limit,
    supply on hold…) is a 409 (problem type ending in credit-refused, with the reasons)
    and nothing is recorded, unless a manager or an admin gives ``override_reason``."""
    key_id, role = caller(request)
    if data.override_reason is not None and role not in MANAGERS:
        raise PermissionDeniedException(
            f"the {role} role may not override the credit check (override_reason)")
    command = c.IssueInvoice(**data.model_dump(exclude={"override_reason"}))
    checked = checked_invoice(services(request).host, command,
                              override_reason=data.override_reason,
                              overridden_by=f"key:{key_id}")
    outcome = services(request).ledger.change(customer_id, "issue_invoice", checked)
    fields = _as_recorded({"customer_id": customer_id, **command.model_dump(),
                           **_worked_out(command, outcome)}, outcome.account.currency)
    return Response(answer(a.InvoiceRecorded, fields),
                    status_code=201 if outcome.recorded else 200)


@operation("POST", "/customers/{customer_id:str}/promises", "makePromise", tag="facts",
           writes=a.PromiseRecorded)
def make_promise(
    request: Request[Any, Any, Any],
    customer_id: FromPath[str],
    data: JSONBody[c.MakePromise],
) -> Response[a.PromiseRecorded]:
    """A promise to pay (付款承诺书)

    Held to the policy's promise review: by default a promise falling due more than 60
    days after it was made is recorded with ``concerns`` (``[commitments]
    beyond_max = "refuse"`` makes it a 422 on ``due_on``)."""
    outcome = services(request).ledger.change(
        customer_id, "make_promise", reviewed_promise(services(request).host, data))
    if outcome.recorded:  # from the events: the saved account may be serving another request
        concerns = next((e.concerns for e in outcome.events
                         if isinstance(e, Account.PromiseFlagged)), [])
    else:
        concerns = list(outcome.account.promises[data.promise_id].concerns)
    fields = _as_recorded({"customer_id": customer_id, **data.model_dump(),
                           "concerns": concerns}, outcome.account.currency)
    return Response(answer(a.PromiseRecorded, fields),
                    status_code=201 if outcome.recorded else 200)


class BounceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bounced_on: c.BusinessDate
    reason: c.Text | None = None


class ResolveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resolved_on: c.BusinessDate
    outcome: Literal["rejected", "credited"]
    credited_amount: c.NonNegativeAmount | None = None


class DemandDeliveryBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    delivered_on: c.BusinessDate
    proof_ref: c.Ref | None = None
    """A courier tracking number, a signed receipt's reference."""
    method: c.DeliveryMethod | None = None


class CycleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: c.BusinessDate
    review_all: c.Flag = False
    """Look at every account, not only those a fact or a scheduled date makes due."""


@operation("POST", "/customers", "registerCustomer", tag="facts",
           writes=a.CustomerRegistered)
def register_customer(
    request: Request[Any, Any, Any], data: JSONBody[c.RegisterCustomer]
) -> Response[a.CustomerRegistered]:
    """Register a customer's account."""
    outcome = services(request).ledger.register_customer(data)
    fields = _as_recorded({**data.model_dump(), "registered_on": outcome.account.registered_on},
                          outcome.account.currency)
    return Response(answer(a.CustomerRegistered, fields),
                    status_code=201 if outcome.recorded else 200)


@operation("PATCH", "/customers/{customer_id:str}", "changeCustomer", tag="facts")
def change_customer(
    request: Request[Any, Any, Any],
    customer_id: FromPath[str],
    data: JSONBody[c.ChangeCustomer],
) -> a.CustomerChanged:
    """Change the customer's master data (客户资料变更): only the fields given

    Recorded as one ``CustomerChanged`` event holding the fields that changed and their
    old values, dated ``effective_on`` (default today where the company is); the worklist,
    aging by collector, letters and the cycle follow at once. New payment terms apply to
    invoices issued from ``effective_on``; invoices already recorded keep their due
    dates. A request that changes nothing (a retry) records nothing and answers the
    master data as it is. admin and manager may change every field; a collector only
    ``contacts`` and ``address`` (403 naming the field otherwise). An account's
    ``currency`` never changes (422)."""
    _key_id, role = caller(request)
    allowed = MASTER_DATA_BY_ROLE.get(role)
    if allowed is not None:
        refused = sorted(data.model_fields_set - {"effective_on"} - allowed)
        if refused:
            raise PermissionDeniedException(
                f"the {role} role may change {' and '.join(sorted(allowed))} only, "
                f"not {', '.join(refused)}")
    today = company_today(services(request).host.settings.sections)
    command = data.model_copy(update={"effective_on": data.effective_on or today})
    ledger = services(request).ledger
    outcome = ledger.execute(customer_id, command)
    recorded = next((e for e in outcome.events if isinstance(e, Account.CustomerChanged)), None)
    return answer(a.CustomerChanged, {
        **ledger.master_data(customer_id, on=today),
        "changed": [f for f in c.MASTER_FIELDS if recorded is not None and f in recorded.changes],
        "effective_on": command.effective_on,
    })


@operation("POST", "/customers/{customer_id:str}/payments/{payment_id:str}/bounce",
           "bouncePayment", tag="facts", writes=a.PaymentBounced)
def bounce_payment(
    request: Request[Any, Any, Any],
    customer_id: FromPath[str],
    payment_id: FromPath[str],
    data: JSONBody[BounceBody],
) -> Response[a.PaymentBounced]:
    """The payment failed (银行退票): its allocations are undone."""
    command = c.BouncePayment(payment_id=payment_id, **data.model_dump())
    return _record(request, customer_id, command, a.PaymentBounced)


@operation("POST", "/customers/{customer_id:str}/disputes/{dispute_id:str}/resolve",
           "resolveDispute", tag="facts", writes=a.DisputeResolved)
def resolve_dispute(
    request: Request[Any, Any, Any],
    customer_id: FromPath[str],
    dispute_id: FromPath[str],
    data: JSONBody[ResolveBody],
) -> Response[a.DisputeResolved]:
    """The dispute ends: rejected, or credited."""
    command = c.ResolveDispute(dispute_id=dispute_id, **data.model_dump())
    return _record(request, customer_id, command, a.DisputeResolved)


@operation("POST", "/messages/{message_id:str}/delivery", "recordDemandDelivery",
           tag="facts", writes=a.DemandDeliveryRecorded)
def record_demand_delivery(
    request: Request[Any, Any, Any],
    message_id: FromPath[str],
    data: JSONBody[DemandDeliveryBody],
) -> Response[a.DemandDeliveryRecorded]:
    """Proof that a demand reached the debtor (送达): its invoices' limitation restarts.

    409 for a message not sent yet (or a task, which no debtor receives)."""
    command = c.RecordDemandDelivery(message_id=message_id, **data.model_dump())
    found = services(request).views.fresh().message(command.message_id)  # 404 if unknown
    customer_id = found["customer_id"]
    outcome = services(request).ledger.execute(customer_id, command)
    invoice_ids = outcome.account.messages[command.message_id].invoice_ids
    fields = {"customer_id": customer_id, **command.model_dump(),
              "invoice_ids": list(invoice_ids)}
    return Response(answer(a.DemandDeliveryRecorded, fields),
                    status_code=201 if outcome.recorded else 200)


@operation("POST", "/cycle", "runCycle", tag="policy")
def run_cycle(request: Request[Any, Any, Any], data: JSONBody[CycleBody]) -> a.CycleRun:
    """Run the collection cycle for a business date over every account. One at a time
    per store: while another runs (any date, any process) this one is refused (409)."""
    cycle = services(request).cycle
    assert cycle is not None  # Services builds one when not given
    summary = cycle.run(data.as_of, review_all=data.review_all)
    return answer(a.CycleRun, {
        "as_of": summary.as_of,
        "accounts": summary.accounts,
        "accounts_reviewed": summary.accounts_reviewed,
        "accounts_changed": summary.accounts_changed,
        "counts": dict(summary.counts),
        "failures": summary.failures,
    })


WRITES = [register_customer, change_customer, issue_invoice, make_promise, *FACTS,
          bounce_payment, resolve_dispute, record_demand_delivery, run_cycle]
