"""Master data under any sequence of changes (hypothesis), with invoices between them.

- the master data is, field by field, the last value given (a no-op records nothing);
- an event holds only what changed, with what it was before;
- the same change again records nothing;
- an invoice without a due date gets the terms in force on its issue date: those of the
  latest-dated change on or before it, the last recorded winning a tie, else the
  registration's; no invoice is ever re-dated;
- replaying the stored events, or loading from a snapshot, gives the live state.
"""

import uuid
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from huikuan.core.account import Account, account_id
from huikuan.core.commands import ChangeCustomer, RegisterCustomer
from tests.conftest import invoice

START = date(2026, 1, 1)
dates = st.integers(0, 90).map(lambda n: START + timedelta(days=n))
values = {
    "collector": st.sampled_from([None, "li.wei", "wang.fang"]),
    "payment_terms_days": st.sampled_from([0, 30, 45, 60]),
    "credit_limit": st.sampled_from([None, "0", "1000.00", "1000"]),
    "credit_grade": st.sampled_from([None, "A", "C"]),
    "language": st.sampled_from(["zh-CN", "en"]),
    "tags": st.lists(st.sampled_from(["vip", "key", "gov"]), max_size=3),
    "contacts": st.lists(st.fixed_dictionaries(
        {"name": st.sampled_from(["王会计", "李经理"])},
        optional={"email": st.just("ap@x.example")}), max_size=2),
    "address": st.one_of(st.none(), st.fixed_dictionaries(
        {"line1": st.sampled_from(["张江路1号", "天河路2号"])},
        optional={"city": st.just("上海市")})),
}
changes = st.fixed_dictionaries({}, optional=values).flatmap(
    lambda fields: st.tuples(st.just(fields), dates))
steps = st.one_of(changes, st.tuples(st.just("invoice"), dates))


def plain(value):
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sequence=st.lists(steps, min_size=1, max_size=15))
def test_master_data_is_the_last_value_given_and_terms_follow_their_dates(
        store, ledger, sequence):
    customer_id = "C-" + uuid.uuid4().hex[:10]
    ledger.register_customer(RegisterCustomer(customer_id=customer_id, name="x",
                                              currency="CNY", payment_terms_days=30))
    expected = ledger.account(customer_id).master_data()
    schedule: list[tuple[date, int]] = []  # the model: (from, days), in the order to read
    due_dates: dict[str, date] = {}
    for n, (fields, on) in enumerate(sequence):
        if fields == "invoice":
            terms = 30
            for start, days in schedule:
                if start <= on:
                    terms = days
            outcome = ledger.execute(customer_id, invoice(f"I-{n}", "10.00", on))
            assert outcome.account.invoices[f"I-{n}"].due_on == on + timedelta(days=terms)
            due_dates[f"I-{n}"] = on + timedelta(days=terms)
            continue
        change = ChangeCustomer.model_validate({**fields, "effective_on": on})
        before = ledger.account(customer_id)
        outcome = ledger.execute(customer_id, change)
        given = {f: change.model_dump()[f] for f in fields}
        differs = {}
        for field, value in given.items():
            old = before.master_data(on=on)[field]
            new = sorted(set(value)) if field == "tags" else value
            if field == "credit_limit" and value is not None:
                new = Decimal(value)
            if plain(new) != plain(old):
                differs[field] = old
        recorded = [e for e in outcome.events if isinstance(e, Account.CustomerChanged)]
        assert outcome.recorded == bool(differs)
        if differs:
            [event] = recorded
            assert set(event.changes) == set(differs)
            assert plain(event.previous) == plain(differs)
            if "payment_terms_days" in event.changes:
                at = sum(1 for start, _ in schedule if start <= on)
                schedule.insert(at, (on, event.changes["payment_terms_days"]))
            for field, value in event.changes.items():
                expected[field] = value
        # The same change again records nothing.
        assert not ledger.execute(customer_id, change).recorded
        live = ledger.account(customer_id).master_data()
        assert plain({**live, "payment_terms_days": None}) == plain(
            {**expected, "payment_terms_days": None})
    live_account = ledger.account(customer_id)
    assert {i: inv.due_on for i, inv in live_account.invoices.items()} == due_dates
    replayed = Account.replay(list(store.open().events.get(account_id(customer_id))))
    assert vars(replayed) == vars(live_account)
    ledger.take_snapshot(account_id(customer_id))
    assert vars(store.open().account(customer_id)) == vars(live_account)
    for ledger_ in store.ledgers[1:]:
        ledger_.close()
    del store.ledgers[1:]
