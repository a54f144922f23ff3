"""`huikuan serve` with HUIKUAN_WORKERS > 1: uvicorn spawns each server process afresh,
and each must log as `serve` was told (level and JSON form), not structlog's default."""

from __future__ import annotations

import json

from huikuan.core.access import issue_key
from tests.conftest import Store
from tests.server import Server


def _served(store: Store, level: str) -> list[str]:
    ledger = store.open()
    key = issue_key(ledger, "integration")[1]
    server = Server({"HUIKUAN_DATABASE_URL": store.url, "HUIKUAN_IN_PROCESS_WORKERS": "0",
                     "HUIKUAN_WORKERS": "2", "HUIKUAN_LOG_LEVEL": level})
    try:
        for _ in range(6):
            answer = server.client.get("/v1/aging", headers={"Authorization": f"Bearer {key}"})
            assert answer.status_code == 200
    finally:
        server.stop()
    return [line for line in server.log if "http.request" in line]


def test_server_processes_log_at_the_level_and_in_the_form_asked(tmp_path):
    store = Store("postgres", tmp_path)  # more than one server process: PostgreSQL
    try:
        assert _served(store, "WARNING") == []
        logged = _served(store, "INFO")
        assert len(logged) == 6
        assert {json.loads(line)["path"] for line in logged} == {"/v1/aging"}
    finally:
        store.close()
