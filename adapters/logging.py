"""structlog, configured once per process: JSON in production, readable in a terminal.

The core logs with stable dotted event names (``command.recorded``) and binds the
customer id and command to each line. Names, phones and e-mail addresses are never
logged: only ids, counts and outcomes.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

import structlog
import structlog.tracebacks

_configured = False
_level: str | None = None


def configure_logging(
    *,
    json: bool | None = None,
    level: str | None = None,
    stream: TextIO | None = None,
    force: bool = False,
) -> None:
    """Configure structlog for this process (a second call does nothing).

    ``json`` defaults to True unless stderr is a terminal; ``HUIKUAN_LOG_FORMAT``
    (``json`` or ``console``) and ``HUIKUAN_LOG_LEVEL`` override both defaults.
    """
    global _configured, _level
    if _configured and not force:
        return
    fmt = os.environ.get("HUIKUAN_LOG_FORMAT")
    if json is None:
        json = fmt == "json" if fmt else not sys.stderr.isatty()
    level_name = (level or os.environ.get("HUIKUAN_LOG_LEVEL") or "INFO").upper()
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(
            # Never the frames' local variables: they can hold an API key or a customer's
            # data (rich's tracebacks show them by default).
            exception_formatter=structlog.dev.RichTracebackFormatter(show_locals=False))
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            # Tracebacks without local variables: locals can hold API keys and request data.
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
            ) if json else structlog.dev.set_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level_name, logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(stream or sys.stderr),
        cache_logger_on_first_use=not force,
    )
    _configured = True
    _level = level_name


def configured_level() -> str | None:
    """The level this process logs at (None before it is configured): the cycle's helper
    processes log as the process that started them."""
    return _level
