"""Dunning stops (暂缓催收) through HTTP: the ladder and the outbox fall silent for the
stop's window, for its invoices only, and resume where they stood when it ends.

C-1 owes I-1 (1000.00, due 2026-01-31). The cycle of 2026-02-01 queues the notice (e-mail
and text) and a call task. A stop of the whole account from 2026-02-02 through
2026-02-28 holds what was queued (nothing is sent while it runs) and the ladder does
not climb: the warning, due at +15 days, waits. Its 27 days do not count toward the
ladder (the clock stops, as for a covering promise): the warning comes 15 counted days
after the due date, on 2026-03-14. Mail goes to a real SMTP server, texts to a real
webhook, both on loopback.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from litestar.testing import TestClient

from huikuan.adapters.bootstrap import Huikuan
from huikuan.adapters.http import Services, create_app
from huikuan.adapters.settings import load_settings
from huikuan.core.access import ROLES, issue_key
from huikuan.core.outbox import Dispatcher
from huikuan.core.policy import PolicyHost
from tests.conftest import REPO
from tests.receivers import text_body

CUSTOMER = {"customer_id": "C-1", "name": "华东贸易有限公司", "currency": "CNY",
            "collector": "li.wei",
            "contacts": [{"name": "财务", "email": "ap@acme.example", "phone": "+86 21 5555 0101"}]}
STOP = {"pause_id": "P-1", "reason": "客户年度审计", "from_on": "2026-02-02",
        "until_on": "2026-02-28"}


def at_ten(day: str) -> datetime:
    """10:00 in Shanghai on ``day``: within contact hours."""
    return datetime.fromisoformat(f"{day}T02:00:00+00:00").astimezone(UTC)


@pytest.fixture
def hk(ledger, settings_env, mailbox, webhook):
    env = {**settings_env, "HUIKUAN_SMTP_URL": mailbox.url,
           "HUIKUAN_SMS_WEBHOOK_URL": webhook.url}
    host = PolicyHost(load_settings(REPO / "plugins.toml", env=env), load_entry_points=False)
    huikuan = Huikuan(ledger, env, host=host)
    yield huikuan
    if "views" in huikuan.__dict__:
        huikuan.views.close()
        huikuan.projector.close()


@pytest.fixture
def api(hk):
    keys = {role: issue_key(hk.ledger, role)[1] for role in ROLES}
    with TestClient(create_app(Services(hk.ledger, hk.host, hk.views))) as client:
        client.as_role = lambda role: {"Authorization": f"Bearer {keys[role]}"}  # type: ignore[attr-defined]
        client.headers["Authorization"] = f"Bearer {keys['manager']}"
        yield client


@pytest.fixture
def noticed(api):
    """C-1 with I-1 overdue and the notice queued (not sent yet)."""
    assert api.post("/v1/customers", json=CUSTOMER).status_code == 201
    for invoice_id, issued_on in (("I-1", "2026-01-01"),):
        assert api.post("/v1/customers/C-1/invoices", json={
            "invoice_id": invoice_id, "amount": "1000.00", "currency": "CNY",
            "issued_on": issued_on}).status_code == 201
    cycle(api, "2026-02-01")
    assert kinds(api) == {("notice", "email"): "pending", ("notice", "sms"): "pending",
                          ("call_task", "worklist"): "pending"}
    return api


def cycle(api, day: str) -> dict[str, int]:
    answer = api.post("/v1/cycle", json={"as_of": day})
    assert answer.status_code == 200, answer.text
    counts: dict[str, int] = answer.json()["counts"]
    return counts


def kinds(api) -> dict[tuple[str, str], str]:
    return {(m["kind"], m["channel"]): m["status"]
            for m in api.get("/v1/messages?customer_id=C-1").json()}


def dispatch(hk, day: str, hours: int = 0) -> dict[str, int]:
    return dict(Dispatcher(hk.ledger, hk.host).run_once(at_ten(day) + timedelta(hours=hours))
                .counts)


def stage(api) -> str:
    found: str = api.get("/v1/customers/C-1").json()["stage"]
    return found


def test_a_stop_silences_the_ladder_for_its_window_and_it_resumes_where_it_stood(
        api, hk, noticed, mailbox, webhook):
    answer = api.post("/v1/customers/C-1/pauses", json=STOP)
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"customer_id": "C-1", **STOP, "invoice_ids": None}
    # The notice queued before the stop is not sent while it runs: held, with the reason.
    assert dispatch(hk, "2026-02-02") == {"held": 3}
    assert kinds(api) == {("notice", "email"): "held", ("notice", "sms"): "held",
                          ("call_task", "worklist"): "held"}
    held = next(e for e in reversed(hk.ledger.history("C-1")) if e.type == "MessageHeld")
    assert held.data["reason"] == "dunning stop P-1 until 2026-02-28: 客户年度审计"
    assert held.data["until"] == datetime(2026, 3, 1, tzinfo=UTC) - timedelta(hours=8)
    # Trying again during the stop sends nothing: it is not due before the stop ends.
    assert dispatch(hk, "2026-02-20") == {}
    assert mailbox.messages == [] and webhook.requests == []
    # The ladder does not climb: on the warning's day and on the stop's last, nothing.
    for day in ("2026-02-16", "2026-02-28"):
        counts = cycle(api, day)
        assert not [k for k in counts if k.startswith(("message:", "stage:"))], counts
    assert stage(api) == "notice"
    # The customer view and the worklist show the stop.
    shown = api.get("/v1/customers/C-1?as_of=2026-02-28").json()["pauses"]
    assert [(p["pause_id"], p["active"], p["last_day"]) for p in shown] == [
        ("P-1", True, "2026-02-28")]
    [row] = api.get("/v1/worklist?collector=li.wei").json()
    assert "dunning stop P-1 until 2026-02-28: 客户年度审计" in row["reasons"]
    assert row["suggested_action"] == "wait: dunning stopped"
    # The stop is over: what was held goes out, stating what is owed then.
    assert dispatch(hk, "2026-03-01") == {"sent": 3}
    assert len(mailbox.messages) == 1 and len(webhook.requests) == 1
    assert "1000.00 CNY" in mailbox.messages[0]["Subject"]
    assert cycle(api, "2026-03-01").get("message:warning") is None
    [row] = api.get("/v1/worklist?collector=li.wei").json()
    assert not [r for r in row["reasons"] if "P-1" in r]
    assert api.get("/v1/customers/C-1").json()["pauses"] == []
    # The 27 stopped days did not count: the warning comes 15 counted days after the due
    # date, 2026-03-14, not 2026-02-15.
    assert "message:warning" not in cycle(api, "2026-03-13")
    counts = cycle(api, "2026-03-14")
    assert counts["message:warning"] == 2 and counts["stage:warning"] == 1
    entered = next(e for e in reversed(hk.ledger.history("C-1")) if e.type == "StageEntered")
    assert entered.data["based_on"]["days_paused"] == 27
    assert entered.data["based_on"]["paused_by"] == ["dunning stop P-1"]


def test_an_early_end_lifts_the_stop_at_once(api, hk, noticed, mailbox):
    assert api.post("/v1/customers/C-1/pauses",
                    json={**STOP, "until_on": "2026-03-31"}).status_code == 201
    assert dispatch(hk, "2026-02-02") == {"held": 3}
    ended = api.post("/v1/customers/C-1/pauses/P-1/end", json={"ended_on": "2026-02-10"})
    assert ended.status_code == 201, ended.text
    assert ended.json() == {"customer_id": "C-1", "pause_id": "P-1", "ended_on": "2026-02-10"}
    # Held until 1 April, the messages are due again at once.
    assert dispatch(hk, "2026-02-10") == {"sent": 3}
    assert len(mailbox.messages) == 1
    assert api.get("/v1/customers/C-1").json()["pauses"] == []
    # 2026-02-02 through 2026-02-09 stopped (8 days): the warning on 2026-02-23.
    assert "message:warning" not in cycle(api, "2026-02-22")
    assert cycle(api, "2026-02-23")["message:warning"] == 2


def test_a_stop_of_one_invoice_leaves_the_others_chased(api, hk, mailbox):
    assert api.post("/v1/customers", json=CUSTOMER).status_code == 201
    for invoice_id, amount, issued_on in (("I-1", "1000.00", "2026-01-01"),
                                          ("I-2", "500.00", "2026-01-06")):
        assert api.post("/v1/customers/C-1/invoices", json={
            "invoice_id": invoice_id, "amount": amount, "currency": "CNY",
            "issued_on": issued_on}).status_code == 201
    # I-1 (due 01-31) is stopped from the start; I-2 falls due on 02-05.
    assert api.post("/v1/customers/C-1/pauses", json={
        **STOP, "from_on": "2026-01-20", "invoice_ids": ["I-1"]}).status_code == 201
    counts = cycle(api, "2026-02-01")  # I-1 overdue, but stopped; I-2 not yet due
    assert not [k for k in counts if k.startswith(("message:", "stage:"))], counts
    counts = cycle(api, "2026-02-06")  # I-2 one day late: the notice, for I-2 alone
    assert counts["message:notice"] == 2
    assert dispatch(hk, "2026-02-06") == {"sent": 3}
    [mail] = mailbox.messages
    assert "500.00 CNY" in mail["Subject"]
    body = text_body(mail)
    assert "I-2" in body and "I-1" not in body
    decided = next(e for e in reversed(hk.ledger.history("C-1")) if e.type == "StageEntered")
    assert decided.data["based_on"]["oldest_invoice"] == "I-2"
    assert decided.data["based_on"]["not_chased"] == {"I-1": "dunning stop P-1 until 2026-02-28"}


def test_a_demand_about_stopped_and_other_money_goes_for_the_other_money(
        api, hk, mailbox):
    assert api.post("/v1/customers", json=CUSTOMER).status_code == 201
    for invoice_id, amount in (("I-1", "1000.00"), ("I-2", "500.00")):
        assert api.post("/v1/customers/C-1/invoices", json={
            "invoice_id": invoice_id, "amount": amount, "currency": "CNY",
            "issued_on": "2026-01-01"}).status_code == 201
    cycle(api, "2026-02-01")  # the notice demands 1500.00, I-1 and I-2
    assert api.post("/v1/customers/C-1/pauses", json={
        **STOP, "invoice_ids": ["I-1"]}).status_code == 201
    assert dispatch(hk, "2026-02-02") == {"sent": 3}
    [mail] = mailbox.messages
    assert "500.00 CNY" in mail["Subject"] and "1500.00" not in mail["Subject"]


def test_a_repeat_is_answered_again_and_other_content_is_a_conflict(api, hk, noticed):
    first = api.post("/v1/customers/C-1/pauses", json=STOP)
    events = len(hk.ledger.history("C-1"))
    again = api.post("/v1/customers/C-1/pauses", json=STOP)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    other = api.post("/v1/customers/C-1/pauses", json={**STOP, "until_on": "2026-03-01"})
    assert other.status_code == 409
    assert other.json()["errors"][0]["field"] == "pause_id"
    end = {"ended_on": "2026-02-10"}
    assert api.post("/v1/customers/C-1/pauses/P-1/end", json=end).status_code == 201
    assert api.post("/v1/customers/C-1/pauses/P-1/end", json=end).status_code == 200
    events = len(hk.ledger.history("C-1"))
    # Ended on another day, an unknown stop, one that ran its course: nothing recorded.
    ended_again = api.post("/v1/customers/C-1/pauses/P-1/end", json={"ended_on": "2026-02-11"})
    assert ended_again.status_code == 409
    assert "was ended on 2026-02-10" in ended_again.json()["detail"]
    assert api.post("/v1/customers/C-1/pauses/P-9/end", json=end).status_code == 404
    assert api.post("/v1/customers/C-1/pauses", json={**STOP, "pause_id": "P-2"}
                    ).status_code == 201
    events = len(hk.ledger.history("C-1"))
    over = api.post("/v1/customers/C-1/pauses/P-2/end", json={"ended_on": "2026-03-01"})
    assert over.status_code == 409
    assert len(hk.ledger.history("C-1")) == events


@pytest.mark.parametrize(("body", "field", "status"), [
    ({**STOP, "until_on": "2026-02-01"}, "until_on", 422),
    ({**STOP, "from_on": "2026-02-30"}, "from_on", 422),
    ({k: v for k, v in STOP.items() if k != "reason"}, "reason", 422),
    ({**STOP, "reason": "  "}, "reason", 422),
    ({**STOP, "pause_id": "P 1"}, "pause_id", 422),
    ({**STOP, "invoice_ids": []}, "invoice_ids", 422),
    ({**STOP, "invoice_ids": ["I-9"]}, "invoice_ids[0]", 404),
    ({**STOP, "days": 3}, "days", 422),
])
def test_a_bad_stop_is_refused_naming_the_field(api, hk, noticed, body, field, status):
    events = len(hk.ledger.history("C-1"))
    answer = api.post("/v1/customers/C-1/pauses", json=body)
    assert answer.status_code == status, answer.text
    assert field in {e["field"] for e in answer.json()["errors"]}
    assert len(hk.ledger.history("C-1")) == events


def test_ending_before_the_stop_began_is_refused_naming_the_field(api, hk, noticed):
    assert api.post("/v1/customers/C-1/pauses", json=STOP).status_code == 201
    answer = api.post("/v1/customers/C-1/pauses/P-1/end", json={"ended_on": "2026-02-01"})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "ended_on"


@pytest.mark.parametrize(("role", "body", "status"), [
    ("collector", STOP, 201),                                     # 27 days
    ("collector", {**STOP, "until_on": "2026-03-03"}, 201),       # 30 days
    ("collector", {**STOP, "until_on": "2026-03-04"}, 403),       # 31 days
    ("collector", {k: v for k, v in STOP.items() if k != "until_on"}, 403),  # no end
    ("manager", {**STOP, "until_on": "2026-12-31"}, 201),
    ("admin", {k: v for k, v in STOP.items() if k != "until_on"}, 201),
    ("integration", STOP, 403),
    ("auditor", STOP, 403),
])
def test_a_long_or_open_ended_stop_is_a_managers_decision(api, noticed, role, body, status):
    answer = api.post("/v1/customers/C-1/pauses", json=body, headers=api.as_role(role))
    assert answer.status_code == status, answer.text


@pytest.mark.parametrize(("role", "status"), [
    ("collector", 201), ("manager", 201), ("integration", 403), ("auditor", 403)])
def test_those_who_keep_the_case_file_end_a_stop(api, noticed, role, status):
    assert api.post("/v1/customers/C-1/pauses", json=STOP).status_code == 201
    answer = api.post("/v1/customers/C-1/pauses/P-1/end", json={"ended_on": "2026-02-03"},
                      headers=api.as_role(role))
    assert answer.status_code == status


def test_a_stop_shows_in_history_and_as_of_its_dates(api, noticed):
    assert api.post("/v1/customers/C-1/pauses", json=STOP).status_code == 201
    before = api.get("/v1/customers/C-1?as_of=2026-02-01").json()
    assert before["pauses"] == []  # recorded as beginning on 2026-02-02
    during = api.get("/v1/customers/C-1?as_of=2026-02-10").json()["pauses"]
    assert during[0]["reason"] == "客户年度审计" and during[0]["invoice_ids"] is None
    types = [e["type"] for e in api.get("/v1/customers/C-1/history").json()["events"]]
    assert "DunningPaused" in types
    assert date(2026, 2, 2).isoformat() == during[0]["from_on"]


@pytest.mark.parametrize("setting", ["collector_max_days = 0", 'collector_max_days = "30"',
                                     "collector_max_days = true"])
def test_a_bad_pause_setting_is_refused_at_start_naming_it(tmp_path, setting):
    from huikuan.adapters.settings import SettingsError, load_settings

    file = tmp_path / "plugins.toml"
    file.write_text(f"[pauses]\n{setting}\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"\[pauses\] collector_max_days"):
        load_settings(file, env={})


def test_a_shorter_collector_window_from_settings(tmp_path, ledger, settings_env):
    file = tmp_path / "plugins.toml"
    file.write_text((REPO / "plugins.toml").read_text(encoding="utf-8").replace(
        "collector_max_days = 30", "collector_max_days = 7"), encoding="utf-8")
    host = PolicyHost(load_settings(file, env=settings_env), load_entry_points=False)
    huikuan = Huikuan(ledger, settings_env, host=host)
    keys = {role: issue_key(ledger, role)[1] for role in ("manager", "collector")}
    try:
        with TestClient(create_app(Services(ledger, host, huikuan.views))) as client:
            manager = {"Authorization": f"Bearer {keys['manager']}"}
            collector = {"Authorization": f"Bearer {keys['collector']}"}
            assert client.post("/v1/customers", json=CUSTOMER, headers=manager
                               ).status_code == 201
            week = {**STOP, "until_on": "2026-02-08"}
            assert client.post("/v1/customers/C-1/pauses", json=week, headers=collector
                               ).status_code == 201
            eight = {**STOP, "pause_id": "P-2", "until_on": "2026-02-09"}
            refused = client.post("/v1/customers/C-1/pauses", json=eight, headers=collector)
            assert refused.status_code == 403
            assert "at most 7 days" in refused.json()["detail"]
    finally:
        huikuan.views.close()
        huikuan.projector.close()
