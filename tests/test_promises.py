"""Promises and plans cover money, not accounts; a broken one resumes the ladder where
the account stood, each step's demand sent (issue 11, contract v1.1), through HTTP."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def http(api):
    api.headers.update(api.as_role("admin"))
    return api


def post(http: Any, path: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
    response = http.post(path, json=body)
    assert response.status_code == status, (path, response.text)
    answer: dict[str, Any] = response.json()
    return answer


def owing(http: Any) -> None:
    """10000.00 on 30-day terms, issued on 1 January: due on 31 January."""
    post(http, "/v1/customers", {"customer_id": "C-1", "name": "华东机电有限公司",
                                 "currency": "CNY", "payment_terms_days": 30,
                                 "contacts": [{"name": "王会计", "email": "ap@hd.example"}]})
    post(http, "/v1/customers/C-1/invoices", {"invoice_id": "I-1", "amount": "10000.00",
                                              "currency": "CNY", "issued_on": "2026-01-01"})


def cycle(http: Any, as_of: str) -> dict[str, int]:
    counts: dict[str, int] = post(http, "/v1/cycle", {"as_of": as_of}, status=200)["counts"]
    return counts


def stage(http: Any) -> str:
    answer: str = http.get("/v1/customers/C-1").json()["stage"]
    return answer


def test_a_promise_of_a_cent_suspends_nothing(http):
    owing(http)
    post(http, "/v1/customers/C-1/promises", {"promise_id": "PR-1", "amount": "0.01",
                                             "made_on": "2026-01-30", "due_on": "2026-10-31"})
    # The day after the due date the notice goes out, as if no promise had been made.
    assert cycle(http, "2026-02-01")["message:notice"] == 2
    assert stage(http) == "notice"
    assert cycle(http, "2026-02-15")["message:warning"] == 2
    # No cycle ran for months: the hand-off is reached, and the lawyer's letter goes with
    # it (a hand-off sends no demand of its own).
    counts = cycle(http, "2026-11-01")
    assert counts["promise_broken"] == 1 and counts["message:lawyer_letter"] == 1
    assert stage(http) == "handoff"
    assert cycle(http, "2026-11-02").get("stage_entered", 0) == 0


def test_a_broken_promise_for_all_of_it_resumes_the_ladder_step_by_step(http):
    owing(http)
    post(http, "/v1/customers/C-1/promises", {"promise_id": "PR-1", "amount": "10000.00",
                                             "made_on": "2026-01-30", "due_on": "2026-06-30"})
    assert cycle(http, "2026-02-01").get("stage_entered", 0) == 0
    assert stage(http) == "none"
    # Broken on 1 July: the 150 days it ran do not count, so the account stands one day
    # past due: the notice, not the hand-off five months of calendar would give.
    counts = cycle(http, "2026-07-01")
    assert counts["promise_broken"] == 1 and counts["message:notice"] == 2
    assert stage(http) == "notice"
    assert cycle(http, "2026-07-14").get("stage_entered", 0) == 0
    assert cycle(http, "2026-07-15")["message:warning"] == 2
    counts = cycle(http, "2026-07-30")
    assert (stage(http), counts["message:manager_review"]) == ("hold", 1)
    assert cycle(http, "2026-08-14")["message:lawyer_letter"] == 1
    assert stage(http) == "lawyer_letter"
    history = http.get("/v1/customers/C-1/history").json()["events"]
    entered = [e for e in history if e["type"] == "StageEntered"]
    assert [e["data"]["stage"] for e in entered] == ["notice", "warning", "hold",
                                                     "lawyer_letter"]
    assert entered[0]["data"]["based_on"]["days_paused"] == 150


def test_a_missed_instalment_resumes_the_ladder_where_it_stood(http):
    owing(http)
    assert cycle(http, "2026-02-01")["message:notice"] == 2
    post(http, "/v1/customers/C-1/payment-plans", {
        "plan_id": "PL-1", "agreed_on": "2026-02-05",
        "installments": [{"due_on": "2026-03-05", "amount": "5000.00"},
                         {"due_on": "2026-04-05", "amount": "5000.00"}]})
    # The plan covers all 10000.00: the warning (+15) waits.
    assert cycle(http, "2026-02-20").get("stage_entered", 0) == 0
    # The first instalment is missed: the plan ran 5 February to 5 March (29 days of
    # the 34 since the due date), so the count is 5 days and the notice stands…
    counts = cycle(http, "2026-03-06")
    assert counts["installment_missed"] == 1 and stage(http) == "notice"
    # …until the 15th counted day, 16 March, when the warning goes out.
    assert cycle(http, "2026-03-15").get("stage_entered", 0) == 0
    assert cycle(http, "2026-03-16")["message:warning"] == 2


@pytest.mark.parametrize("value", ['"half"', '"1.5"', '"-0.1"', "0.5", '"NaN"'])
def test_a_bad_share_to_cover_is_refused_at_start(tmp_path, value):
    from huikuan.adapters.settings import SettingsError, load_settings

    file = tmp_path / "plugins.toml"
    file.write_text(f"[escalation]\npromise_min_cover = {value}\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"\[escalation\] promise_min_cover"):
        load_settings(file, env={})


def test_a_share_to_cover_as_a_decimal_string_is_taken(tmp_path):
    from huikuan.adapters.settings import load_settings

    file = tmp_path / "plugins.toml"
    file.write_text('[escalation]\npromise_min_cover = "0.5"\n', encoding="utf-8")
    assert load_settings(file, env={}).section("escalation")["promise_min_cover"] == "0.5"
