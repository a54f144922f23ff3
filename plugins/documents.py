"""Letters and statements printed as PDF, on the company's letterhead (always on; answers last).

fpdf2 lays the page out and embeds a subset of Noto Sans SC (OFL, from the
``pylopdf-fonts-zh-cn`` wheel), so Chinese prints on a machine with no system fonts
and the file reads the same anywhere (a PDF that names a font without embedding it
shows empty boxes where the reader has none). Every figure comes decided in the
:class:`~huikuan.core.documents.Letter` or :class:`~huikuan.core.documents.Statement`;
here are only the words around them, in zh-CN and en.

A statement of account is issued and e-mailed every few months to each customer with
money open, when ``[statements] every_months`` says so (the seeds: every three or six
months; 0, the default, issues none)::

    [statements]
    every_months = 3

The letterhead is ``[company]`` in plugins.toml::

    [company]
    name = "上海某某贸易有限公司"
    address = "上海市浦东新区某某路 1 号"
    phone = "+86 21 5555 0000"
    email = "ar@example.com"
    bank_account = "招商银行上海分行 户名：上海某某贸易有限公司 账号：1219 0000 0000 0000"
    signatory = "张三"
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos
from fpdf.fonts import FontFace

from huikuan.core.documents import Company, Letter, Statement
from huikuan.core.plugin import AccountView, Settings, hookimpl

WORDS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "date": "日期", "ref": "编号", "draft": "草稿（尚未发出）", "to": "致",
        "details": "欠款明细", "invoice": "发票号", "issued": "开票日期", "due": "到期日",
        "open": "未付金额", "disputed": "争议金额", "demanded": "催缴金额",
        "interest": "逾期利息", "principal": "催缴本金合计", "fees": "催收费用",
        "total": "合计应付", "deadline": "付款期限", "pay_to": "请汇至",
        "reserve": "本函不构成对我司任何权利的放弃。我司保留依法追究贵司违约责任、"
                   "主张逾期利息、催收费用及其他一切权利。",
        "seal": "（盖章）", "signatory": "授权代表", "signed": "签字",
        "statement": "对账单", "customer": "客户", "period": "期间", "currency": "币种",
        "opening": "期初余额", "closing": "期末余额", "on": "日期", "what": "摘要",
        "amount": "金额", "balance": "余额", "open_items": "未清项目", "days": "逾期天数",
        "class": "分类", "credit": "待用预收款",
        "slip": "对账函（请核对后签字盖章寄回）",
        "slip_text": "致 {company}：经核对，截至 {as_of}，我司尚欠贵司 {closing} {currency}。",
        "slip_ok": "□ 以上金额正确",
        "slip_diff": "□ 以上金额不符，差异如下（发票号、金额、说明）：",
        "slip_sign": "客户（盖章）：____________    经办人签字：____________    日期：____________",
    },
    "en": {
        "date": "Date", "ref": "Reference", "draft": "DRAFT (not sent)", "to": "To",
        "details": "Amounts owed", "invoice": "Invoice", "issued": "Issued", "due": "Due",
        "open": "Open", "disputed": "Disputed", "demanded": "Demanded",
        "interest": "Interest", "principal": "Principal demanded", "fees": "Collection fees",
        "total": "Total payable", "deadline": "Pay by", "pay_to": "Pay to",
        "reserve": "This letter waives none of our rights. We reserve every right to hold you "
                   "liable for the breach and to claim late interest, collection costs and "
                   "every other remedy the law allows.",
        "seal": "(company seal)", "signatory": "Authorised signatory", "signed": "Signature",
        "statement": "Statement of account", "customer": "Customer", "period": "Period",
        "currency": "Currency", "opening": "Opening balance", "closing": "Closing balance",
        "on": "Date", "what": "Entry", "amount": "Amount", "balance": "Balance",
        "open_items": "Open items", "days": "Days overdue", "class": "Class",
        "credit": "Unapplied credit",
        "slip": "Confirmation (please check, sign, seal and return)",
        "slip_text": "To {company}: we confirm that on {as_of} we owed you "
                     "{closing} {currency}.",
        "slip_ok": "[ ] The amount above is correct",
        "slip_diff": "[ ] The amount is not correct; the differences (invoice, amount, note):",
        "slip_sign": "Customer (seal): ____________   Signed by: ____________   "
                     "Date: ____________",
    },
}

CONSEQUENCES: dict[str, dict[str, str]] = {
    "zh-CN": {
        "notice": "逾期未付，我司将发出正式警告函，并可能暂停供货。",
        "warning": "届时仍未付款，我司将暂停向贵司供货，并委托律师追讨。",
        "lawyer_letter": "逾期不付，将依法提起诉讼或仲裁，并申请财产保全，"
                         "由此产生的费用由贵司承担。",
    },
    "en": {
        "notice": "If it remains unpaid we will send a formal warning and may suspend "
                  "deliveries.",
        "warning": "Otherwise we will suspend all deliveries to you and instruct our "
                   "lawyers.",
        "lawyer_letter": "Otherwise we will sue or file for arbitration and apply for the "
                         "preservation of your assets, at your cost.",
    },
}

CLASSES: dict[str, dict[str, str]] = {
    "zh-CN": {"not_due": "未到期", "in_collection": "催收款", "doubtful": "准呆款",
              "bad": "呆款", "dead": "死款"},
    "en": {"not_due": "not due", "in_collection": "in collection", "doubtful": "doubtful",
           "bad": "bad", "dead": "dead"},
}

KINDS: dict[str, dict[str, str]] = {
    "zh-CN": {"invoice": "发票", "payment": "收款", "payment_bounced": "收款退票",
              "credit_note": "折让", "dispute_credited": "争议核减", "write_off": "核销",
              "recovery": "核销后收回", "charges_settled": "收款冲抵费用及利息"},
    "en": {"invoice": "Invoice", "payment": "Payment", "payment_bounced": "Payment bounced",
           "credit_note": "Credit note", "dispute_credited": "Dispute credited",
           "write_off": "Written off", "recovery": "Recovered after write-off",
           "charges_settled": "Payment applied to fees and interest"},
}


@cache
def _full_font() -> str:
    import pylopdf_fonts_zh_cn as noto

    return str(noto.sans_path())


def _common() -> set[int]:
    """ASCII, Latin-1, general and CJK punctuation, full-width forms and the 7,445
    characters of GB 2312: what nearly every letter is written in."""
    found = {*range(0x20, 0x7F), *range(0xA0, 0x100), *range(0x2000, 0x2070),
             *range(0x3000, 0x3040), *range(0xFF00, 0xFFF0), 0x25A1, 0x2013, 0x2014}
    for first in range(0xA1, 0xF8):
        for second in range(0xA1, 0xFF):
            try:
                found.add(ord(bytes((first, second)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return found


@cache
def _small_font() -> tuple[str, frozenset[int]] | None:
    """The font cut down to :func:`_common`'s characters, made once (about 5 s) and kept
    in ``HUIKUAN_FONT_CACHE`` (default ``~/.cache/huikuan/fonts``): fpdf2 parses and
    subsets the font it is given for every document, and on the small font a letter
    prints in about 170 ms rather than 400 ms. None when the folder cannot be written
    (the full font serves)."""
    import os
    from pathlib import Path

    from fontTools import subset
    from fontTools.ttLib import TTFont

    folder = Path(os.environ.get("HUIKUAN_FONT_CACHE")
                  or Path.home() / ".cache" / "huikuan" / "fonts")
    full = _full_font()
    small = folder / f"gb2312-{Path(full).name}"
    try:
        if not small.exists():
            folder.mkdir(parents=True, exist_ok=True)
            font = TTFont(full)
            cutter = subset.Subsetter(subset.Options())
            cutter.populate(unicodes=_common())
            cutter.subset(font)
            partial = small.with_suffix(f".{os.getpid()}.part")
            font.save(partial)
            partial.replace(small)  # whole or not at all, if two processes race
        font = TTFont(small, lazy=True)
        try:
            covered = frozenset(font.getBestCmap())
        finally:
            font.close()
    except OSError:
        return None
    return str(small), covered


def _font(texts: Sequence[str]) -> str:
    """The small font when it holds every character of ``texts``, else the full one (a
    name in a rare character still prints)."""
    small = _small_font()
    used = {ord(ch) for text in texts for ch in text if ch >= " "}  # a line break is no glyph
    if small is not None and used <= small[1]:
        return small[0]
    return _full_font()


def _language(language: str) -> str:
    return language if language in WORDS else "zh-CN"


class _Page(FPDF):
    def __init__(self, texts: Sequence[str], language: str) -> None:
        super().__init__(format="A4")
        # Chinese breaks a line between any two characters, not only at spaces (a date
        # followed by a long sentence would leave the date alone on a line).
        self.wrap = WrapMode.CHAR if language == "zh-CN" else WrapMode.WORD
        # One face, Noto Sans SC: each font a document uses costs its parse and subset.
        self.add_font("sans", fname=_font(texts))
        self.set_margins(20, 18, 20)
        self.set_auto_page_break(auto=True, margin=18)
        self.add_page()

    def line_of(self, text: str, *, size: float = 10, font: str = "sans",
                align: str = "L", height: float = 6) -> None:
        self.set_font(font, size=size)
        self.multi_cell(0, height, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT,
                        wrapmode=self.wrap)

    def letterhead(self, company: Company) -> None:
        if company.name:
            self.line_of(company.name, size=16, font="sans", align="C", height=9)
        contact = "  ·  ".join(x for x in (company.address, company.phone, company.email) if x)
        if contact:
            self.line_of(contact, size=8.5, align="C", height=5)
        self.set_draw_color(60, 60, 60)
        self.line(self.l_margin, self.get_y() + 1, self.w - self.r_margin, self.get_y() + 1)
        self.ln(5)

    def grid(self, head: Sequence[str], rows: Sequence[Sequence[str]],
             widths: Sequence[float], right_from: int) -> None:
        self.set_font("sans", size=8.5)
        align = tuple("LEFT" if n < right_from else "RIGHT" for n in range(len(head)))
        with self.table(col_widths=tuple(widths), text_align=align, line_height=5.5,
                        first_row_as_headings=True,
                        headings_style=FontFace(emphasis="", fill_color=(232, 232, 232))
                        ) as table:
            for row in (head, *rows):
                cells = table.row()
                for value in row:
                    cells.cell(value)
        self.ln(3)


def _money(amount: Decimal) -> str:
    return str(amount)


def every_months(settings: Settings) -> int:
    return int(settings.section("statements").get("every_months", 0))


def _months_later(day: date, months: int) -> date:
    """The same day ``months`` later (earlier when negative), or that month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


