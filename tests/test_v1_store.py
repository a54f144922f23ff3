"""Stored events are permanent: a store written by an earlier huikuan opens with this one.

``fixtures/v1_store.sqlite3.gz`` was written before the one-namespace redesign (see
``fixtures/capture_v1_store.py`` for how), together with every answer it gave over HTTP
(``v1_store.json.gz``). This code must open it, verify its chain, give the same answers,
and give them again after the views are rebuilt from the events alone.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.conftest import REPO

FIXTURES = Path(__file__).parent / "fixtures"
KEY = "hk_8Usb2mFBsbzTNkQ8W9qKesPPIg5NVVv03nk-xI7Dqd8"  # the fixture's admin key


def _capture_module() -> Any:
    spec = importlib.util.spec_from_file_location("capture", FIXTURES / "capture_v1_store.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def v1_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    path = tmp_path / "v1_store.sqlite3"
    with gzip.open(FIXTURES / "v1_store.sqlite3.gz") as packed, path.open("wb") as out:
        shutil.copyfileobj(packed, out)
    env = {
        "HUIKUAN_DATABASE_URL": f"sqlite:///{path}",
        "HUIKUAN_PLUGINS": str(REPO / "plugins.toml"),
        "HUIKUAN_IN_PROCESS_WORKERS": "0",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def _answers() -> dict[str, Any]:
    from huikuan.adapters.http import create_app

    with TestClient(create_app()) as client:
        answers: dict[str, Any] = _capture_module().capture(
            client, {"Authorization": f"Bearer {KEY}"}
        )
        verified = client.get("/v1/audit/verify", headers={"Authorization": f"Bearer {KEY}"})
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


def test_an_earlier_store_opens_verifies_and_answers_as_before(v1_store: dict[str, str]) -> None:
    with gzip.open(FIXTURES / "v1_store.json.gz", "rt", encoding="utf-8") as file:
        expected = json.load(file)
    assert "ok: 1327 events" in _cli(v1_store, "audit", "verify")
    _assert_same(_answers(), expected)
    # The views folded again from the events alone give the same answers.
    assert "rebuilt the views from 1327 events" in _cli(v1_store, "projections", "rebuild")
    _assert_same(_answers(), expected)


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
