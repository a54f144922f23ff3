"""Classes of receivable by days past due (货款分类).

    [classes]
    in_collection_from = 1     # 催收款
    doubtful_from = 91         # 准呆款
    bad_from = 181             # 呆款
    dead_from = 366            # 死款; a written-off invoice is dead too
"""

from __future__ import annotations

from datetime import date

from core.plugin import AccountView, InvoiceView, Settings, hookimpl


@hookimpl(trylast=True)
def huikuan_classify(
    invoice: InvoiceView, account: AccountView, as_of: date, settings: Settings
) -> str:
    section = settings.section("classes")
    if invoice.written_off > 0:
        return "dead"
    days = (as_of - invoice.due_on).days
    for name, default in (("dead", 366), ("bad", 181), ("doubtful", 91),
                          ("in_collection", 1)):
        if days >= int(section.get(f"{name}_from", default)):
            return name
    return "not_due"
