"""plugins.toml: which plugins run and how they are set (``HUIKUAN_PLUGINS`` names the file).

Without a file every built-in plugin runs with its defaults: the contract's default
policy. A file that cannot be read or parsed is an error, never silently ignored.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

from huikuan.core.plugin import Settings


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
    return Settings(sections=sections, env=environment)
