"""Message texts: one Jinja2 template per kind and language (zh-CN, en).

A template's first line is the subject, the rest the body. ``[templates] directory``
points at a folder of your own templates, looked up before the built-in ones.
"""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2

from huikuan.core.plugin import AccountView, MessageDraft, RenderedMessage, Settings, hookimpl

BUILT_IN = Path(__file__).parent / "templates"


def _environment(settings: Settings) -> jinja2.Environment:
    own = settings.section("templates").get("directory")
    return _environment_for((str(own),) if own else ())


@functools.lru_cache(maxsize=8)
def _environment_for(own: tuple[str, ...]) -> jinja2.Environment:
    # One environment per set of folders, kept: it caches compiled templates (and
    # notices edited files), so a cycle does not compile a template per message.
    folders = [*own, str(BUILT_IN)]
    # Plain text, not HTML: nothing to escape; a missing value is an error, not a blank.
    return jinja2.Environment(  # noqa: S701
        loader=jinja2.FileSystemLoader(folders), undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


@hookimpl(trylast=True)
def huikuan_render_message(
    draft: MessageDraft, account: AccountView, settings: Settings
) -> RenderedMessage:
    language = draft.language if draft.language in ("zh-CN", "en") else "zh-CN"
    template = _environment(settings).get_template(f"{draft.kind}.{language}.j2")
    text = template.render(
        name=account.name, customer_id=account.customer_id, amount=draft.amount,
        currency=draft.currency, invoices=draft.invoices, deadline=draft.deadline,
        as_of=draft.as_of, kind=draft.kind, interest=draft.interest, fees=draft.fees,
        invoice_interest=draft.invoice_interest,
    )
    subject, _, body = text.partition("\n")
    return RenderedMessage(subject=subject.strip(), body=body.strip() + "\n")
