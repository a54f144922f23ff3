"""The credit check's rule (plugins.credit): 前款不结，后货不送."""

from decimal import Decimal

from huikuan.core.testing import credit_position, settings
from huikuan.plugins.credit import huikuan_credit_decision


def decide(amount, **position):
    return huikuan_credit_decision(credit_position(**position), Decimal(amount), settings())


def test_within_the_limit_and_in_good_standing_is_allowed():
    decision = decide("500.00", exposure="2000.00", credit_limit="2500.00")
    assert (decision.allowed, decision.reasons) == (True, ())
    assert decide("1000000.00").allowed is True  # no limit set


def test_beyond_the_limit_is_refused_with_the_figures():
    decision = decide("500.01", exposure="2000.00", credit_limit="2500.00")
    assert decision.allowed is False
    assert decision.reasons == ("exposure 2000.00 + 500.01 exceeds the credit limit 2500.00",)


def test_every_reason_that_applies_is_given():
    decision = decide("10.00", exposure="100.00", credit_limit="50.00", supply_hold=True,
                      risk_grade="E")
    assert decision.reasons == ("supply is on hold until the overdue debt is paid",
                                "exposure 100.00 + 10.00 exceeds the credit limit 50.00",
                                "risk grade E")
    assert decide("1.00", risk_grade="D").allowed is True
