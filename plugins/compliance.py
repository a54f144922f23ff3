"""Lawful contact (合法合规催收): phone, text and visit work only at decent hours, not too often.

    [compliance]
    start = "08:00"          # in the customer's time zone
    end = "21:00"
    max_attempts = 7         # phone, text and visit attempts…
    window_days = 7          # …in this many days

Applies to texts and to call and visit tasks; e-mail and letters may go at any time.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from huikuan.core.plugin import AccountView, ContactVerdict, OutgoingMessage, Settings, hookimpl

RESTRICTED_CHANNELS = {"sms", "phone", "visit"}
RESTRICTED_KINDS = {"call_task", "visit_task"}


def _restricted(message: OutgoingMessage) -> bool:
    return message.channel in RESTRICTED_CHANNELS or message.kind in RESTRICTED_KINDS


@hookimpl
def huikuan_contact_allowed(
    message: OutgoingMessage, account: AccountView, now: datetime, settings: Settings
) -> ContactVerdict | None:
    if not _restricted(message):
        return None
    section = settings.section("compliance")
    zone = ZoneInfo(account.timezone)
    start = time.fromisoformat(section.get("start", "08:00"))
    end = time.fromisoformat(section.get("end", "21:00"))
    local = now.astimezone(zone)
    if not start <= local.time() < end:
        opens = datetime.combine(local.date(), start, zone)
        if local.time() >= end:
            opens += timedelta(days=1)
        return ContactVerdict(False, opens, f"outside {start:%H:%M}–{end:%H:%M} local time")
    window = timedelta(days=int(section.get("window_days", 7)))
    limit = int(section.get("max_attempts", 7))
    # Attempts by people (logged contacts) and by huikuan itself (texts and call or
    # visit tasks it sent) count alike.
    attempts = sorted(
        [c.occurred_at for c in account.contact_log
         if c.direction == "outbound" and c.channel in RESTRICTED_CHANNELS
         and now - window < c.occurred_at <= now]
        + [m.sent_at for m in account.messages
           if m.sent_at is not None and (m.channel in RESTRICTED_CHANNELS
                                         or m.kind in RESTRICTED_KINDS)
           and now - window < m.sent_at <= now]
    )
    if len(attempts) >= limit:
        return ContactVerdict(False, attempts[-limit] + window,
                              f"{len(attempts)} attempts in {window.days} days")
    return ContactVerdict(True)