@hookimpl(trylast=True)
def huikuan_statement_due(account: AccountView, as_of: date,
                          settings: Settings) -> date | None:
    months = every_months(settings)
    if months <= 0 or account.outstanding <= 0:
        return None
    last = max(account.statements_issued, default=None)
    if last is not None and as_of < _months_later(last, months):
        return None
    # The period runs on from the last statement, or covers the months asked for.
    start = last if last is not None else _months_later(as_of, -months)
    return start + timedelta(days=1)


@hookimpl(trylast=True)
def huikuan_next_review(account: AccountView, as_of: date, settings: Settings) -> date | None:
    # The day the next periodic statement falls due, for an account with money open.
    months = every_months(settings)
    if months <= 0 or account.outstanding <= 0:
        return None
    last = max(account.statements_issued, default=None)
    return max(as_of + timedelta(days=1),
               _months_later(last, months)) if last is not None else as_of + timedelta(days=1)


@hookimpl(trylast=True)
def huikuan_render_letter(letter: Letter, settings: Settings) -> bytes | None:
    words = WORDS[_language(letter.language)]
    page = _Page([letter.subject, letter.body, letter.customer_name, *letter.address,
                  *vars(letter.company).values(), *words.values(),
                  *CONSEQUENCES[_language(letter.language)].values(),
                  *(x.invoice_id for x in letter.lines)], _language(letter.language))
    page.set_title(letter.subject)
    page.letterhead(letter.company)
    if not letter.sent:
        page.line_of(words["draft"], size=9, align="R")
    page.line_of(f"{words['date']}: {letter.dated}    {words['ref']}: {letter.message_id}",
                 size=9, align="R")
    page.ln(2)
    page.line_of(f"{words['to']}: {letter.customer_name}", size=11)
    for line in letter.address:
        page.line_of(line, size=10)
    page.ln(4)
    page.line_of(letter.subject, size=14, font="sans", align="C", height=8)
    page.ln(2)
    page.line_of(letter.body.strip(), size=10, height=6)
    page.ln(2)
    page.line_of(words["details"], size=11, font="sans")
    page.grid([words["invoice"], words["issued"], words["due"], words["open"],
               words["disputed"], words["demanded"], words["interest"]],
              [[x.invoice_id, str(x.issued_on), str(x.due_on), _money(x.open_amount),
                _money(x.disputed), _money(x.demanded), _money(x.interest)]
               for x in letter.lines],
              widths=(34, 22, 22, 24, 22, 24, 22), right_from=3)
    total = letter.demanded + letter.interest + letter.fees
    for label, amount in ((words["principal"], letter.demanded),
                          (words["interest"], letter.interest), (words["fees"], letter.fees),
                          (words["total"], total)):
        page.line_of(f"{label}: {_money(amount)} {letter.currency}", size=10, align="R")
    page.ln(2)
    if letter.deadline is not None:
        page.line_of(f"{words['deadline']}: {letter.deadline}", size=10)
    consequence = CONSEQUENCES[_language(letter.language)].get(letter.kind)
    if consequence and consequence not in letter.body:
        page.line_of(consequence, size=10)
    if letter.company.bank_account:
        page.line_of(f"{words['pay_to']}: {letter.company.bank_account}", size=10)
    page.ln(2)
    page.line_of(words["reserve"], size=9)
    _signature(page, letter.company, str(letter.dated), words)
    return bytes(page.output())


