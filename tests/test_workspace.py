"""The collector's desk in a real browser (Debian's Chromium, driven by Playwright) against a
real server process on a store the command line made: sign-in, the worklist, a customer's
case file and its forms, the portfolio, offline, both languages, a phone's width.

Pages are drawn to ``var/test-artifacts/`` for a person to look at.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import REPO
from tests.server import Server

ARTIFACTS = REPO / "var" / "test-artifacts"
PASSWORD = "correct horse battery"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([sys.executable, "-m", "huikuan.adapters.cli", *args],
                          env={**os.environ, **env}, input=stdin, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("desk")
    env = {"HUIKUAN_DATABASE_URL": f"sqlite:///{folder / 'huikuan.sqlite3'}",
           "HUIKUAN_PLUGINS": str(REPO / "plugins.toml"),
           "HUIKUAN_LETTER_DIR": str(folder / "letters"),
           "HUIKUAN_AUDIT_ANCHOR": str(folder / "anchors"),
           "HUIKUAN_SESSION_SECRET": "a test's own session secret",
           "HUIKUAN_IN_PROCESS_WORKERS": "0"}
    _cli(env, "demo", "--customers", "30")
    _cli(env, "cycle")
    _cli(env, "users", "create", "li.wei", "--role", "collector", stdin=PASSWORD + "\n")
    _cli(env, "users", "create", "boss", "--role", "manager", "--language", "en",
         stdin=PASSWORD + "\n")
    server = Server(env)
    server.env = env  # type: ignore[attr-defined]
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, desk: Server) -> Iterator[Page]:
    context = browser.new_context(base_url=desk.url, viewport={"width": 1280, "height": 800})
    opened = context.new_page()
    outside: list[str] = []
    # Nothing may come from anywhere but huikuan itself (no CDN, no web font service).
    opened.on("request", lambda r: None if r.url.startswith(desk.url) or
              r.url.startswith("data:") else outside.append(r.url))
    opened.outside = outside  # type: ignore[attr-defined]
    yield opened
    assert outside == [], outside
    context.close()


def sign_in(page: Page, name: str, password: str = PASSWORD) -> None:
    page.goto("/app/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def draw(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_a_page_needs_a_person_signed_in(page: Page) -> None:
    page.goto("/")
    assert page.url.endswith("/app/login")
    sign_in(page, "li.wei", "not the password")
    assert "用户名或密码不对" in page.inner_text("main")
    assert page.url.endswith("/app/login")


def test_a_collector_works_the_queue_and_logs_a_contact_in_chinese(page: Page,
                                                                   desk: Server) -> None:
    sign_in(page, "li.wei")
    assert page.url.endswith("/app/worklist")
    assert page.inner_text("h1") == "今日工作 · li.wei"
    rows = page.locator("tbody tr")
    assert rows.count() >= 1
    # The font the page asked for is huikuan's own, and it is what draws the Chinese.
    assert page.evaluate("document.fonts.check('16px \"Noto Sans SC\"', '今日工作')")
    draw(page, "worklist-zh")
    first = page.locator("tbody tr a").first
    customer_id = first.inner_text()
    first.click()
    assert page.url.endswith(f"/app/customers/{customer_id}")
    main = page.inner_text("main")
    for heading in ("未收金额", "逾期金额", "逾期利息", "催收费用", "发票", "专案档案"):
        assert heading in main, heading
    # The collector may not reassign: the form is not there.
    assert page.locator("form#reassign").count() == 0
    page.select_option("form#contact select[name=outcome]", "promised")
    page.fill("form#contact textarea[name=note]", "财务王女士答应月底付款")
    page.click("form#contact button[type=submit]")
    assert "已保存" in page.inner_text("main")
    page.fill("form#promise input[name=amount]", "1000.00")
    page.fill("form#promise input[name=due_on]", "2026-12-31")
    page.click("form#promise button[type=submit]")
    assert "已保存" in page.inner_text("main")
    timeline = page.inner_text("h2:has-text('专案档案') + div")
    assert "ContactLogged" in timeline and "PromiseMade" in timeline
    assert "user:li.wei" in timeline
    # Through the API the same contact and promise name who recorded them.
    history = _history(desk, customer_id)
    for kind in ("ContactLogged", "PromiseMade"):
        assert any(e["type"] == kind and e["recorded_by"] == "user:li.wei"
                   for e in history), kind
    promise = next(e for e in history if e["type"] == "PromiseMade")
    assert (promise["data"]["amount"], promise["data"]["due_on"]) == ("1000.00", "2026-12-31")


def _history(desk: Server, customer_id: str) -> list[dict[str, Any]]:
    key = _cli(_env_of(desk), "keys", "create", "--role", "auditor").strip()
    answer = httpx.get(f"{desk.url}/v1/customers/{customer_id}/history",
                       headers={"Authorization": f"Bearer {key}"})
    events: list[dict[str, Any]] = answer.json()["events"]
    return events


def _env_of(desk: Server) -> dict[str, str]:
    env: dict[str, str] = desk.env  # type: ignore[attr-defined]
    return env


def test_a_refused_form_shows_why_in_place_and_records_nothing(page: Page) -> None:
    sign_in(page, "li.wei")
    customer_id = page.locator("tbody tr a").first.inner_text()
    page.goto(f"/app/customers/{customer_id}")
    before = page.inner_text("h2:has-text('专案档案') + div")
    page.fill("form#promise input[name=amount]", "1e3")
    page.fill("form#promise input[name=due_on]", "2026-12-31")
    page.click("form#promise button[type=submit]")
    problem = page.inner_text("form#promise .error")
    assert "amount" in problem
    assert page.inner_text("h2:has-text('专案档案') + div") == before


def test_a_manager_sees_everyone_the_portfolio_and_may_reassign_in_english(
        page: Page) -> None:
    sign_in(page, "boss")
    assert page.inner_text("h1") == "Worklist"
    collectors = {m for m in re.findall(r"\b[a-z]+\.[a-z]+\b", page.inner_text("tbody"))}
    page.click("text=Portfolio")
    page.click("main button[type=submit]")  # the KPIs of the period shown
    main = page.inner_text("main")
    for heading in ("Aging", "By collector", "KPIs", "Customers on supply hold",
                    "Limitation periods ending within 90 days"):
        assert heading in main, heading
    assert page.locator(".bar").count() >= 7
    draw(page, "portfolio-en")
    page.click("text=Customers")
    page.fill("input[name=q]", "DEMO-000")
    page.click("main button[type=submit]")
    assert page.locator("tbody tr").count() >= 5
    page.locator("tbody tr a").first.click()
    assert page.locator("form#reassign").count() == 1
    del collectors


def test_a_collector_sees_only_their_own_portfolio_and_may_not_reassign(page: Page,
                                                                       desk: Server) -> None:
    sign_in(page, "li.wei")
    page.goto("/app/portfolio")
    assert page.inner_text("h1").startswith("应收总览 · li.wei")
    table = page.inner_text("h2:has-text('按催收员') + div")
    others = {"chen.jie", "wang.fang", "zhang.min", "liu.yang"}
    assert "li.wei" in table and not [o for o in others if o in table]
    customer_id = page.locator("main a[href^='/app/customers/']").first.get_attribute(
        "href").rsplit("/", 1)[1]
    page.goto(f"/app/customers/{customer_id}")
    token = page.locator("form#contact input[name=csrf]").get_attribute("value")
    refused = page.request.post(f"/app/customers/{customer_id}/reassign",
                                form={"csrf": token, "collector": "li.wei"})
    assert refused.status == 403


def test_every_page_in_both_languages_is_drawn(page: Page) -> None:
    page.goto("/app/login")
    draw(page, "login")
    for name, language in (("li.wei", "zh"), ("boss", "en")):
        sign_in(page, name)
        for view in ("worklist", "customers", "portfolio?from=2026-09-01"):
            page.goto(f"/app/{view}")
            draw(page, f"{view.partition('?')[0]}-{language}")
        page.goto("/app/worklist")
        page.locator("tbody tr a").first.click()
        draw(page, f"customer-{language}")
        page.locator("header form.out button").click()
        assert page.url.endswith("/app/login")


def test_a_phone_shows_the_customer_without_scrolling_sideways(browser: Browser,
                                                               desk: Server) -> None:
    context = browser.new_context(base_url=desk.url,
                                  viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    sign_in(page, "li.wei")
    page.locator("tbody tr a").first.click()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    draw(page, "customer-phone")
    context.close()


def _form_sign_in(client: httpx.Client, name: str, password: str = PASSWORD) -> httpx.Response:
    """Sign in as the page does: the form's token and its cookie, then the POST."""
    form = client.get("/app/login")
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', form.text).group(1)
    # The cookies are Secure: a client other than a browser sends them over plain HTTP
    # to loopback only when told.
    client.cookies.set("huikuan_login", form.cookies["huikuan_login"])
    return client.post("/app/login", data={"name": name, "password": password,
                                           "csrf": token})


