"""Stored events are permanent: a store written by an earlier huikuan opens with this one.

Three stores are kept, each with every answer it gave over HTTP when it was written:
``fixtures/v1_store.sqlite3.gz`` from before the one-namespace redesign (see
``fixtures/capture_v1_store.py``), ``fixtures/v2_store.sqlite3.gz`` from the code of
2 December 2026, before the "always right" round, holding every event type that code
wrote, late interest included (``fixtures/capture_v2_store.py``), and
``fixtures/v3_store.sqlite3.gz`` from the code of 3 December 2026, with every event type
of the integrity, "who did it", customers-and-cases and interest-and-fees rounds written
through HTTP by keys of several roles (``fixtures/capture_v3_store.py``). This code must open
each, verify its chain, give every answer it gave, and give them again after the views
are rebuilt from the events alone.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.conftest import REPO

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass(frozen=True)
class Kept:
    """A kept store: its files' stem, its admin key, its event count, how it was captured."""

    name: str
    key: str
    events: int
    capture: str
    plugins: Path


KEPT = [
    Kept("v1_store", "hk_8Usb2mFBsbzTNkQ8W9qKesPPIg5NVVv03nk-xI7Dqd8", 1327,
         "capture_v1_store.py", REPO / "plugins.toml"),
    Kept("v2_store", "hk_pUaraEdDQaAOSiHJwESuDbdf899gE-qvUJ4n7l9mc0s", 1649,
         "capture_v2_store.py", FIXTURES / "v2_plugins.toml"),
    Kept("v3_store", "hk_1ba170a5.T4SP-Q2080WiplVsp3378s2wWIkZhkhX38oPhMgcpko", 2493,
         "capture_v3_store.py", FIXTURES / "v3_plugins.toml"),
]


def _capture_module(kept: Kept) -> Any:
    spec = importlib.util.spec_from_file_location(kept.name, FIXTURES / kept.capture)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(params=KEPT, ids=[k.name for k in KEPT])
def kept(request: pytest.FixtureRequest) -> Kept:
    chosen: Kept = request.param
    return chosen


