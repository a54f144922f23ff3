"""Where a message goes (plugins.recipients) and when a demand is obsolete (plugins.demands)."""

from datetime import date

from huikuan.core.plugin import address_lines, hookimpl
from huikuan.core.testing import (
    account_view,
    invoice_view,
    message_request,
    message_view,
    plan_view,
    policy_host,
    promise_view,
    settings,
)
from huikuan.plugins.demands import huikuan_message_obsolete
from huikuan.plugins.recipients import huikuan_message_recipient

CONTACTS = [{"name": "王经理", "phone": "13800000000"},
            {"name": "财务", "email": "ar@customer.example", "phone": "13900000000"}]
CUSTOMER = account_view(name="华东贸易有限公司", collector="li.wei", contacts=CONTACTS)
QUEUED = date(2026, 2, 1)
NOTICE = message_view(kind="notice", channel="email", queued_on=QUEUED, invoice_ids=["I-1"])


def recipient(channel, account=CUSTOMER):
    return huikuan_message_recipient(message_request(channel=channel), account, settings())


def test_email_and_texts_go_to_the_first_contact_with_such_an_address():
    assert recipient("email") == "ar@customer.example"
    assert recipient("sms") == "13800000000"
    assert recipient("email", account_view(contacts=[{"name": "王经理"}])) is None


def test_tasks_go_to_the_collector_and_letters_to_the_customer_by_name():
    assert recipient("worklist") == "li.wei"
    assert recipient("letter") == "华东贸易有限公司"


def test_a_letter_goes_to_the_postal_address_printed_in_the_customers_language():
    address = {"line1": "浦东新区张江路123号", "line2": "5楼", "city": "上海市",
               "province": "上海市", "postal_code": "201203", "country": None}
    chinese = account_view(name="华东贸易有限公司", address=address)
    assert recipient("letter", chinese) == (
        "华东贸易有限公司\n上海市浦东新区张江路123号\n5楼\n邮编 201203")
    english = account_view(name="Huadong Trading", language="en", address={
        "line1": "1 Main St", "city": "Springfield", "province": "IL",
        "postal_code": "62701", "country": "US"})
    assert recipient("letter", english) == (
        "Huadong Trading\n1 Main St\nSpringfield, IL 62701\nUS")
    assert address_lines({"line1": "天河路1号", "city": "广州市", "province": "广东省",
                          "country": "CN"}) == ["广东省广州市天河路1号"]
    assert address_lines(None) == []


def test_a_plugin_of_yours_can_say_where_a_message_goes():
    class Legal:
        @hookimpl
        def huikuan_message_recipient(self, request):
            return "legal@customer.example" if request.kind == "lawyer_letter" else None

    host = policy_host({"legal": Legal()})
    letter = message_request(kind="lawyer_letter", channel="email")
    assert host.decide("huikuan_message_recipient", request=letter,
                       account=CUSTOMER) == "legal@customer.example"
    assert host.decide("huikuan_message_recipient", request=message_request(),
                       account=CUSTOMER) == "ar@customer.example"


def obsolete(account, message=NOTICE):
    verdict = huikuan_message_obsolete(message, account, settings())
    return verdict.reason if verdict else None


def test_a_demand_still_owed_goes_out():
    assert obsolete(account_view(invoices=[invoice_view(invoice_id="I-1")])) is None


def test_a_demand_for_money_paid_or_disputed_since_is_obsolete():
    paid = account_view(invoices=[invoice_view(invoice_id="I-1", open_amount="0.00")])
    assert obsolete(paid) == "nothing it demands is still owed undisputed"
    disputed = account_view(invoices=[invoice_view(invoice_id="I-1",
                                                   disputed_amount="1000.00")])
    assert obsolete(disputed) == "nothing it demands is still owed undisputed"


def test_a_promise_or_a_plan_since_the_demand_was_queued_makes_it_obsolete():
    owing = [invoice_view(invoice_id="I-1")]
    promised = account_view(invoices=owing, promises=[
        promise_view(made_on=QUEUED, due_on=date(2026, 2, 20))])
    assert obsolete(promised) == "the customer promised to pay by 2026-02-20"
    earlier = account_view(invoices=owing, promises=[promise_view(made_on=date(2026, 1, 20))])
    assert obsolete(earlier) is None
    planned = account_view(invoices=owing, plans=[plan_view(agreed_on=date(2026, 2, 3))])
    assert obsolete(planned) == "a payment plan was agreed"


def test_a_task_is_obsolete_like_a_demand():
    call = message_view(kind="call_task", channel="worklist", queued_on=QUEUED,
                        invoice_ids=["I-1"])
    paid = account_view(invoices=[invoice_view(invoice_id="I-1", open_amount="0.00")])
    assert obsolete(paid, call) == "nothing it demands is still owed undisputed"
