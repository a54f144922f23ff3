"""Promises and payment plans kept, broken and missed (plugins.commitments)."""

from datetime import date

from huikuan.core.testing import account_view, payment_view, plan_view, promise_view, settings
from huikuan.plugins.commitments import huikuan_next_review, huikuan_review_commitments

PROMISE = promise_view(promise_id="PR-1", amount="1000.00", made_on=date(2026, 2, 1),
                       due_on=date(2026, 2, 15))


def outcomes(account, as_of, **tables):
    return [(o.kind, o.ref, o.installment)
            for o in huikuan_review_commitments(account, as_of, settings(**tables))]


def test_a_promise_is_broken_the_day_after_its_date_if_not_paid():
    account = account_view(promises=[PROMISE])
    assert outcomes(account, date(2026, 2, 15)) == []
    assert outcomes(account, date(2026, 2, 16)) == [("promise_broken", "PR-1", None)]


def test_a_promise_is_kept_as_soon_as_payments_since_it_cover_it():
    paid = payment_view(amount="1000.00", received_on=date(2026, 2, 10))
    account = account_view(promises=[PROMISE], payments=[paid])
    assert outcomes(account, date(2026, 2, 10)) == [("promise_kept", "PR-1", None)]


def test_grace_days_wait_before_breaking():
    account = account_view(promises=[PROMISE])
    assert outcomes(account, date(2026, 2, 18), commitments={"grace_days": 3}) == []
    assert outcomes(account, date(2026, 2, 19), commitments={"grace_days": 3}) == [
        ("promise_broken", "PR-1", None)]


def test_one_payment_keeps_one_promise_not_two():
    first = promise_view(promise_id="PR-1", amount="500.00", due_on=date(2026, 2, 15))
    second = promise_view(promise_id="PR-2", amount="500.00", due_on=date(2026, 2, 20))
    account = account_view(promises=[first, second], payments=[
        payment_view(amount="500.00", received_on=date(2026, 2, 10))])
    assert outcomes(account, date(2026, 2, 21)) == [
        ("promise_kept", "PR-1", None), ("promise_broken", "PR-2", None)]


def test_an_instalment_is_missed_when_payments_do_not_cover_the_instalments_so_far():
    plan = plan_view((date(2026, 2, 28), "500.00"), (date(2026, 3, 31), "500.00"),
                     agreed_on=date(2026, 2, 1))
    account = account_view(plans=[plan], payments=[
        payment_view(amount="500.00", received_on=date(2026, 2, 20))])
    assert outcomes(account, date(2026, 3, 1)) == []
    assert outcomes(account, date(2026, 4, 1)) == [("installment_missed", "PL-1", 2)]


def test_a_decided_promise_is_not_decided_again():
    account = account_view(promises=[promise_view(status="broken")])
    assert outcomes(account, date(2026, 3, 1)) == []


def test_the_next_review_is_the_day_after_a_promise_falls_due():
    account = account_view(promises=[PROMISE])
    assert huikuan_next_review(account, date(2026, 2, 1), settings()) == date(2026, 2, 16)


def review(promise, **tables):
    from huikuan.plugins.commitments import huikuan_review_promise

    return huikuan_review_promise(promise, account_view(), settings(**tables))


def test_a_promise_up_to_the_maximum_grace_is_accepted_as_it_is():
    sixty = promise_view(made_on=date(2026, 2, 1), due_on=date(2026, 4, 2))
    verdict = review(sixty)
    assert (verdict.accepted, verdict.concerns, verdict.reasons) == (True, (), ())


def test_a_promise_beyond_the_maximum_is_flagged_or_refused_as_the_policy_says():
    far = promise_view(promise_id="PR-9", made_on=date(2026, 2, 1), due_on=date(2026, 2, 20))
    assert review(far, commitments={"max_promise_days": 15}).concerns == (
        "promise PR-9 falls due 19 days after it was made, beyond the policy's 15 days "
        "(max_promise_days)",)
    refused = review(far, commitments={"max_promise_days": 15, "beyond_max": "refuse"})
    assert not refused.accepted and "19 days" in refused.reasons[0]