@pytest.fixture
def kept_store(kept: Kept, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    path = tmp_path / f"{kept.name}.sqlite3"
    with gzip.open(FIXTURES / f"{kept.name}.sqlite3.gz") as packed, path.open("wb") as out:
        shutil.copyfileobj(packed, out)
    env = {
        "HUIKUAN_DATABASE_URL": f"sqlite:///{path}",
        "HUIKUAN_PLUGINS": str(kept.plugins),
        "HUIKUAN_IN_PROCESS_WORKERS": "0",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def v1_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The first kept store alone (other tests open it too)."""
    return kept_store.__wrapped__(KEPT[0], tmp_path, monkeypatch)  # type: ignore[attr-defined]


def _answers(kept: Kept) -> dict[str, Any]:
    from huikuan.adapters.http import create_app

    headers = {"Authorization": f"Bearer {kept.key}"}
    with TestClient(create_app()) as client:
        answers: dict[str, Any] = _capture_module(kept).capture(client, headers)
        verified = client.get("/v1/audit/verify", headers=headers)
    assert verified.status_code == 200 and verified.json()["ok"] is True, verified.text
    return answers


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "huikuan.adapters.cli", *args],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _holds(now: Any, was: Any, where: str) -> None:
    """``now`` gives every answer ``was`` gave: the contract lets fields be added (v1.1
    adds interest, fees, …), never changed or removed."""
    if isinstance(was, dict) and isinstance(now, dict):
        for key, value in was.items():
            assert key in now, f"{where}: {key!r} is gone"
            _holds(now[key], value, f"{where}.{key}")
    elif isinstance(was, list) and isinstance(now, list):
        assert len(now) == len(was), f"{where}: {len(was)} items, now {len(now)}"
        for n, (item_now, item_was) in enumerate(zip(now, was, strict=True)):
            _holds(item_now, item_was, f"{where}[{n}]")
    else:
        assert now == was, f"{where}: was {was!r}, now {now!r}"


def _assert_same(answers: dict[str, Any], expected: dict[str, Any]) -> None:
    assert sorted(answers) == sorted(expected)
    for path, was in expected.items():
        _holds(answers[path], was, path)


def test_an_earlier_store_opens_verifies_and_answers_as_before(
    kept: Kept, kept_store: dict[str, str]
) -> None:
    with gzip.open(FIXTURES / f"{kept.name}.json.gz", "rt", encoding="utf-8") as file:
        expected = json.load(file)
    assert f"ok: {kept.events} events" in _cli(kept_store, "audit", "verify")
    _assert_same(_answers(kept), expected)
    # The views folded again from the events alone give the same answers.
    rebuilt = _cli(kept_store, "projections", "rebuild")
    assert f"rebuilt the views from {kept.events} events" in rebuilt
    _assert_same(_answers(kept), expected)


def test_a_cycle_of_this_code_on_an_earlier_store_keeps_what_it_said_of_earlier_days(
    v1_store: dict[str, str]
) -> None:
    """The first cycle after the upgrade gives the open invoices their class schedules
    from its date on; what the store said of the days before stays."""
    from huikuan.adapters.http import create_app

    key = KEPT[0].key
    earlier = ["/v1/aging?as_of=2026-06-30&group_by=class",
               "/v1/aging?as_of=2026-11-24&group_by=class",
               *(f"/v1/customers/DEMO-{n:04d}?as_of={day}" for n in range(1, 41)
                 for day in ("2026-06-30", "2026-11-24"))]

    def read(paths: list[str]) -> dict[str, Any]:
        with TestClient(create_app()) as client:
            client.headers["Authorization"] = f"Bearer {key}"
            return {path: client.get(path).json() for path in paths}

    before = read(earlier)
    _cli(v1_store, "cycle", "--as-of", "2026-11-25")
    assert read(earlier) == before
    # From the cycle's date on, each open invoice's class is the thresholds'.
    later = read([f"/v1/customers/DEMO-{n:04d}?as_of=2027-03-01" for n in range(1, 41)])
    thresholds = ((366, "dead"), (181, "bad"), (91, "doubtful"), (1, "in_collection"))
    checked = 0
    for summary in later.values():
        for line in summary["invoices"]:
            if line["open_amount"] != "0.00":
                late = line["days_overdue"]
                assert line["class"] == next(
                    (c for d, c in thresholds if late >= d), "not_due"), line
                checked += 1
    assert checked > 20


def test_an_installed_huikuan_puts_nothing_else_at_the_top_level(tmp_path: Path) -> None:
    target = tmp_path / "site"
    # From a copy of the sources: a build/ folder left in the checkout would be reused.
    source = tmp_path / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        ".*", "build", "var", "*.egg-info", "__pycache__", "tests", "bench", "examples"))
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
         "--target", str(target), str(source)],
        check=True, capture_output=True, timeout=300,
    )
    top = sorted(p.name for p in target.iterdir() if not p.name.endswith(".dist-info"))
    assert top == ["bin", "huikuan"] or top == ["huikuan"], top
    assert sorted(p.name for p in (target / "huikuan").iterdir()) == [
        "adapters", "core", "plugins", "projections"]
    # Every module of the source folders is installed, under huikuan.
    for folder in ("core", "plugins", "adapters", "projections"):
        source = {p.relative_to(REPO / folder) for p in (REPO / folder).rglob("*.py")}
        installed = {p.relative_to(target / "huikuan" / folder)
                     for p in (target / "huikuan" / folder).rglob("*.py")}
        assert source == installed, folder
    # Only the installed copy on the path (no site-packages, no working directory).
    probe = (
        f"import sys; sys.path[:] = [{str(target)!r}] + [p for p in sys.path if 'lib/python'"
        " in p and 'site-packages' not in p]; import importlib.util as u; "
        "print([u.find_spec(n) is None for n in ('core', 'plugins', 'adapters', 'projections')],"
        " u.find_spec('huikuan.core') is not None)"
    )
    shown = subprocess.run([sys.executable, "-I", "-S", "-c", probe], cwd=tmp_path, check=True,
                           capture_output=True, text=True).stdout
    assert shown.strip() == "[True, True, True, True] True"
