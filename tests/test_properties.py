"""Ledger invariants under any sequence of commands, valid or not (hypothesis).

- no open amount ever goes negative, nor unapplied credit;
- the open amounts add up to invoiced − allocated payments − credits − write-offs;
- replaying the stored events gives the live state; so does loading from a snapshot;
- repeating a command that was recorded records nothing and changes nothing.
"""

import uuid
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from huikuan.core.account import Account, account_id
from huikuan.core.commands import (
    BouncePayment,
    IssueCreditNote,
    RaiseDispute,
    ReceivePayment,
    RegisterCustomer,
    ResolveDispute,
    WriteOff,
)
from huikuan.core.errors import DomainError
from tests.conftest import invoice

START = date(2026, 1, 1)
INVOICES = [f"I-{n}" for n in range(5)]
PAYMENTS = [f"P-{n}" for n in range(5)]
DISPUTES = [f"D-{n}" for n in range(3)]

amounts = st.integers(1, 50_000).map(lambda cents: Decimal(cents).scaleb(-2))
# Invoices early, the facts about them mostly later, so most commands can succeed.
invoice_days = st.integers(0, 30).map(lambda n: START + timedelta(days=n))
days = st.integers(15, 120).map(lambda n: START + timedelta(days=n))


def _issue(i, a, d, terms):
    return invoice(i, str(a), d, due_on=d + timedelta(days=terms))


commands = st.one_of(
    st.builds(_issue, st.sampled_from(INVOICES), amounts, invoice_days, st.integers(0, 60)),
    st.builds(lambda p, a, d: ReceivePayment(payment_id=p, amount=a, currency="CNY",
                                             received_on=d),
              st.sampled_from(PAYMENTS), amounts, days),
    st.builds(lambda p, a, d, i: ReceivePayment(payment_id=p, amount=a, currency="CNY",
                                                received_on=d,
                                                allocations=[{"invoice_id": i, "amount": a}]),
              st.sampled_from(PAYMENTS), amounts, days, st.sampled_from(INVOICES)),
    st.builds(lambda p, d: BouncePayment(payment_id=p, bounced_on=d),
              st.sampled_from(PAYMENTS), days),
    st.builds(lambda n, i, a, d: IssueCreditNote(credit_note_id=f"CN-{n}", invoice_id=i,
                                                 amount=a, issued_on=d),
              st.integers(0, 3), st.sampled_from(INVOICES), amounts, days),
    st.builds(lambda x, i, a, d: RaiseDispute(dispute_id=x, invoice_id=i, amount=a,
                                              raised_on=d),
              st.sampled_from(DISPUTES), st.sampled_from(INVOICES), amounts, days),
    st.builds(lambda x, d, credited: ResolveDispute(
        dispute_id=x, resolved_on=d, outcome="credited" if credited else "rejected"),
        st.sampled_from(DISPUTES), days, st.booleans()),
    st.builds(lambda i, a, d: WriteOff(invoice_id=i, amount=a, written_off_on=d),
              st.sampled_from(INVOICES), amounts, days),
)


def check_ledger_invariants(account: Account) -> None:
    zero = Decimal(0)
    for inv in account.invoices.values():
        assert inv.open_amount >= zero, inv
        assert account.disputed_amount(inv) <= inv.open_amount
    for payment in account.payments.values():
        assert payment.unapplied >= zero
        # Every cent of a payment is somewhere: on invoices, recovering money written
        # off, settling fees and interest (art. 561), or waiting as unapplied credit.
        settlement = account.charge_settlements.get(payment.payment_id)
        charges = zero if settlement is None or settlement["bounced_on"] else sum(
            (*settlement["fees"].values(), *settlement["interest"].values()), zero)
        placed = (sum(payment.allocations.values(), zero)
                  + sum(payment.recovered.values(), zero) + charges + payment.unapplied)
        assert placed == (zero if payment.bounced_on else payment.amount), payment
    invoiced = sum((i.amount for i in account.invoices.values()), zero)
    allocated = sum(
        (a for p in account.payments.values() for a in p.allocations.values()), zero
    )
    credits = sum((c.amount for c in account.credit_notes.values()), zero) + sum(
        (d.credited_amount for d in account.disputes.values()), zero
    )
    written_off = sum((w["amount"] for w in account.write_offs.values()), zero)
    assert account.outstanding == invoiced - allocated - credits - written_off
    # The indexes the handlers keep agree with what they index.
    assert set(account.open_ids) == {i for i, inv in account.invoices.items()
                                     if inv.open_amount > 0}
    assert account.credits == {p.payment_id: p.unapplied for p in account.payments.values()
                               if p.unapplied > 0}


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    opening=st.lists(
        st.builds(_issue, st.sampled_from(INVOICES), amounts, invoice_days, st.integers(0, 60)),
        min_size=1, max_size=4,
    ),
    sequence=st.lists(commands, min_size=1, max_size=25),
    data=st.data(),
)
def test_ledger_invariants_hold_for_any_sequence_of_commands(
    store, ledger, opening, sequence, data
):
    customer_id = "C-" + uuid.uuid4().hex[:10]
    ledger.register_customer(RegisterCustomer(customer_id=customer_id, name="x",
                                              currency="CNY"))
    recorded = []
    for command in opening + sequence:
        version = ledger.account(customer_id).version
        try:
            outcome = ledger.execute(customer_id, command)
        except DomainError:
            # Refused: nothing recorded.
            assert ledger.account(customer_id).version == version
            continue
        check_ledger_invariants(outcome.account)
        if outcome.recorded:
            recorded.append(command)
        # Now and then, repeat a command recorded earlier: nothing may change.
        if recorded and data.draw(st.booleans(), label="repeat"):
            before = vars(ledger.account(customer_id))
            repeat = data.draw(st.sampled_from(recorded), label="which")
            assert not ledger.execute(customer_id, repeat).recorded
            assert vars(ledger.account(customer_id)) == before

    event(f"recorded {min(len(recorded), 15) // 5 * 5}+ commands")
    live = ledger.account(customer_id)
    # History as of any date never shows a negative balance, whatever the recording order.
    for offset in range(0, 130, 7):
        past = ledger.account_as_of(customer_id, START + timedelta(days=offset))
        for inv in past.invoices.values():
            assert inv.open_amount >= 0, (offset, inv)
            assert past.disputed_amount(inv) >= 0
    # A replay of the stored events in a new process reproduces the live state.
    replayed = Account.replay(list(store.open().events.get(account_id(customer_id))))
    assert vars(replayed) == vars(live)
    # So does loading from a snapshot taken now.
    ledger.take_snapshot(account_id(customer_id))
    assert vars(store.open().account(customer_id)) == vars(live)
    for ledger_ in store.ledgers[1:]:
        ledger_.close()
    del store.ledgers[1:]
