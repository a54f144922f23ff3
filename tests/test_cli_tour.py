"""Every command works on a store the real command line made, key ring included.

The README's tour, run as a person runs it, in separate processes, on both backends: a key
made between commands (so every command that brings the views up to date meets the key
ring's events), and the views rebuilt from the events alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def _run(env: dict[str, str], *args: str, code: int = 0) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "huikuan.adapters.cli", *args],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=600, check=False,
    )
    shown = done.stdout + done.stderr
    assert done.returncode == code, (args, shown)
    assert "Traceback" not in shown, (args, shown)
    return done.stdout


def test_the_tour_runs_on_a_store_the_command_line_made(store, tmp_path: Path) -> None:
    env = {
        "HUIKUAN_DATABASE_URL": store.url, "HUIKUAN_PLUGINS": str(REPO / "plugins.toml"),
        "HUIKUAN_LETTER_DIR": str(tmp_path / "letters"), "HUIKUAN_IN_PROCESS_WORKERS": "0",
        "HUIKUAN_LOG_LEVEL": "WARNING", "COLUMNS": "200",
    }
    assert "20 demo customers" in _run(env, "demo", "--customers", "20", "--as-of", "2026-11-23")
    assert _run(env, "keys", "create", "--role", "admin").strip().startswith("hk_")
    assert "cycle 2026-11-23: 20 accounts" in _run(env, "cycle", "--as-of", "2026-11-23")
    assert "CNY" in _run(env, "aging", "--as-of", "2026-11-23", "--group-by", "currency")
    assert _run(env, "aging", "--as-of", "2026-11-23", "--format", "csv").startswith("key,")
    assert '"buckets"' in _run(env, "aging", "--as-of", "2026-11-23", "--format", "json")
    # A key made since the views last caught up: the next commands meet its events.
    _run(env, "keys", "create", "--role", "auditor")
    _run(env, "worklist", "--limit", "3")
    assert "DEMO-0001" in _run(env, "account", "DEMO-0001", "--as-of", "2026-06-30")
    assert "InvoiceIssued" in _run(env, "history", "DEMO-0001")
    _run(env, "dispatch")
    _run(env, "kpis", "--from", "2026-01-01", "--to", "2026-11-23")
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("customer_id,customer_name,invoice_id,amount,currency,issued_on,due_on\n"
                      "IMP-1,导入客户,IMP-1-A,100.00,CNY,2026-10-01,2026-10-31\n",
                      encoding="utf-8")
    assert "1 rows" in _run(env, "import", str(ledger), "--as-of", "2026-11-23")
    _run(env, "keys", "create", "--role", "collector")
    assert "2026-11-24" in _run(env, "cycle", "--as-of", "2026-11-24")
    assert "rebuilt the views" in _run(env, "projections", "rebuild")
    assert "CNY" in _run(env, "aging", "--as-of", "2026-11-24", "--group-by", "currency")
    assert _run(env, "audit", "verify").startswith("ok:")
