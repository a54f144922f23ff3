"""A promise dated beyond the policy's maximum grace is flagged or refused, as the
policy says (issue 11; the seeds: 7 to 15 days, never over 60), through HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO


@pytest.fixture(params=["flag"])
def beyond_max(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
def policy(settings_env: dict[str, str], tmp_path: Path, beyond_max: str):
    """The shipped policy with ``[commitments] beyond_max`` as the test asks."""
    from huikuan.adapters.settings import load_settings
    from huikuan.core.policy import PolicyHost

    shipped = (REPO / "plugins.toml").read_text(encoding="utf-8")
    assert 'beyond_max = "flag"' in shipped
    file = tmp_path / "plugins.toml"
    file.write_text(shipped.replace('beyond_max = "flag"', f'beyond_max = "{beyond_max}"'),
                    encoding="utf-8")
    return PolicyHost(load_settings(file, env=settings_env), load_entry_points=False)


@pytest.fixture
def api(ledger, policy):
    """The HTTP API as the bootstrap puts huikuan together (facts decided for at once),
    with a key per role."""
    from litestar.testing import TestClient

    from huikuan.adapters.bootstrap import Huikuan
    from huikuan.adapters.http import Services, create_app
    from huikuan.core.access import ROLES, issue_key

    hk = Huikuan(ledger, {}, host=policy)
    keys = {role: issue_key(ledger, role)[1] for role in ROLES}
    with TestClient(create_app(Services(hk.ledger, hk.host, hk.views))) as client:
        client.as_role = lambda role: {"Authorization": f"Bearer {keys[role]}"}  # type: ignore[attr-defined]
        yield client
    hk.views.close()
    hk.projector.close()


@pytest.fixture
def http(api):
    api.headers.update(api.as_role("collector"))
    api.post("/v1/customers", json={"customer_id": "C-1", "name": "华东机电有限公司",
                                    "currency": "CNY"}, headers=api.as_role("admin"))
    api.post("/v1/customers/C-1/invoices", headers=api.as_role("admin"),
             json={"invoice_id": "I-1", "amount": "10000.00", "currency": "CNY",
                   "issued_on": "2026-01-01"})
    return api


def promise(http: Any, promise_id: str, made_on: str, due_on: str) -> Any:
    return http.post("/v1/customers/C-1/promises", json={
        "promise_id": promise_id, "amount": "10000.00", "made_on": made_on, "due_on": due_on})


def events(http: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = http.get("/v1/customers/C-1/history").json()["events"]
    return found


def test_a_promise_within_sixty_days_is_recorded_without_concerns(http):
    answer = promise(http, "PR-1", "2026-02-01", "2026-04-02")  # 60 days
    assert answer.status_code == 201, answer.text
    assert answer.json()["concerns"] == []
    assert "PromiseFlagged" not in [e["type"] for e in events(http)]


def test_a_promise_beyond_sixty_days_is_flagged_and_shown_to_the_collector(http):
    http.post("/v1/cycle", json={"as_of": "2026-02-01"}, headers=http.as_role("admin"))
    answer = promise(http, "PR-1", "2026-02-01", "2026-04-03")  # 61 days
    assert answer.status_code == 201, answer.text
    concerns = answer.json()["concerns"]
    assert len(concerns) == 1 and "61 days" in concerns[0] and "60" in concerns[0]
    flagged = [e for e in events(http) if e["type"] == "PromiseFlagged"]
    assert len(flagged) == 1
    assert flagged[0]["data"]["plugin"] == "commitments"
    assert flagged[0]["data"]["concerns"] == concerns
    # The collector sees it on the worklist, among the reasons.
    rows = http.get("/v1/worklist", params={"as_of": "2026-02-01"}).json()
    rows = rows["items"] if isinstance(rows, dict) else rows
    row = next(r for r in rows if r["customer_id"] == "C-1")
    assert any("PR-1 flagged" in reason for reason in row["reasons"])
    # Posting the same promise again is a repeat: 200, the same concerns, nothing new.
    again = promise(http, "PR-1", "2026-02-01", "2026-04-03")
    assert (again.status_code, again.json()["concerns"]) == (200, concerns)
    assert len([e for e in events(http) if e["type"] == "PromiseFlagged"]) == 1


@pytest.mark.parametrize("beyond_max", ["refuse"], indirect=True)
def test_with_refuse_a_promise_beyond_the_maximum_is_a_422_on_due_on_and_records_nothing(http):
    before = len(events(http))
    answer = promise(http, "PR-1", "2026-02-01", "2026-06-30")
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in problem["errors"]] == ["due_on"]
    assert "149 days" in problem["errors"][0]["message"]
    assert len(events(http)) == before
    # Within the maximum it is recorded as usual.
    assert promise(http, "PR-2", "2026-02-01", "2026-02-15").status_code == 201


@pytest.mark.parametrize("setting", ['max_promise_days = 0', 'max_promise_days = "60"',
                                     'max_promise_days = true', 'beyond_max = "warn"'])
def test_a_bad_promise_review_setting_is_refused_at_start_naming_it(tmp_path, setting):
    from huikuan.adapters.settings import SettingsError, load_settings

    file = tmp_path / "plugins.toml"
    file.write_text(f"[commitments]\n{setting}\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"\[commitments\] " + setting.split(" ")[0]):
        load_settings(file, env={})
