"""The HTTP API (Litestar): the application that serves the public contract.

The operations themselves live in ``huikuan.adapters.api`` (routes, answers, roles,
problem details); this module assembles them with the store, the policy and the views,
logs each request, and serves the result.
"""

import os
import re
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import structlog
from litestar import Litestar, Router, get
from litestar.datastructures import State
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.pydantic import PydanticPlugin
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from pydantic import BaseModel

from huikuan.adapters.api import v1_router
from huikuan.adapters.api.answers import DecimalAsString, Health, written
from huikuan.adapters.api.inputs import admit
from huikuan.adapters.api.problems import EXCEPTION_HANDLERS
from huikuan.adapters.web import template_config, web_router
from huikuan.adapters.web.session import secret as session_secret
from huikuan.core.cycle import DailyCycle
from huikuan.core.ledger import Ledger
from huikuan.core.policy import PolicyHost
from huikuan.projections.queries import Views

log = structlog.get_logger("huikuan.http")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


@dataclass
class Services:
    ledger: Ledger
    host: PolicyHost
    views: Views
    # The bootstrap's cycle (with the store's lock); an app given only the three parts
    # above builds one the same way.
    cycle: DailyCycle | None = None

    def __post_init__(self) -> None:
        if self.cycle is None:
            from huikuan.adapters.locks import cycle_lock

            self.cycle = DailyCycle(self.ledger, self.host, self.views,
                                    lock=cycle_lock(self.ledger.env))


SCHEMA_ASSETS = "/schema/assets"


def schema_assets() -> Router:
    """Swagger UI's files for /schema (swagger-ui-dist 5, Apache-2.0, vendored with its
    licence in adapters/web/static/swagger: OpenAPI 3.1 needs Swagger UI 5)."""
    from huikuan.adapters.web import HERE

    return create_static_files_router(path=SCHEMA_ASSETS,
                                      directories=[HERE / "static" / "swagger"],
                                      include_in_schema=False)


@get("/", sync_to_thread=False, include_in_schema=False)
def root() -> Redirect:
    """People start at the workspace."""
    return Redirect("/app/worklist")


@get("/health", sync_to_thread=False, tags=["health"], operation_id="getHealth",
     summary="Liveness: no key needed")
def health() -> Health:
    """Liveness: no key needed."""
    return Health(status="ok")


def request_logging(app: Any) -> Any:
    """One log line per request: id, method, path, status, time. No bodies, no headers."""

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"x-request-id", b"")[:64].decode("latin-1")
        # A client's id is kept only if it is one (it is logged and echoed in a header).
        request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex[:16]

        async def send_with_id(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await app(scope, receive, send_with_id)
        finally:
            log.info(
                "http.request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                ms=round((time.perf_counter() - started) * 1000, 1),
            )

    return middleware


def create_app(services: Services | None = None) -> Litestar:
    """The application; without ``services`` it opens the configured store at start-up."""

    @asynccontextmanager
    async def lifespan(app: Litestar):  # type: ignore[no-untyped-def]
        # Blocking handlers run in threads; size the pool for the machine, not anyio's 40.
        import anyio.to_thread

        threads = int(os.environ.get("HUIKUAN_THREADS", str((os.cpu_count() or 2) * 4)))
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        hk = None
        workers = None
        if services is None:
            from huikuan.adapters.bootstrap import bootstrap

            hk = bootstrap()
            app.state.services = Services(hk.ledger, hk.host, hk.views, hk.cycle)
            # The projection follower and the dispatcher run beside the API unless they
            # run as processes of their own (`huikuan workers`, for several replicas).
            if os.environ.get("HUIKUAN_IN_PROCESS_WORKERS", "1") != "0":
                from huikuan.adapters.workers import Workers

                workers = Workers(hk)
                workers.start()
        else:
            app.state.services = services
        try:
            yield
        finally:
            if workers is not None:
                workers.stop()
            if hk is not None:
                hk.close()

    return Litestar(
        route_handlers=[v1_router(), health, root, web_router(), schema_assets()],
        template_config=template_config(),
        state=State({"session_key": session_secret()}),
        lifespan=[lifespan],
        middleware=[request_logging],
        before_request=admit,
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=1024 * 1024,
        # Answers are written by their fields' aliases (``class``, ``1-30``, ``from``), and
        # every Decimal is documented as the string it is on the wire.
        plugins=[PydanticPlugin(prefer_alias=True), DecimalAsString()],
        type_encoders={BaseModel: written},
        openapi_config=OpenAPIConfig(
            title="huikuan",
            version="1",
            path="/schema",
            components=Components(
                security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}
            ),
            security=[{"bearer": []}],
            # Swagger UI served from here: the interactive docs work with no internet
            # (Litestar's default loads them, and a favicon, from a CDN).
            render_plugins=[SwaggerRenderPlugin(
                js_url=f"{SCHEMA_ASSETS}/swagger-ui-bundle.js",
                css_url=f"{SCHEMA_ASSETS}/swagger-ui.css",
                standalone_preset_js_url=f"{SCHEMA_ASSETS}/swagger-ui-standalone-preset.js",
                favicon=f"<link rel='icon' type='image/png' "
                        f"href='{SCHEMA_ASSETS}/favicon-32x32.png'>",
                path="/")],
        ),
        debug=False,
    )


def served_app() -> Litestar:
    """The application as `huikuan serve` runs it, in each of its server processes.

    With HUIKUAN_WORKERS > 1 uvicorn starts every process afresh and calls this there:
    its logging is configured as `serve` configured the parent's (a second call in the
    same process does nothing), or it logs every request at INFO in structlog's default
    form whatever HUIKUAN_LOG_LEVEL says.
    """
    from huikuan.adapters.logging import configure_logging

    configure_logging()
    return create_app()


def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    import uvicorn

    workers = int(os.environ.get("HUIKUAN_WORKERS", "1"))
    uvicorn.run(
        "huikuan.adapters.http:served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=os.environ.get("HUIKUAN_SERVER_LOG_LEVEL", "info"),
        access_log=False,
    )