def _signature(page: _Page, company: Company, dated: str, words: dict[str, str]) -> None:
    page.ln(8)
    page.line_of(f"{company.name}  {words['seal']}", size=10, align="R")
    page.line_of(f"{words['signatory']}: {company.signatory or '____________'}    "
                 f"{words['signed']}: ____________", size=10, align="R")
    page.line_of(dated, size=10, align="R")


@hookimpl(trylast=True)
def huikuan_render_statement(statement: Statement, settings: Settings) -> bytes | None:
    language = _language(statement.language)
    words, kinds = WORDS[language], KINDS[language]
    page = _Page([statement.customer_name, statement.customer_id, *statement.address,
                  *vars(statement.company).values(), *words.values(), *kinds.values(),
                  *CLASSES[language].values(), *(x.ref for x in statement.lines),
                  *(o.invoice_id for o in statement.open_items)], language)
    page.set_title(f"{words['statement']} {statement.customer_id} {statement.as_of}")
    page.letterhead(statement.company)
    page.line_of(words["statement"], size=15, font="sans", align="C", height=9)
    page.line_of(f"{words['customer']}: {statement.customer_name} ({statement.customer_id})",
                 size=10)
    for line in statement.address:
        page.line_of(line, size=9)
    page.line_of(f"{words['period']}: {statement.from_on} – {statement.as_of}    "
                 f"{words['currency']}: {statement.currency}", size=10)
    page.ln(2)
    page.line_of(f"{words['opening']}: {_money(statement.opening_balance)}", size=10)
    page.grid([words["on"], words["what"], words["ref"], words["amount"], words["balance"]],
              [[str(x.on), kinds.get(x.kind, x.kind), x.ref, _money(x.amount),
                _money(x.balance)] for x in statement.lines],
              widths=(24, 44, 46, 28, 28), right_from=3)
    page.line_of(f"{words['closing']}: {_money(statement.closing_balance)} "
                 f"{statement.currency}", size=11, font="sans")
    if statement.unapplied_credit:
        page.line_of(f"{words['credit']}: {_money(statement.unapplied_credit)}", size=9)
    page.ln(2)
    page.line_of(words["open_items"], size=11, font="sans")
    page.grid([words["invoice"], words["due"], words["open"], words["disputed"],
               words["days"], words["class"], words["interest"]],
              [[o.invoice_id, str(o.due_on), _money(o.open_amount), _money(o.disputed),
                str(o.days_overdue), CLASSES[language].get(o.class_, o.class_),
                _money(o.interest)]
               for o in statement.open_items],
              widths=(36, 22, 24, 22, 20, 24, 22), right_from=2)
    page.line_of(f"{words['interest']}: {_money(statement.interest)}    "
                 f"{words['fees']}: {_money(statement.fees)}", size=9)
    _slip(page, statement, words)
    return bytes(page.output())


def _slip(page: _Page, statement: Statement, words: dict[str, Any]) -> None:
    """The confirmation (对账函) to cut off, sign, seal and return."""
    page.ln(6)
    page.set_draw_color(120, 120, 120)
    page.set_dash_pattern(dash=2, gap=2)
    page.line(page.l_margin, page.get_y(), page.w - page.r_margin, page.get_y())
    page.set_dash_pattern()
    page.ln(3)
    page.line_of(words["slip"], size=11, font="sans", align="C")
    page.line_of(words["slip_text"].format(
        company=statement.company.name or "—", as_of=statement.as_of,
        closing=_money(statement.closing_balance), currency=statement.currency), size=10)
    page.line_of(words["slip_ok"], size=10)
    page.line_of(words["slip_diff"], size=10)
    page.ln(12)
    page.line_of(words["slip_sign"], size=10)
