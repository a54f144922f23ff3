"""plugins.toml: which plugins run and how they are set (``HUIKUAN_PLUGINS`` names the file).

Without a file every built-in plugin runs with its defaults: the contract's default
policy. A file that cannot be read or parsed is an error, never silently ignored.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from huikuan.core.money import plain_decimal
from huikuan.core.plugin import HANDOFF_TO, Settings


class SettingsError(ValueError):
    """plugins.toml cannot be used; the message says where and why."""


def load_settings(
    path: str | Path | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    environment = dict(os.environ if env is None else env)
    chosen = path or environment.get("HUIKUAN_PLUGINS")
    file = Path(chosen) if chosen else Path("plugins.toml")
    if not file.exists():
        if chosen:
            raise SettingsError(f"{file}: no such file (HUIKUAN_PLUGINS)")
        return Settings(sections={}, env=environment)
    try:
        sections = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise SettingsError(f"{file}: {error}") from None
    _check_share(file, sections.get("escalation"), "promise_min_cover")
    _check_promise_review(file, sections.get("commitments"))
    _check_require_reason(file, sections.get("audit"))
    _check_pauses(file, sections.get("pauses"))
    _check_handoff_to(file, sections.get("escalation"))
    _check_interest(file, sections)
    return Settings(sections=sections, env=environment)


def _check_interest(file: Path, sections: Mapping[str, Any]) -> None:
    """``[interest]``: every rate setting a rate, ``settle`` an order huikuan knows; said
    at start rather than by the first cycle that asks."""
    from huikuan.plugins.interest import InterestSettingError, rate_schedule, settle_order

    settings = Settings(sections=sections)
    try:
        rate_schedule(settings)
        settle_order(settings)
    except InterestSettingError as error:
        raise SettingsError(f"{file}: {error}") from None


def _check_share(file: Path, section: Any, key: str) -> None:
    """A share of an amount, as a decimal string from 0 to 1: a clear error at start
    rather than a cycle that fails on every account."""
    if not isinstance(section, Mapping) or key not in section:
        return
    value = section[key]
    try:
        share = Decimal(value) if isinstance(value, str) else None
    except InvalidOperation:
        share = None
    if share is None or not share.is_finite() or not Decimal(0) <= share <= Decimal(1):
        msg = (f"{file}: [escalation] {key} must be a decimal string from \"0\" to \"1\" "
               f"(got {value!r})")
        raise SettingsError(msg)


def _check_promise_review(file: Path, section: Any) -> None:
    """``[commitments] max_promise_days`` (whole days, at least 1) and ``beyond_max``
    (``"flag"`` or ``"refuse"``)."""
    if not isinstance(section, Mapping):
        return
    days = section.get("max_promise_days", 60)
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        msg = (f"{file}: [commitments] max_promise_days must be a whole number of days, "
               f"at least 1 (got {days!r})")
        raise SettingsError(msg)
    beyond = section.get("beyond_max", "flag")
    if beyond not in ("flag", "refuse"):
        msg = f'{file}: [commitments] beyond_max must be "flag" or "refuse" (got {beyond!r})'
        raise SettingsError(msg)


def _check_pauses(file: Path, section: Any) -> None:
    """``[pauses] collector_max_days``: whole days, at least 1."""
    if not isinstance(section, Mapping):
        return
    days = section.get("collector_max_days", 30)
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        msg = (f"{file}: [pauses] collector_max_days must be a whole number of days, "
               f"at least 1 (got {days!r})")
        raise SettingsError(msg)


def _check_handoff_to(file: Path, section: Any) -> None:
    """``handoff_to`` of an escalation step names a party a case can be handed to."""
    if not isinstance(section, Mapping):
        return
    ladders = section.get("ladders", {})
    steps = list(section.get("steps", []))
    if isinstance(ladders, Mapping):
        steps += [s for ladder in ladders.values() if isinstance(ladder, Mapping)
                  for s in ladder.get("steps", [])]
    for step in steps:
        if isinstance(step, Mapping) and step.get("handoff_to", "agency") not in HANDOFF_TO:
            msg = (f"{file}: [[escalation.steps]] handoff_to is one of "
                   f"{', '.join(HANDOFF_TO)} (got {step['handoff_to']!r})")
            raise SettingsError(msg)
        if isinstance(step, Mapping) and "fee" in step:
            _check_fee(file, step["fee"])


def _check_fee(file: Path, fee: Any) -> None:
    """A step's ``fee`` is an amount in plain decimal notation, zero or more (a string:
    a TOML float would carry binary noise into money)."""
    try:
        if not isinstance(fee, str):
            raise ValueError("write it as a string, e.g. \"50.00\"")
        if plain_decimal(fee) < 0:
            raise ValueError("it is below zero")
    except ValueError as error:
        msg = f"{file}: [[escalation.steps]] fee {fee!r} is not an amount: {error}"
        raise SettingsError(msg) from None


def reason_kinds() -> frozenset[str]:
    """The kinds of fact ``[audit] require_reason`` may name: every fact's ``KIND``
    (``write_off``, ``pause``, ``handoff``…) and ``customer_change``."""
    from huikuan.core.account import Account

    kinds = {getattr(value, "KIND", "") for value in vars(Account).values()
             if isinstance(value, type)}
    return frozenset(kinds - {""})


def required_reasons(settings: Settings) -> frozenset[str]:
    """``[audit] require_reason``: the kinds of fact recorded only with a reason."""
    return frozenset(settings.section("audit").get("require_reason", ()))


def _check_require_reason(file: Path, section: Any) -> None:
    """``[audit] require_reason``: a list of kinds of fact, each one huikuan records."""
    if not isinstance(section, Mapping) or "require_reason" not in section:
        return
    value = section["require_reason"]
    known = reason_kinds()
    if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
        raise SettingsError(f"{file}: [audit] require_reason is a list of kinds of fact "
                            f"(got {value!r})")
    unknown = sorted(set(value) - known)
    if unknown:
        raise SettingsError(f"{file}: [audit] require_reason names {', '.join(unknown)}, "
                            f"not kinds of fact; the kinds are {', '.join(sorted(known))}")
