"""Late interest rates as data (plugins.interest, plugins.lpr): dated tables, the one-year
LPR with a multiplier across a change of the rate, a rate per day, settings that are no rate."""

from datetime import date
from decimal import Decimal

import pytest

from huikuan.core.plugin import ContestedSpan
from huikuan.core.testing import account_view, invoice_view, settings
from huikuan.plugins.interest import InterestSettingError, huikuan_late_interest, rate_schedule


def charged(invoice, as_of, **interest):
    return huikuan_late_interest(invoice, account_view(), as_of,
                                 settings(interest={"enabled": True, **interest}))


def test_the_lpr_times_a_multiplier_changes_on_the_day_the_fixing_changes():
    # Due 10 October 2024. The one-year LPR was 3.35 % until 20 October, 3.10 % from
    # 21 October; a contract at 1.5 × LPR: 5.025 %, then 4.65 %.
    #   11–20 Oct: 10 days × 1,000,000.00 × 0.05025 / 365 = 1376.7123…
    #   21–31 Oct: 11 days × 1,000,000.00 × 0.04650 / 365 = 1401.3698…
    #   in all 1,000,000.00 × 1.014 / 365 = 2778.0821… → 2778.08
    big = invoice_view(amount="1000000.00", issued_on=date(2024, 9, 10),
                       due_on=date(2024, 10, 10))
    charge = charged(big, date(2024, 10, 31), benchmark="lpr_1y", multiplier="1.5")
    assert charge.amount == Decimal("2778.08")
    assert charge.annual_rate == Decimal("0.04650")
    assert charge.based_on["rates"] == [["2024-07-22", "0.05025"], ["2024-10-21", "0.04650"]]
    # The same 21 days at a flat 1.5 × 3.35 % would have been 2891.10: the change counts.
    before = charged(big, date(2024, 10, 20), benchmark="lpr_1y", multiplier="1.5")
    assert before.amount == Decimal("1376.71")


def test_the_shipped_lpr_history_from_the_reform_with_later_fixings_from_settings():
    lpr = rate_schedule(settings(interest={"benchmark": "lpr_1y"}))
    assert (lpr[0].from_on, lpr[0].annual) == (date(2019, 8, 20), Decimal("0.0425"))
    assert (lpr[-1].from_on, lpr[-1].annual) == (date(2025, 5, 20), Decimal("0.0300"))
    assert len(lpr) == 13
    extended = rate_schedule(settings(interest={
        "benchmark": "lpr_1y", "benchmark_rates": [{"from": "2026-12-22", "annual": "0.0290"}]}))
    assert (extended[-1].from_on, extended[-1].annual) == (date(2026, 12, 22), Decimal("0.0290"))


def test_a_dated_table_of_annual_rates():
    # Due 31 January 2026: 10 days at 3.65 % on 1000.00 (1.00), then 10 days at 7.30 % (2.00).
    rates = [{"from": "2026-02-11", "annual": "0.0730"}, {"from": "2020-01-01",
                                                          "annual": "0.0365"}]
    assert charged(invoice_view(), date(2026, 2, 20), rates=rates).amount == Decimal("3.00")


def test_a_rate_per_day():
    # 0.05 % a day on 1000.00 is 0.50 a day: 20 days, 10.00.
    assert charged(invoice_view(), date(2026, 2, 20), daily="0.0005").amount == Decimal("10.00")


def test_money_in_dispute_does_not_accrue_while_contested():
    # 400.00 of 1000.00 contested from 6 to 15 February (resolved on the 16th, rejected):
    # 5 days on 1000.00, 10 on 600.00, 5 on 1000.00 at 3.65 % = 0.50 + 0.60 + 0.50.
    disputed = invoice_view(contested=[ContestedSpan(amount=Decimal("400.00"),
                                                     raised_on=date(2026, 2, 6),
                                                     resolved_on=date(2026, 2, 16))])
    assert charged(disputed, date(2026, 2, 20), annual_rate="0.0365").amount == Decimal("1.60")


@pytest.mark.parametrize(("interest", "setting"), [
    ({"annual_rate": "four percent"}, "annual_rate"),
    ({"annual_rate": 0.0365}, "annual_rate"),
    ({"daily": "-0.0005"}, "daily"),
    ({"benchmark": "shibor"}, "benchmark"),
    ({"benchmark": "lpr_1y", "multiplier": "x1.5"}, "multiplier"),
    ({"rates": [{"from": "20 Aug 2019", "annual": "0.0425"}]}, "rates[0].from"),
    ({"rates": [{"from": "2019-08-20"}]}, "rates[0]"),
    ({"rates": []}, "rates"),
])
def test_a_setting_that_is_no_rate_is_refused_naming_the_setting(interest, setting):
    with pytest.raises(InterestSettingError) as refused:
        charged(invoice_view(), date(2026, 2, 20), **interest)
    assert refused.value.setting == setting
