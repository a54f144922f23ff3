"""Classes of receivable by days past due (货款分类).

    [classes]
    in_collection_from = 1     # 催收款
    doubtful_from = 91         # 准呆款
    bad_from = 181             # 呆款
    dead_from = 366            # 死款; an invoice written off in full is dead too

Each invoice's schedule (``huikuan_class_schedule``) is decided when it is recorded and
whenever its facts change: the day it reaches each threshold, and ``dead`` from the day a
write-off settles it. A write-off of a part changes nothing: what is still open keeps
the class its age gives it. The cycle asks ``huikuan_classify`` for its own date by the
same rule.
"""

from __future__ import annotations

from datetime import date, timedelta

from huikuan.core.plugin import (
    AccountView,
    ClassSchedule,
    ClassStep,
    InvoiceView,
    ReceivableClass,
    Settings,
    hookimpl,
)

# The day past due from which each class starts, worst first.
DEFAULT_FROM: tuple[tuple[ReceivableClass, int], ...] = (
    ("dead", 366), ("bad", 181), ("doubtful", 91), ("in_collection", 1))


@hookimpl(trylast=True)
def huikuan_classify(
    invoice: InvoiceView, account: AccountView, as_of: date, settings: Settings
) -> ReceivableClass:
    if invoice.written_off_in_full is not None:
        return "dead"
    return _by_days((as_of - invoice.due_on).days, _thresholds(settings))


@hookimpl(trylast=True)
def huikuan_class_schedule(invoice: InvoiceView, settings: Settings) -> ClassSchedule:
    thresholds = _thresholds(settings)
    steps: list[ClassStep] = []
    for from_day in sorted({from_day for _, from_day in thresholds}):
        name = _by_days(from_day, thresholds)
        if name != (steps[-1].receivable_class if steps else "not_due"):
            steps.append(ClassStep(invoice.due_on + timedelta(days=from_day), name))
    settled = invoice.written_off_in_full
    if settled is not None:
        steps = [s for s in steps if s.from_on < settled] + [ClassStep(settled, "dead")]
    return ClassSchedule(tuple(steps), based_on={
        "due_on": invoice.due_on.isoformat(),
        "from_days": {name: from_day for name, from_day in thresholds},
        "written_off_in_full": settled.isoformat() if settled else None})


def _by_days(days: int, thresholds: list[tuple[ReceivableClass, int]]) -> ReceivableClass:
    for name, from_day in thresholds:
        if days >= from_day:
            return name
    return "not_due"


def _thresholds(settings: Settings) -> list[tuple[ReceivableClass, int]]:
    section = settings.section("classes")
    return [(name, int(section.get(f"{name}_from", default))) for name, default in DEFAULT_FROM]


@hookimpl
def huikuan_next_review(account: AccountView, as_of: date, settings: Settings) -> date | None:
    # An open invoice changes class on the day it reaches the next threshold (the cycle
    # records it as ClassChanged; the views have it from the schedule already).
    days = [invoice.due_on + timedelta(days=from_day)
            for invoice in account.open_invoices()
            for _, from_day in _thresholds(settings)]
    return min((d for d in days if d > as_of), default=None)
