"""The command line never cuts a figure: every amount, date and id is printed whole at
any width and when piped (issue 14)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from huikuan.adapters.tables import Column, render
from tests.conftest import REPO

FIGURE = re.compile(r"-?\d+\.\d{2}\b")


def test_a_narrow_table_folds_only_its_text_and_keeps_every_figure_whole():
    columns = [Column("customer"), Column("overdue", right=True), Column("why", wraps=True)]
    rows = [["DEMO-0220", "120460.74", "120460.74 CNY overdue; past due since 2026-01-14; "
             "ladder task: handoff_review"],
            ["成都杭州纺织实业有限公司", "7870.55", "risk grade E"]]
    lines = render(columns, rows, width=40)
    text = "\n".join(lines)
    for whole in ("DEMO-0220", "120460.74", "2026-01-14", "成都杭州纺织实业有限公司", "7870.55",
                  "handoff_review"):
        assert whole in text
    assert "…" not in text
    # The reasons were folded onto lines of their own, under their column.
    assert len(lines) > 3
    piped = render(columns, rows, width=None)
    assert len(piped) == 3  # header and one line a row: a script reads whole lines


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("tables")
    env = {"HUIKUAN_DATABASE_URL": f"sqlite:///{folder / 'h.sqlite3'}",
           "HUIKUAN_PLUGINS": str(REPO / "plugins.toml"),
           "HUIKUAN_LETTER_DIR": str(folder / "letters"), "HUIKUAN_LOG_LEVEL": "WARNING",
           "HUIKUAN_AUDIT_ANCHOR": str(folder / "anchors")}
    run(env, "demo", "--customers", "30", "--as-of", "2026-11-23")
    run(env, "cycle", "--as-of", "2026-11-23")
    return env


def run(env: dict[str, str], *args: str, columns: int = 60) -> str:
    """The command's output read through a pipe, as a script or `| less` reads it."""
    done = subprocess.run([sys.executable, "-m", "huikuan.adapters.cli", *args],
                          env={**os.environ, **env, "COLUMNS": str(columns)},
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout


@pytest.mark.parametrize("group_by", ["customer", "collector", "currency", "class"])
def test_aging_through_a_pipe_at_60_columns_shows_every_amount_whole(demo_store, group_by):
    table = run(demo_store, "aging", "--as-of", "2026-11-23", "--group-by", group_by)
    report = json.loads(run(demo_store, "aging", "--as-of", "2026-11-23", "--group-by",
                            group_by, "--format", "json"))
    assert "…" not in table
    for row in report["rows"]:
        line = next(li for li in table.splitlines()
                    if li.split()[:2] == [str(row["key"]), row["currency"]])
        assert FIGURE.findall(line) == [row[b] for b in [*report["buckets"], "total"]]


@pytest.mark.parametrize("command", [
    ["worklist", "--as-of", "2026-11-23", "--limit", "50"],
    ["account", "DEMO-0001", "--as-of", "2026-11-23"],
    ["history", "DEMO-0001"],
    ["kpis", "--from", "2026-08-25", "--to", "2026-11-23"],
    ["demo", "--customers", "30", "--as-of", "2026-11-23"],
    ["customers", "--all", "--limit", "7"],
])
@pytest.mark.parametrize("columns", [60, 100])
def test_every_table_through_a_pipe_keeps_ids_dates_and_amounts_whole(demo_store, command,
                                                                     columns):
    table = run(demo_store, *command, columns=columns)
    assert "…" not in table and table.strip()
    wide = run(demo_store, *command, columns=400)
    # Whatever the width, the same figures, dates and ids, each whole.
    for pattern in (FIGURE, re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
                    re.compile(r"\bDEMO-\d{4}(?:-INV-\d{3})?\b")):
        assert pattern.findall(table) == pattern.findall(wide), pattern


def test_kpis_default_to_the_last_90_days_as_a_table(demo_store):
    table = run(demo_store, "kpis", "--to", "2026-11-23")
    assert table.splitlines()[0] == "KPIs 2026-08-26 to 2026-11-23 (90 days)"
    assert table.splitlines()[1].split()[:3] == ["currency", "dso", "best_possible_dso"]
    assert "CNY" in table
    csv_out = run(demo_store, "kpis", "--to", "2026-11-23", "--format", "csv")
    assert csv_out.startswith("currency,dso,")

