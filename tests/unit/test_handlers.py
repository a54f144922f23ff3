"""Commands to handlers: every command the ledger executes has a typed handler, and the
handler passes the account method exactly what the command holds."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from huikuan.core import case_commands, commands
from huikuan.core.commands import Command
from huikuan.core.handlers import COMMAND_HANDLERS, handle

SAMPLES: list[Command] = [
    commands.IssueInvoice(invoice_id="I-1", amount="100.00", currency="CNY",
                          issued_on=date(2026, 2, 1), due_on=date(2026, 3, 1),
                          contract_ref="HT-1", order_ref="PO-1"),
    commands.ConfirmDelivery(invoice_id="I-1", delivered_on=date(2026, 2, 2),
                             receipt_ref="QS-1", signed_by="王会计"),
    commands.ReceivePayment(payment_id="P-1", amount="50", currency="CNY",
                            received_on=date(2026, 2, 3), method="bank_transfer",
                            allocations=[{"invoice_id": "I-1", "amount": "50"}]),
    commands.ReceivePayment(payment_id="P-2", amount="50", currency="CNY",
                            received_on=date(2026, 2, 3)),
    commands.BouncePayment(payment_id="P-1", bounced_on=date(2026, 2, 4), reason="退票"),
    commands.IssueCreditNote(credit_note_id="CN-1", invoice_id="I-1", amount="5",
                             issued_on=date(2026, 2, 5), reason="折让"),
    commands.RaiseDispute(dispute_id="D-1", invoice_id="I-1", amount="10",
                          raised_on=date(2026, 2, 6), reason="质量异议"),
    commands.ResolveDispute(dispute_id="D-1", resolved_on=date(2026, 2, 7),
                            outcome="credited", credited_amount="10"),
    commands.WriteOff(invoice_id="I-1", amount="1", written_off_on=date(2026, 2, 8),
                      reason="uncollectable", write_off_id="W-1"),
    commands.LogContact(occurred_at=datetime(2026, 2, 9, 6, 30, tzinfo=UTC), channel="phone",
                        direction="outbound", outcome="promised", contact_id="K-1",
                        note="will pay", evidence_ref="REC-1", collector="li.wei"),
    commands.MakePromise(promise_id="PR-1", amount="20", due_on=date(2026, 2, 20),
                         made_on=date(2026, 2, 10), written=True, document_ref="付款承诺书"),
    commands.AgreePaymentPlan(plan_id="PL-1", agreed_on=date(2026, 2, 11), installments=[
        {"due_on": date(2026, 3, 1), "amount": "10"}]),
    commands.AcknowledgeDebt(acknowledged_on=date(2026, 2, 12), document_ref="对账函",
                             invoice_ids=["I-1"], acknowledgment_id="A-1"),
    commands.AcknowledgeDebt(acknowledged_on=date(2026, 2, 12)),
    commands.ReportRiskSignal(signal="lawsuit", observed_on=date(2026, 2, 13), note="n",
                              signal_id="S-1"),
    commands.RecordDemandDelivery(message_id="m-1", delivered_on=date(2026, 2, 14),
                                  proof_ref="EMS 1234567890", method="courier"),
    # Every field given: the handler passes the fields given, and only those.
    commands.ChangeCustomer(
        name="n", collector="wang.fang", payment_terms_days=45, credit_limit="1000.00",
        credit_grade="B", timezone="Asia/Shanghai", language="en", tags=["vip"],
        contacts=[{"name": "王会计", "email": "ap@x.example"}],
        address={"line1": "张江路1号", "city": "上海市"}, tax_id="91310000X",
        currency="CNY", effective_on=date(2026, 2, 15)),
    case_commands.PauseDunning(pause_id="PA-1", reason="客户审计", from_on=date(2026, 2, 15),
                               until_on=date(2026, 2, 28), invoice_ids=["I-1"]),
    case_commands.EndPause(pause_id="PA-1", ended_on=date(2026, 2, 20)),
    case_commands.HandOff(handoff_id="H-1", to="litigation", handed_on=date(2026, 3, 1),
                          party="律师事务所", invoice_ids=["I-1"], reference="委托-1",
                          filed_on=date(2026, 3, 5), message_id="m-2"),
    case_commands.UpdateHandoff(handoff_id="H-1", on=date(2026, 4, 1), status="judgment",
                                note="胜诉", case_number="(2026)民初1号",
                                recovered_amount="30", update_id="U-1"),
    case_commands.RecordCost(cost_id="CO-1", amount="300", currency="HKD",
                             incurred_on=date(2026, 3, 5), kind="court_fee", handoff_id="H-1",
                             note="受理费"),
    case_commands.RecordGuarantee(guarantee_id="G-1", kind="personal",
                                  given_on=date(2026, 2, 16), guarantor="张三", amount="500",
                                  document_ref="保证合同"),
    case_commands.WaiveFee(fee_id="notice-2026-02-05", waived_on=date(2026, 2, 20),
                           reason="全额付款"),
    case_commands.WaiveInterest(waiver_id="IW-1", invoice_id="I-1", amount="5.00",
                                waived_on=date(2026, 2, 20), reason="减免利息"),
    case_commands.ConfirmStatement(
        statement_id="ST-1", confirmed_on=date(2026, 4, 15), signed_by="王芳",
        document_ref="对账函", differences=[{"invoice_id": "I-1", "amount": "30",
                                            "note": "货损"}]),
]


class Spy:
    """Stands in for the account: remembers which method was called with what."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        def method(**kwargs: Any) -> bool:
            self.calls.append((name, kwargs))
            return True

        return method


def test_every_command_but_registration_has_a_handler() -> None:
    kinds = {c for module in (commands, case_commands) for c in vars(module).values()
             if isinstance(c, type) and issubclass(c, Command) and c is not Command}
    # Registration opens an account; a statement issued is recorded with the figures the
    # adapter draws from the account as of its dates (adapters.api.documents).
    assert set(COMMAND_HANDLERS) == kinds - {commands.RegisterCustomer,
                                             case_commands.IssueStatement}
    assert {type(s) for s in SAMPLES} == set(COMMAND_HANDLERS)


@pytest.mark.parametrize("command", SAMPLES, ids=lambda c: type(c).__name__)
def test_a_handler_passes_the_account_method_all_the_command_holds(command: Command) -> None:
    spy = Spy()
    assert handle(spy, command) is True  # type: ignore[arg-type]
    handler = COMMAND_HANDLERS[type(command)]
    # The account method a handler calls is the one it is named after (the logs' name).
    assert spy.calls == [(handler.__name__, command.model_dump())]


def test_a_command_without_a_handler_is_a_programming_error() -> None:
    register = commands.RegisterCustomer(customer_id="C-1", name="n", currency="CNY")
    with pytest.raises(TypeError):
        handle(Spy(), register)  # type: ignore[arg-type]


def test_a_change_passes_only_the_fields_given() -> None:
    spy = Spy()
    change = commands.ChangeCustomer(collector=None, effective_on=date(2026, 2, 15))
    handle(spy, change)  # type: ignore[arg-type]
    assert spy.calls == [("change_customer",
                          {"collector": None, "effective_on": date(2026, 2, 15)})]
