"""Message texts (plugins.templates): the exact amount, the invoices, the deadline."""

from datetime import date

from huikuan.core.testing import account_view, invoice_view, message_draft, settings
from huikuan.plugins.templates import huikuan_render_message

INVOICES = (invoice_view(invoice_id="I-7", amount="1250.00", due_on=date(2026, 1, 31)),)


def test_a_notice_in_english_states_the_amount_the_invoices_and_the_deadline():
    draft = message_draft(language="en", invoices=INVOICES, deadline=date(2026, 2, 8))
    text = huikuan_render_message(draft, account_view(name="Acme Ltd"), settings())
    assert text.subject == "Overdue notice: 1250.00 CNY"
    assert "Dear Acme Ltd," in text.body
    assert "Invoice I-7" in text.body and "2026-02-08" in text.body


def test_an_unknown_language_falls_back_to_chinese():
    draft = message_draft(language="fr", invoices=INVOICES, deadline=date(2026, 2, 8))
    text = huikuan_render_message(draft, account_view(), settings())
    assert text.subject == "逾期付款通知：1250.00 CNY"


def test_your_own_templates_are_looked_up_first(tmp_path):
    (tmp_path / "notice.en.j2").write_text("Pay {{ amount }}\nPlease.\n", encoding="utf-8")
    draft = message_draft(language="en", invoices=INVOICES)
    text = huikuan_render_message(draft, account_view(),
                                  settings(templates={"directory": str(tmp_path)}))
    assert (text.subject, text.body) == ("Pay 1250.00", "Please.\n")
