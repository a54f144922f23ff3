"""The one-year Loan Prime Rate (贷款市场报价利率, 1年期 LPR) since the reform of 2019-08-20.

Published by the National Interbank Funding Center on the 20th of each month (the next
working day when the 20th is not one). Only the fixings that changed the rate are listed:
each rate is in force from its date until the next. The table is known through the
fixing of 2025-05-20 (3.00 %); the rate is taken as unchanged after it until a later
fixing is added. Check the published fixings and add any later change without a release
through plugins.toml, appended to this table (a date already here is replaced):

    [interest]
    benchmark = "lpr_1y"
    multiplier = "1.5"
    benchmark_rates = [{from = "2026-12-22", annual = "0.0290"}]
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from huikuan.core.plugin import RatePeriod

KNOWN_THROUGH = date(2025, 5, 20)
"""The last fixing this table holds; later dates use it until one is added."""

LPR_1Y: tuple[RatePeriod, ...] = tuple(
    RatePeriod(from_on=date.fromisoformat(day), annual=Decimal(rate))
    for day, rate in (
        ("2019-08-20", "0.0425"),
        ("2019-09-20", "0.0420"),
        ("2019-11-20", "0.0415"),
        ("2020-02-20", "0.0405"),
        ("2020-04-20", "0.0385"),
        ("2021-12-20", "0.0380"),
        ("2022-01-20", "0.0370"),
        ("2022-08-22", "0.0365"),
        ("2023-06-20", "0.0355"),
        ("2023-08-21", "0.0345"),
        ("2024-07-22", "0.0335"),
        ("2024-10-21", "0.0310"),
        ("2025-05-20", "0.0300"),
    )
)
