"""A postal address (邮寄地址) as a letter prints it, in the letter's language.

The address is kept in parts (``line1``, ``line2``, ``city``, ``province``,
``postal_code``, ``country``; see core.commands.PostalAddress) so that each language
can print it in its own order: Chinese big to small on one line (province, city,
street) with the postal code on its own (邮编), English street first, then city,
province and postal code, then the country.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def address_lines(address: Mapping[str, Any] | None, language: str = "zh-CN") -> list[str]:
    """The lines of ``address`` as printed on a letter in ``language`` (zh-CN or en);
    none for no address. A country is printed only when given (``CN`` never, in
    Chinese)."""
    if not address:
        return []

    def part(name: str) -> str:
        return str(address.get(name) or "").strip()

    line1, line2, city, province = part("line1"), part("line2"), part("city"), part("province")
    postal_code, country = part("postal_code"), part("country")
    if language == "zh-CN":
        # A municipality is its own province (上海市上海市…): printed once.
        region = province if province == city else province + city
        lines = [region + line1 if not line1.startswith(region) else line1]
        lines += [line2] if line2 else []
        lines += [f"邮编 {postal_code}"] if postal_code else []
        lines += [country] if country and country != "CN" else []
        return lines
    locality = ", ".join(p for p in (city, province) if p)
    locality = " ".join(p for p in (locality, postal_code) if p)
    return [p for p in (line1, line2, locality, country) if p]
