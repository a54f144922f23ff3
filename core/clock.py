"""What "today" means: a business date is a date where the customer (or the company) is.

The server's own clock and zone decide nothing: a server in UTC serving a company in
Shanghai would otherwise start "today" eight hours late. Adapters ask here when a
request names no date; event handlers never do (they only replay what was recorded).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

#: The company's zone when ``[company] timezone`` is not set in plugins.toml.
DEFAULT_TIMEZONE = "Asia/Shanghai"


def today_in(timezone: str, now: datetime | None = None) -> date:
    """The date it is now in ``timezone`` (an IANA name); ``now`` is an aware instant."""
    instant = now or datetime.now(UTC)
    return instant.astimezone(ZoneInfo(timezone)).date()


def company_timezone(sections: Mapping[str, Any]) -> str:
    """``[company] timezone`` from plugins.toml, else :data:`DEFAULT_TIMEZONE`."""
    company = sections.get("company", {})
    zone = company.get("timezone") if isinstance(company, Mapping) else None
    return str(zone) if zone else DEFAULT_TIMEZONE


def company_today(sections: Mapping[str, Any], now: datetime | None = None) -> date:
    """Today where the company is: the default business date of views and the cycle."""
    return today_in(company_timezone(sections), now)
