"""Interest and fees where people look: the customer view, each invoice, the e-mail sent,
fees per step, waivers, each checked against a hand computation.

The case: invoice I-1 of 10,000.00 CNY issued 1 January on 30-day terms (due 31 January),
late interest at 3.65 % a year, so 1.00 a day on 10,000.00 (10,000 × 0.0365 / 365), and
a fee of 50.00 for entering the notice step.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from litestar.testing import TestClient

from huikuan.adapters.bootstrap import Huikuan
from huikuan.adapters.http import Services, create_app
from huikuan.adapters.settings import SettingsError, load_settings
from huikuan.core.access import ROLES, issue_key
from huikuan.core.account import Account, account_id
from huikuan.core.commands import ReceivePayment, RegisterCustomer
from huikuan.core.cycle import DailyCycle
from huikuan.core.outbox import Dispatcher
from huikuan.core.plugin import Settings
from huikuan.core.policy import PolicyHost
from tests.conftest import REPO, invoice
from tests.receivers import text_body

STEPS = [
    {"stage": "notice", "days": 1, "fee": "50.00",
     "messages": [{"kind": "notice", "channels": ["email"], "deadline_days": 7}]},
    {"stage": "warning", "days": 60, "fee": "80.00",
     "messages": [{"kind": "warning", "channels": ["email"], "deadline_days": 7}]},
]


def policy_with(env: dict[str, str], **interest: object) -> PolicyHost:
    shipped = load_settings(REPO / "plugins.toml", env=env)
    sections = {**shipped.sections,
                "interest": {"enabled": True, "annual_rate": "0.0365", **interest},
                "escalation": {**shipped.section("escalation"), "steps": STEPS}}
    return PolicyHost(Settings(sections=sections, env=env), load_entry_points=False)


@pytest.fixture
def host(settings_env, mailbox):
    return policy_with({**settings_env, "HUIKUAN_SMTP_URL": mailbox.url})


@pytest.fixture
def acme(ledger, host):
    ledger.register_customer(RegisterCustomer(
        customer_id="C-1", name="华东贸易有限公司", currency="CNY", collector="li.wei",
        registered_on=date(2026, 1, 1), contacts=[{"name": "财务", "email": "ap@acme.example"}]))
    ledger.execute("C-1", invoice("I-1", "10000.00", date(2026, 1, 1)))
    DailyCycle(ledger, host).run(date(2026, 2, 5))
    return "C-1"


@pytest.fixture
def api(store, ledger, host, acme):
    hk = Huikuan(ledger, {}, host=host)
    keys = {role: issue_key(ledger, role)[1] for role in ROLES}
    with TestClient(create_app(Services(ledger, host, hk.views))) as client:
        client.as_role = lambda role: {"Authorization": f"Bearer {keys[role]}"}  # type: ignore[attr-defined]
        client.views = hk.views  # type: ignore[attr-defined]
        yield client
    hk.views.close()
    hk.views.projector.close()


def test_the_customer_view_states_interest_day_by_day_around_a_part_payment(api):
    manager = api.as_role("manager")
    paid = api.post("/v1/customers/C-1/payments", headers=manager, json={
        "payment_id": "P-1", "amount": "4000.00", "currency": "CNY", "received_on": "2026-02-10"})
    assert paid.status_code == 201, paid.text
    # By hand: 1–9 Feb, 9 days on 10,000.00 = 9.00; 10–20 Feb, 11 days on 6,000.00 (paid
    # on the 10th, that day already lower) at 0.60 = 6.60; through 20 Feb 15.60.
    seen = api.get("/v1/customers/C-1?as_of=2026-02-20", headers=manager).json()
    assert seen["interest"] == "15.60"
    assert seen["invoices"][0]["interest"] == "15.60"
    assert seen["invoices"][0]["open_amount"] == "6000.00"  # interest is never principal
    assert seen["outstanding"] == "6000.00"
    # The view from the read tables, for the same day, says the same.
    api.views.projector.catch_up()
    today = api.views.customer("C-1", today=date(2026, 2, 20))
    assert (str(today["interest"]), str(today["invoices"][0]["interest"])) == ("15.60", "15.60")
    # Before the due date nothing has accrued.
    assert api.get("/v1/customers/C-1?as_of=2026-01-31", headers=manager).json()[
        "interest"] == "0.00"


def test_a_fee_is_charged_on_entering_its_step_and_a_manager_may_waive_it(api):
    manager, collector = api.as_role("manager"), api.as_role("collector")
    seen = api.get("/v1/customers/C-1?as_of=2026-02-05", headers=manager).json()
    assert seen["stage"] == "notice" and seen["fees"] == "50.00"
    assert seen["fees_detail"] == [{"fee_id": "notice-2026-02-05", "amount": "50.00",
                                    "stage": "notice", "charged_on": "2026-02-05",
                                    "waived": False, "waived_on": None, "settled": "0.00",
                                    "owed": "50.00"}]
    body = {"waived_on": "2026-02-20", "reason": "客户全额付款"}
    path = "/v1/customers/C-1/fees/notice-2026-02-05/waive"
    assert api.post(path, headers=collector, json=body).status_code == 403
    assert api.post(path, headers=manager, json=body).status_code == 201
    assert api.post(path, headers=manager, json=body).status_code == 200  # a repeat
    assert api.post(path, headers=manager, json={**body, "reason": "x"}).status_code == 409
    unknown = api.post("/v1/customers/C-1/fees/F-9/waive", headers=manager, json=body)
    assert unknown.status_code == 404
    assert api.get("/v1/customers/C-1?as_of=2026-02-19", headers=manager).json()[
        "fees"] == "50.00"  # owed until the day it was waived
    after = api.get("/v1/customers/C-1?as_of=2026-02-20", headers=manager).json()
    assert after["fees"] == "0.00" and after["fees_detail"][0]["waived"] is True


def test_interest_is_waived_up_to_what_is_owed(api):
    manager = api.as_role("manager")
    # Owed on 20 Feb with no payment: 20 days × 1.00.
    assert api.get("/v1/customers/C-1?as_of=2026-02-20", headers=manager).json()[
        "interest"] == "20.00"
    body = {"waiver_id": "IW-1", "invoice_id": "I-1", "amount": "5.50",
            "waived_on": "2026-02-20", "reason": "减免利息，按期结清"}
    assert api.post("/v1/customers/C-1/interest-waivers", headers=api.as_role("collector"),
                    json=body).status_code == 403
    done = api.post("/v1/customers/C-1/interest-waivers", headers=manager, json=body)
    assert done.status_code == 201, done.text
    seen = api.get("/v1/customers/C-1?as_of=2026-02-20", headers=manager).json()
    assert seen["interest"] == "14.50" and seen["invoices"][0]["interest"] == "14.50"
    # It keeps accruing after the waiver: 21 Feb adds 1.00.
    assert api.get("/v1/customers/C-1?as_of=2026-02-21", headers=manager).json()[
        "interest"] == "15.50"
    too_much = api.post("/v1/customers/C-1/interest-waivers", headers=manager,
                        json={**body, "waiver_id": "IW-2", "amount": "15.00"})
    assert too_much.status_code == 409
    assert too_much.json()["errors"][0]["field"] == "amount"
    for bad in ({"amount": "1e3"}, {"amount": "-1"}, {"invoice_id": ""},
                {"waived_on": "2026-02-30"}):
        answer = api.post("/v1/customers/C-1/interest-waivers", headers=manager,
                          json={**body, "waiver_id": "IW-3", **bad})
        assert answer.status_code == 422, (bad, answer.text)
    assert api.get("/v1/customers/C-1?as_of=2026-02-21", headers=manager).json()[
        "interest"] == "15.50"  # nothing recorded by the refusals


def test_the_demand_states_interest_and_fees_beside_the_principal_as_sent(
        ledger, host, acme, mailbox):
    [queued] = [m for m in ledger.account(acme).messages.values() if m.kind == "notice"]
    # Queued on 5 Feb: 5 days accrued (1–5 Feb), and the notice step's fee.
    assert "10000.00 CNY" in queued.body
    assert "逾期利息 5.00 CNY" in queued.body and "催收费用 50.00 CNY" in queued.body
    # Paid 4,000.00 on 6 Feb; sent on 8 Feb: principal 6,000.00, interest through 8 Feb
    # 5.00 (1–5 Feb on 10,000.00) + 1.80 (6–8 Feb on 6,000.00) = 6.80.
    ledger.execute(acme, ReceivePayment(payment_id="P-1", amount="4000.00", currency="CNY",
                                        received_on=date(2026, 2, 6)))
    Dispatcher(ledger, host).run_once(datetime(2026, 2, 8, 2, 0, tzinfo=UTC))
    [mail] = mailbox.messages
    text = text_body(mail)
    assert "6000.00 CNY" in text and "10000.00" not in text
    assert "逾期利息 6.80 CNY" in text and "催收费用 50.00 CNY" in text


def test_the_cycle_records_the_terms_once_and_again_only_when_they_change(ledger, acme,
                                                                          settings_env):
    def terms():
        return [e.rates for e in ledger.events.get(account_id(acme))
                if isinstance(e, Account.InterestTermsSet)]

    assert terms() == [[["1900-01-01", "0.0365"]]]
    DailyCycle(ledger, policy_with(settings_env)).run(date(2026, 2, 6))
    assert len(terms()) == 1
    DailyCycle(ledger, policy_with(settings_env, annual_rate="0.073")).run(date(2026, 2, 7))
    assert terms()[-1] == [["1900-01-01", "0.073"]]
    # Interest already accrued under the old rate is not restated downward: the view
    # accrues by the recorded rates, never below what the cycle charged.
    assert ledger.account(acme).invoices["I-1"].interest >= 6


def test_a_step_fee_that_is_not_an_amount_is_refused_at_start(tmp_path):
    bad = tmp_path / "plugins.toml"
    bad.write_text('[[escalation.steps]]\nstage = "notice"\ndays = 1\nfee = 50.0\n',
                   encoding="utf-8")
    with pytest.raises(SettingsError, match="fee"):
        load_settings(bad, env={})


def test_under_article_561_a_payment_settles_fees_then_interest_then_principal(
        ledger, settings_env):
    from huikuan.core.commands import BouncePayment
    from huikuan.core.interest import charges

    host = policy_with(settings_env, settle="costs_interest_principal")
    ledger.register_customer(RegisterCustomer(
        customer_id="C-2", name="华北贸易有限公司", currency="CNY",
        registered_on=date(2026, 1, 1), contacts=[{"name": "财务", "email": "ap@b.example"}]))
    ledger.execute("C-2", invoice("I-1", "10000.00", date(2026, 1, 1)))
    DailyCycle(ledger, host).run(date(2026, 2, 5))  # the notice step: fee 50.00
    ledger.execute("C-2", ReceivePayment(payment_id="P-1", amount="4000.00", currency="CNY",
                                         received_on=date(2026, 2, 10)))
    account = ledger.account("C-2")
    # By hand: on 10 Feb the fee 50.00 is owed, and interest for 1–10 Feb on 10,000.00
    # (the payment lowers no principal before it is applied) = 10.00. The payment settles
    # those first, and the principal takes the rest: 4,000.00 − 60.00 = 3,940.00.
    assert account.invoices["I-1"].open_amount == Decimal("6060.00")
    [settled] = [e for e in ledger.events.get(account_id("C-2"))
                 if isinstance(e, Account.ChargesSettled)]
    assert settled.fees == [{"fee_id": "notice-2026-02-05", "amount": Decimal("50.00")}]
    assert settled.interest == [{"invoice_id": "I-1", "amount": Decimal("10.00")}]
    # Through 20 Feb: 9 days on 10,000.00 (9.00) + 11 days on 6,060.00 (11 × 0.606 =
    # 6.666) = 15.666 → 15.67 accrued, 10.00 of it paid: 5.67 owed; no fee owed.
    owed = charges(account, date(2026, 2, 20))
    assert (owed["interest"], owed["fees"]) == (Decimal("5.67"), Decimal("0.00"))
    # The payment bounces on 15 Feb: what it settled is owed again, and the principal
    # is 10,000.00 from that day: 9.00 + 5 × 0.606 (3.03) + 6 × 1.00 = 18.03.
    ledger.execute("C-2", BouncePayment(payment_id="P-1", bounced_on=date(2026, 2, 15)))
    owed = charges(ledger.account("C-2"), date(2026, 2, 20))
    assert (owed["interest"], owed["fees"]) == (Decimal("18.03"), Decimal("50.00"))
    # Before the bounce, the views as of that day still show the settlement.
    assert charges(ledger.account_as_of("C-2", date(2026, 2, 14)),
                   date(2026, 2, 14))["fees"] == Decimal("0.00")


def test_an_unknown_settle_order_is_refused_at_start(tmp_path):
    bad = tmp_path / "plugins.toml"
    bad.write_text('[interest]\nenabled = true\nsettle = "interest_first"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="settle"):
        load_settings(bad, env={})


def test_a_payment_dated_earlier_never_settles_a_charge_paid_already(ledger, settings_env):
    from huikuan.core.interest import charges

    host = policy_with(settings_env, settle="costs_interest_principal")
    ledger.register_customer(RegisterCustomer(
        customer_id="C-3", name="华南贸易有限公司", currency="CNY",
        registered_on=date(2026, 1, 1), contacts=[{"name": "财务", "email": "ap@c.example"}]))
    ledger.execute("C-3", invoice("I-1", "10000.00", date(2026, 1, 1)))
    DailyCycle(ledger, host).run(date(2026, 2, 5))  # the notice's fee 50.00
    # 20 Feb: the fee and 20 days' interest (20.00) are settled first.
    ledger.execute("C-3", ReceivePayment(payment_id="P-1", amount="1000.00", currency="CNY",
                                         received_on=date(2026, 2, 20)))
    # Recorded later, dated 10 Feb: the fee is paid (by P-1), and of the 10.00 owed that
    # day P-1 paid more already: it all goes to principal.
    ledger.execute("C-3", ReceivePayment(payment_id="P-2", amount="1000.00", currency="CNY",
                                         received_on=date(2026, 2, 10)))
    account = ledger.account("C-3")
    assert account.invoices["I-1"].open_amount == Decimal("8070.00")
    assert [e.payment_id for e in ledger.events.get(account_id("C-3"))
            if isinstance(e, Account.ChargesSettled)] == ["P-1"]
    assert charges(account, date(2026, 2, 20))["fees"] == Decimal("0.00")
