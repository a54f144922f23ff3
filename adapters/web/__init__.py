"""The collector's workspace in the browser (``/app/``): pages, forms, sign-in.

``web_router`` serves the pages; ``template_config`` their Jinja templates; the style sheet
is served from ``static/``. See :mod:`huikuan.adapters.web.pages`.
"""

from __future__ import annotations

from pathlib import Path

from litestar import Router
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from huikuan.adapters.web.pages import PAGES

HERE = Path(__file__).parent


def web_router() -> Router:
    static = create_static_files_router(path="/static", directories=[HERE / "static"],
                                        include_in_schema=False)
    return Router("/app", route_handlers=[*PAGES, static], include_in_schema=False)


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine)