def test_forms_need_the_sessions_csrf_token_and_sign_out_ends_the_session(
        desk: Server) -> None:
    with httpx.Client(base_url=desk.url) as client:
        # Signing in needs the sign-in form's own token (no other site signs a person in).
        assert client.post("/app/login", data={"name": "li.wei", "password": PASSWORD}
                           ).status_code == 403
        done = _form_sign_in(client, "li.wei")
        assert done.status_code == 303
        client.cookies.set("huikuan_session", done.cookies["huikuan_session"])
        page = client.get("/app/worklist")
        customer_id = re.search(r'href="/app/customers/([^"]+)"', page.text).group(1)
        forged = client.post(f"/app/customers/{customer_id}/contact",
                             data={"channel": "phone", "direction": "outbound",
                                   "outcome": "reached", "csrf": "guessed"})
        assert forged.status_code == 403
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
        client.post("/app/logout", data={"csrf": token})
        client.cookies.clear()
        assert client.get("/app/worklist").status_code == 302


def test_the_interactive_api_docs_load_nothing_from_outside(page: Page) -> None:
    page.goto("/schema")
    page.wait_for_selector(".swagger-ui .information-container")
    assert "huikuan" in page.inner_text(".swagger-ui .information-container")


def test_people_are_on_the_audited_user_ring_and_no_feed_shows_a_hash(desk: Server) -> None:
    env = _env_of(desk)
    admin = _cli(env, "keys", "create", "--role", "admin").strip()
    auditor = _cli(env, "keys", "create", "--role", "auditor").strip()

    def feed(key: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        after = 0
        while True:
            page = httpx.get(f"{desk.url}/v1/events?after={after}&limit=1000",
                             headers={"Authorization": f"Bearer {key}"}).json()
            found += page["events"]
            if not page["events"]:
                return found
            after = page["next"]

    seen = [e for e in feed(admin) if e["topic"].startswith("huikuan:UserRing.")]
    assert {e["data"]["name"] for e in seen if e["type"] == "UserCreated"} >= {"li.wei", "boss"}
    assert all("password_hash" not in e["data"] for e in seen)
    assert not [e for e in feed(auditor) if e["topic"].startswith("huikuan:UserRing.")]
    assert _cli(env, "audit", "verify").startswith("ok:")
    # A person disabled cannot sign in any more.
    _cli(env, "users", "create", "temp.hand", "--role", "collector", stdin=PASSWORD + "\n")
    _cli(env, "users", "disable", "temp.hand")
    with httpx.Client(base_url=desk.url) as client:
        assert _form_sign_in(client, "temp.hand").status_code == 401


def test_a_new_password_ends_the_sessions_opened_with_the_old_one(desk: Server) -> None:
    env = _env_of(desk)
    _cli(env, "users", "create", "temp.pass", "--role", "collector", stdin=PASSWORD + "\n")
    with httpx.Client(base_url=desk.url) as client:
        done = _form_sign_in(client, "temp.pass")
        client.cookies.set("huikuan_session", done.cookies["huikuan_session"])
        assert client.get("/app/worklist").status_code == 200
        _cli(env, "users", "password", "temp.pass", stdin="another long password\n")
        assert client.get("/app/worklist").status_code == 302
        # A cookie that is not one (not even ASCII) is no session, never an error.
        client.cookies.set("huikuan_session", "a|1|n|m|%C3%A9")  # é, percent-encoded
        assert client.get("/app/worklist").status_code == 302
