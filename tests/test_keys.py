"""API keys as an admin keeps them: made with a label and an expiry, listed without any
secret, revoked for every process on the store; one strict header form; the key ring's
events for admin eyes alone; the caller's key id on each request's log line."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import date, timedelta

import pytest
import structlog
from litestar.testing import TestClient

from huikuan.adapters import http
from huikuan.adapters.http import Services, create_app
from huikuan.adapters.logging import configure_logging
from huikuan.core.access import ROLES, issue_key
from huikuan.core.clock import company_today
from huikuan.projections.queries import Views
from tests.conftest import REPO
from tests.server import Server

TODAY = company_today({})
NON_ADMIN = [role for role in ROLES if role != "admin"]


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _make(api, role="collector", **fields):
    body = {"role": role, "label": f"{role} for the tests", **fields}
    made = api.post("/v1/keys", json=body, headers=api.as_role("admin"))
    assert made.status_code == 201, made.text
    return made.json()


def _no_secret_in(text: str, *secrets: str) -> None:
    assert "key_hash" not in text
    assert "hmac-sha256:" not in text
    for secret in secrets:
        assert secret not in text


def test_an_admin_makes_a_key_with_a_label_and_an_expiry_and_it_works(api):
    expires = TODAY + timedelta(days=30)
    made = _make(api, "integration", label="ERP nightly sync", expires_on=str(expires))
    assert made["role"] == "integration"
    assert made["label"] == "ERP nightly sync"
    assert made["expires_on"] == str(expires)
    assert made["revoked"] is False
    assert made["key_id"].startswith("key-")
    assert made["key"].startswith("hk_")
    assert "created_at" in made
    assert api.get("/v1/aging", headers=_bearer(made["key"])).status_code == 200
    # An integration key records invoices but runs no cycle.
    assert api.post("/v1/cycle", json={"as_of": str(TODAY)},
                    headers=_bearer(made["key"])).status_code == 403


def test_the_list_shows_every_key_but_never_a_secret_or_a_hash(api):
    made = _make(api, "auditor", label="year-end audit", expires_on="2027-03-31")
    listed = api.get("/v1/keys", headers=api.as_role("admin"))
    assert listed.status_code == 200
    mine = [k for k in listed.json() if k["key_id"] == made["key_id"]]
    assert len(mine) == 1
    entry = mine[0]
    assert {k: entry[k] for k in ("key_id", "role", "label", "expires_on", "revoked")} == {
        "key_id": made["key_id"], "role": "auditor", "label": "year-end audit",
        "expires_on": "2027-03-31", "revoked": False}
    assert entry["created_at"] == made["created_at"]
    assert "key" not in entry
    # The fixture's keys (one per role) are listed too, without a label.
    assert {k["role"] for k in listed.json()} == set(ROLES)
    _no_secret_in(listed.text, made["key"], *api.keys.values())


def test_a_revoked_key_is_refused_from_then_on(api):
    made = _make(api, "manager")
    assert api.get("/v1/aging", headers=_bearer(made["key"])).status_code == 200
    revoked = api.post(f"/v1/keys/{made['key_id']}/revoke", headers=api.as_role("admin"))
    assert revoked.status_code == 201, revoked.text
    assert revoked.json()["revoked"] is True
    refused = api.get("/v1/aging", headers=_bearer(made["key"]))
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "revoked" in refused.json()["detail"]
    # Revoking again answers the same and changes nothing; an unknown key id is a 404.
    again = api.post(f"/v1/keys/{made['key_id']}/revoke", headers=api.as_role("admin"))
    assert again.status_code == 200
    assert again.json() == revoked.json()
    assert api.post("/v1/keys/key-00000000/revoke",
                    headers=api.as_role("admin")).status_code == 404
    listed = {k["key_id"]: k for k in api.get("/v1/keys", headers=api.as_role("admin")).json()}
    assert listed[made["key_id"]]["revoked"] is True
    # The other keys go on working.
    assert api.get("/v1/aging", headers=api.as_role("manager")).status_code == 200


@pytest.mark.parametrize("key_id", ["key-%00", "%2E%2E", "key-" + "f" * 500, "钥匙", "'; --"])
def test_revoking_an_odd_key_id_is_a_404_never_a_500(api, key_id):
    answer = api.post(f"/v1/keys/{key_id}/revoke", headers=api.as_role("admin"))
    assert answer.status_code in (404, 422), answer.text
    assert all(not k["revoked"] for k in api.get("/v1/keys", headers=api.as_role("admin")).json())


@pytest.mark.parametrize("expires_on", [TODAY - timedelta(days=1), TODAY, date(2020, 1, 1)],
                         ids=["yesterday", "today", "long ago"])
def test_an_expired_key_is_refused(api, expires_on):
    made = _make(api, "collector", expires_on=str(expires_on))
    refused = api.get("/v1/aging", headers=_bearer(made["key"]))
    assert refused.status_code == 401
    assert f"expired on {expires_on}" in refused.json()["detail"]
    tomorrow = _make(api, "collector", expires_on=str(TODAY + timedelta(days=1)))
    assert api.get("/v1/aging", headers=_bearer(tomorrow["key"])).status_code == 200


@pytest.mark.parametrize("role", NON_ADMIN)
def test_only_an_admin_may_make_list_or_revoke_keys(api, role):
    target = _make(api, "collector")
    headers = api.as_role(role)
    answers = [
        api.post("/v1/keys", json={"role": "admin", "label": "mine now"}, headers=headers),
        api.get("/v1/keys", headers=headers),
        api.post(f"/v1/keys/{target['key_id']}/revoke", headers=headers),
    ]
    assert [a.status_code for a in answers] == [403, 403, 403]
    # Nothing was made or revoked.
    listed = api.get("/v1/keys", headers=api.as_role("admin")).json()
    assert len(listed) == len(ROLES) + 1
    assert all(not k["revoked"] for k in listed)
    assert api.post("/v1/keys", json={"role": "admin", "label": "x"}).status_code == 401


@pytest.mark.parametrize("body, field", [
    ({"label": "no role"}, "role"),
    ({"role": "owner", "label": "no such role"}, "role"),
    ({"role": "collector"}, "label"),
    ({"role": "collector", "label": "   "}, "label"),
    ({"role": "collector", "label": "bell\x07"}, "label"),
    ({"role": "collector", "label": "x", "expires_on": "next week"}, "expires_on"),
    ({"role": "collector", "label": "x", "secret": "mine"}, "secret"),
])
def test_a_bad_key_request_is_a_422_naming_the_field_and_makes_no_key(api, body, field):
    answer = api.post("/v1/keys", json=body, headers=api.as_role("admin"))
    assert answer.status_code == 422, answer.text
    assert field in json.dumps(answer.json().get("errors"))
    assert len(api.get("/v1/keys", headers=api.as_role("admin")).json()) == len(ROLES)


@pytest.mark.parametrize("header", [
    "bearer {key}", "BEARER {key}", "Bearer  {key}", "Bearer {key} ", " Bearer {key}",
    "Bearer\t{key}", "Bearer:{key}", "{key}", "Token {key}", "Bearer {key}, Bearer {key}",
], ids=["lower", "upper", "two spaces", "trailing space", "leading space", "tab", "colon",
        "bare key", "other scheme", "two keys"])
def test_only_the_one_bearer_form_is_accepted(api, header):
    key = api.keys["admin"]
    refused = api.get("/v1/aging", headers={"Authorization": header.format(key=key)})
    assert refused.status_code == 401
    assert "Authorization: Bearer <api-key>" in refused.json()["detail"]
    assert refused.headers["www-authenticate"] == "Bearer"
    assert api.get("/v1/aging", headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_two_authorization_headers_are_refused(api):
    key = api.keys["admin"]
    refused = api.get("/v1/aging", headers=[("Authorization", f"Bearer {key}"),
                                            ("Authorization", f"Bearer {key}")])
    assert refused.status_code == 401
    missing = api.get("/v1/aging")
    assert missing.status_code == 401
    assert "Authorization: Bearer <api-key>" in missing.json()["detail"]


def _feed(api, role: str, limit: int = 1000) -> list[dict]:
    events, after = [], 0
    while True:
        page = api.get("/v1/events", params={"after": after, "limit": limit},
                       headers=api.as_role(role))
        assert page.status_code == 200
        body = page.json()
        if not body["events"]:
            return events
        events += body["events"]
        after = body["next"]


@pytest.mark.parametrize("role", NON_ADMIN)
def test_no_role_but_admin_sees_the_key_rings_events(api, customer, role):
    customer("C-1")
    made = _make(api, "collector")
    api.post(f"/v1/keys/{made['key_id']}/revoke", headers=api.as_role("admin"))
    customer("C-2")
    seen = _feed(api, role)
    assert seen, "the accounts' events are shown"
    assert not [e for e in seen if e["topic"].startswith("huikuan:KeyRing")]
    assert {e["customer_id"] for e in seen} >= {"C-1", "C-2"}
    # A page of one at a time walks past the key ring's events to the end of the store.
    assert [e["id"] for e in _feed(api, role, limit=1)] == [e["id"] for e in seen]
    history = api.get("/v1/customers/C-1/history", headers=api.as_role(role))
    assert history.status_code == 200
    for text in (json.dumps(seen), history.text):
        assert "KeyIssued" not in text and "KeyRevoked" not in text
        assert made["key_id"] not in text
        _no_secret_in(text, made["key"], *api.keys.values())


def test_an_admin_sees_the_key_rings_events_but_no_hash(api, customer):
    customer("C-1")
    made = _make(api, "collector", label="temp")
    api.post(f"/v1/keys/{made['key_id']}/revoke", headers=api.as_role("admin"))
    seen = _feed(api, "admin")
    ring = [e for e in seen if e["topic"].startswith("huikuan:KeyRing")]
    assert [e["type"] for e in ring] == ["Created", *["KeyIssued"] * (len(ROLES) + 1),
                                         "KeyRevoked"]
    issued = [e for e in ring if e["data"].get("key_id") == made["key_id"]]
    assert issued[0]["data"]["role"] == "collector"
    assert issued[0]["data"]["label"] == "temp"
    _no_secret_in(json.dumps(seen), made["key"], *api.keys.values())


def test_the_callers_key_id_is_on_each_requests_log_line(store, ledger, policy, monkeypatch):
    out = io.StringIO()
    configure_logging(json=True, stream=out, force=True)
    # A logger another test's process configuration cached is not this configuration's.
    monkeypatch.setattr(http, "log", structlog.get_logger("huikuan.http"))
    key_id, key = issue_key(ledger, "auditor")
    views = Views(ledger)
    try:
        with TestClient(create_app(Services(ledger, policy, views))) as client:
            assert client.get("/v1/aging", headers=_bearer(key)).status_code == 200
            assert client.post("/v1/cycle", json={"as_of": "2026-11-24"},
                               headers=_bearer(key)).status_code == 403
            assert client.get("/v1/aging", headers=_bearer("hk_nope")).status_code == 401
    finally:
        views.close()
        views.projector.close()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    requests = [x for x in lines if x["event"] == "http.request"]
    assert [(x["path"], x["status"], x.get("key_id"), x.get("role")) for x in requests] == [
        ("/v1/aging", 200, key_id, "auditor"),
        ("/v1/cycle", 403, key_id, "auditor"),
        ("/v1/aging", 401, None, None),
    ]
    assert key not in out.getvalue()


# ---- the command line and separate processes


def _cli(env: dict[str, str], *args: str, code: int = 0) -> tuple[str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "huikuan.adapters.cli", *args],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=300, check=False,
        cwd=REPO)
    assert done.returncode == code, (args, done.stdout + done.stderr)
    assert "Traceback" not in done.stdout + done.stderr
    return done.stdout, done.stderr


def test_keys_by_the_command_line_and_a_revocation_every_server_process_obeys(store, tmp_path):
    env = {"HUIKUAN_DATABASE_URL": store.url, "HUIKUAN_PLUGINS": str(REPO / "plugins.toml"),
           "HUIKUAN_IN_PROCESS_WORKERS": "0", "HUIKUAN_AUDIT_ANCHOR": str(tmp_path / "anchors"),
           "HUIKUAN_LOG_LEVEL": "INFO", "COLUMNS": "200"}
    admin, said = _cli(env, "keys", "create", "--role", "admin", "--label", "ops")
    admin = admin.strip()
    admin_id = said.split()[0]
    expiry = str(TODAY + timedelta(days=90))
    collector, said = _cli(env, "keys", "create", "--role", "collector", "--label",
                           "李伟 phone app", "--expires-on", expiry)
    collector = collector.strip()
    collector_id = said.split()[0]
    _cli(env, "keys", "create", "--role", "owner", code=2)
    _cli(env, "keys", "create", "--role", "auditor", "--expires-on", "soon", code=2)

    listed, _ = _cli(env, "keys", "list", "--json")
    rows = [json.loads(line) for line in listed.splitlines()]
    assert [(r["key_id"], r["role"], r["label"], r["expires_on"], r["revoked"])
            for r in rows] == [(admin_id, "admin", "ops", None, False),
                               (collector_id, "collector", "李伟 phone app", expiry, False)]
    table, _ = _cli(env, "keys", "list")
    assert collector_id in table and "李伟 phone app" in table and expiry in table
    for text in (listed, table):
        _no_secret_in(text, admin, collector)

    first, second = Server(env), Server(env)
    try:
        for server in (first, second):
            answer = server.client.get("/v1/aging", headers=_bearer(collector))
            assert answer.status_code == 200
        # Revoked through the first server: the second refuses it at once.
        revoked = first.client.post(f"/v1/keys/{collector_id}/revoke",
                                    headers=_bearer(admin))
        assert revoked.status_code == 201
        for server in (first, second):
            answer = server.client.get("/v1/aging", headers=_bearer(collector))
            assert answer.status_code == 401
            assert "revoked" in answer.json()["detail"]
        # A key revoked by the command line, too.
        made = second.client.post("/v1/keys", headers=_bearer(admin),
                                  json={"role": "auditor", "label": "short-lived"}).json()
        assert first.client.get("/v1/aging", headers=_bearer(made["key"])).status_code == 200
        _cli(env, "keys", "revoke", made["key_id"])
        _cli(env, "keys", "revoke", "key-00000000", code=3)
        for server in (first, second):
            assert server.client.get("/v1/aging",
                                     headers=_bearer(made["key"])).status_code == 401
    finally:
        first.stop()
        second.stop()
    # Each request's log line names the key id that made it, never the key.
    logged = [json.loads(line) for line in first.log if line.startswith("{")]
    requests = [x for x in logged if x.get("event") == "http.request"]
    assert [x.get("key_id") for x in requests] == [collector_id, admin_id, collector_id,
                                                   made["key_id"], made["key_id"]]
    assert not any(secret in "".join(first.log) for secret in (admin, collector))

    # After a restart: still refused; the admin's key still works.
    third = Server(env)
    try:
        assert third.client.get("/v1/aging", headers=_bearer(collector)).status_code == 401
        assert third.client.get("/v1/aging", headers=_bearer(admin)).status_code == 200
    finally:
        third.stop()
    listed, _ = _cli(env, "keys", "list", "--json")
    assert [json.loads(line)["revoked"] for line in listed.splitlines()] == [False, True, True]
