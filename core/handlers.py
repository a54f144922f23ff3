"""Commands to handlers: which account method records each command, as a typed map.

Each handler takes the account and one kind of command and returns False for an
idempotent repeat. ``COMMAND_HANDLERS`` maps the command's type to its handler; the
ledger (``execute``, ``execute_many``) and the demo loader dispatch through ``handle``.
A handler's name is what the logs call the command. Registering a customer is not
here: it opens an account rather than changing one (``Ledger.register_customer``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from huikuan.core.account import Account
from huikuan.core.case_commands import (
    ConfirmStatement,
    EndPause,
    HandOff,
    PauseDunning,
    RecordCost,
    RecordGuarantee,
    UpdateHandoff,
    WaiveFee,
    WaiveInterest,
)
from huikuan.core.commands import (
    AcknowledgeDebt,
    AgreePaymentPlan,
    BouncePayment,
    ChangeCustomer,
    Command,
    ConfirmDelivery,
    IssueCreditNote,
    IssueInvoice,
    LogContact,
    MakePromise,
    RaiseDispute,
    ReceivePayment,
    RecordDemandDelivery,
    ReportRiskSignal,
    ResolveDispute,
    WriteOff,
)
from huikuan.core.errors import InvalidCommand


def issue_invoice(account: Account, command: IssueInvoice) -> bool:
    return account.issue_invoice(
        invoice_id=command.invoice_id, amount=command.amount, currency=command.currency,
        issued_on=command.issued_on, due_on=command.due_on,
        contract_ref=command.contract_ref, order_ref=command.order_ref,
    )


def confirm_delivery(account: Account, command: ConfirmDelivery) -> bool:
    return account.confirm_delivery(
        invoice_id=command.invoice_id, delivered_on=command.delivered_on,
        receipt_ref=command.receipt_ref, signed_by=command.signed_by,
    )


def receive_payment(account: Account, command: ReceivePayment) -> bool:
    allocations = command.allocations
    return account.receive_payment(
        payment_id=command.payment_id, amount=command.amount, currency=command.currency,
        received_on=command.received_on, method=command.method,
        allocations=None if allocations is None else [a.model_dump() for a in allocations],
    )


def bounce_payment(account: Account, command: BouncePayment) -> bool:
    return account.bounce_payment(
        payment_id=command.payment_id, bounced_on=command.bounced_on, reason=command.reason,
    )


def issue_credit_note(account: Account, command: IssueCreditNote) -> bool:
    return account.issue_credit_note(
        credit_note_id=command.credit_note_id, invoice_id=command.invoice_id,
        amount=command.amount, issued_on=command.issued_on, reason=command.reason,
    )


def raise_dispute(account: Account, command: RaiseDispute) -> bool:
    return account.raise_dispute(
        dispute_id=command.dispute_id, invoice_id=command.invoice_id, amount=command.amount,
        raised_on=command.raised_on, reason=command.reason,
    )


def resolve_dispute(account: Account, command: ResolveDispute) -> bool:
    return account.resolve_dispute(
        dispute_id=command.dispute_id, resolved_on=command.resolved_on,
        outcome=command.outcome, credited_amount=command.credited_amount,
    )


def write_off(account: Account, command: WriteOff) -> bool:
    return account.write_off(
        invoice_id=command.invoice_id, amount=command.amount,
        written_off_on=command.written_off_on, reason=command.reason,
        write_off_id=command.write_off_id,
    )


def log_contact(account: Account, command: LogContact) -> bool:
    return account.log_contact(
        occurred_at=command.occurred_at, channel=command.channel,
        direction=command.direction, outcome=command.outcome,
        contact_id=command.contact_id, note=command.note,
        evidence_ref=command.evidence_ref, collector=command.collector,
    )


def make_promise(account: Account, command: MakePromise) -> bool:
    return account.make_promise(
        promise_id=command.promise_id, amount=command.amount, due_on=command.due_on,
        made_on=command.made_on, written=command.written, document_ref=command.document_ref,
    )


def agree_payment_plan(account: Account, command: AgreePaymentPlan) -> bool:
    return account.agree_payment_plan(
        plan_id=command.plan_id, agreed_on=command.agreed_on,
        installments=[i.model_dump() for i in command.installments],
    )


def acknowledge_debt(account: Account, command: AcknowledgeDebt) -> bool:
    invoice_ids = command.invoice_ids
    return account.acknowledge_debt(
        acknowledged_on=command.acknowledged_on, document_ref=command.document_ref,
        invoice_ids=None if invoice_ids is None else list(invoice_ids),
        acknowledgment_id=command.acknowledgment_id,
    )


def report_risk_signal(account: Account, command: ReportRiskSignal) -> bool:
    return account.report_risk_signal(
        signal=command.signal, observed_on=command.observed_on, note=command.note,
        signal_id=command.signal_id,
    )


def record_demand_delivery(account: Account, command: RecordDemandDelivery) -> bool:
    return account.record_demand_delivery(
        message_id=command.message_id, delivered_on=command.delivered_on,
        proof_ref=command.proof_ref, method=command.method,
    )


def change_customer(account: Account, command: ChangeCustomer) -> bool:
    if command.effective_on is None:
        # The adapters default it to today where the company is; the core has no clock.
        raise InvalidCommand("effective_on is required here", field="effective_on")
    # Only the fields given: one left out stays as it is, a null clears it.
    return account.change_customer(**command.model_dump(include=command.model_fields_set))
def pause_dunning(account: Account, command: PauseDunning) -> bool:
    return account.pause_dunning(
        pause_id=command.pause_id, reason=command.reason, from_on=command.from_on,
        until_on=command.until_on,
        invoice_ids=None if command.invoice_ids is None else list(command.invoice_ids),
    )


def end_pause(account: Account, command: EndPause) -> bool:
    return account.end_pause(pause_id=command.pause_id, ended_on=command.ended_on)


def hand_off(account: Account, command: HandOff) -> bool:
    return account.hand_off(
        handoff_id=command.handoff_id, to=command.to, handed_on=command.handed_on,
        party=command.party,
        invoice_ids=None if command.invoice_ids is None else list(command.invoice_ids),
        reference=command.reference, filed_on=command.filed_on, message_id=command.message_id,
    )


def update_handoff(account: Account, command: UpdateHandoff) -> bool:
    return account.update_handoff(
        handoff_id=command.handoff_id, on=command.on, status=command.status,
        note=command.note, case_number=command.case_number,
        recovered_amount=command.recovered_amount, update_id=command.update_id,
    )


def record_cost(account: Account, command: RecordCost) -> bool:
    return account.record_cost(
        cost_id=command.cost_id, amount=command.amount, currency=command.currency,
        incurred_on=command.incurred_on, kind=command.kind, handoff_id=command.handoff_id,
        note=command.note,
    )


def record_guarantee(account: Account, command: RecordGuarantee) -> bool:
    return account.record_guarantee(
        guarantee_id=command.guarantee_id, kind=command.kind, given_on=command.given_on,
        guarantor=command.guarantor, amount=command.amount, document_ref=command.document_ref,
    )


def waive_fee(account: Account, command: WaiveFee) -> bool:
    return account.waive_fee(fee_id=command.fee_id, waived_on=command.waived_on,
                             reason=command.reason)


def waive_interest(account: Account, command: WaiveInterest) -> bool:
    return account.waive_interest(
        waiver_id=command.waiver_id, invoice_id=command.invoice_id, amount=command.amount,
        waived_on=command.waived_on, reason=command.reason,
    )


def confirm_statement(account: Account, command: ConfirmStatement) -> bool:
    return account.confirm_statement(
        statement_id=command.statement_id, confirmed_on=command.confirmed_on,
        signed_by=command.signed_by, document_ref=command.document_ref,
        differences=[d.model_dump() for d in command.differences],
    )


Handler = Callable[[Account, Any], bool]
"""A handler takes the account and its own type of command (hence ``Any`` here)."""

COMMAND_HANDLERS: dict[type[Command], Handler] = {
    IssueInvoice: issue_invoice,
    ConfirmDelivery: confirm_delivery,
    ReceivePayment: receive_payment,
    BouncePayment: bounce_payment,
    IssueCreditNote: issue_credit_note,
    RaiseDispute: raise_dispute,
    ResolveDispute: resolve_dispute,
    WriteOff: write_off,
    LogContact: log_contact,
    MakePromise: make_promise,
    AgreePaymentPlan: agree_payment_plan,
    AcknowledgeDebt: acknowledge_debt,
    ReportRiskSignal: report_risk_signal,
    RecordDemandDelivery: record_demand_delivery,
    ChangeCustomer: change_customer,
    PauseDunning: pause_dunning,
    EndPause: end_pause,
    HandOff: hand_off,
    UpdateHandoff: update_handoff,
    RecordCost: record_cost,
    RecordGuarantee: record_guarantee,
    WaiveFee: waive_fee,
    WaiveInterest: waive_interest,
    ConfirmStatement: confirm_statement,
}


def handler_for(command: Command) -> Handler:
    """The handler of ``command``; TypeError for a command no account method records."""
    try:
        return COMMAND_HANDLERS[type(command)]
    except KeyError:
        msg = f"no handler for {type(command).__name__}"
        raise TypeError(msg) from None


def handle(account: Account, command: Command) -> bool:
    """Record ``command`` on ``account``; False if it repeats one already recorded."""
    return handler_for(command)(account, command)
