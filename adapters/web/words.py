"""The workspace's words in zh-CN and en (chosen per person: ``huikuan users create
--language``). The data's own words (stages, classes, actions) are translated here too."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "sign_in": "登录", "sign_out": "退出", "name": "用户名", "password": "密码",
        "bad_sign_in": "用户名或密码不对。", "held": "失败次数过多，请十五分钟后再试。",
        "worklist": "今日工作", "customers": "客户", "portfolio": "应收总览",
        "customer": "客户", "priority": "优先级", "overdue": "逾期金额", "stage": "阶段",
        "action": "建议动作", "why": "原因", "collector": "催收员", "all": "全部",
        "filter": "筛选", "search": "搜索", "outstanding": "未收金额", "disputed": "争议金额",
        "interest": "逾期利息", "fees": "催收费用", "hold": "停止供货", "class": "分类",
        "risk": "风险", "yes": "是", "no": "否", "invoices": "发票", "invoice": "发票号",
        "due": "到期日", "open": "未付金额", "days": "逾期天数", "timeline": "专案档案",
        "messages": "函件与消息", "letter": "函件 PDF", "on": "日期", "event": "事项",
        "by": "经办", "reason": "理由", "log_contact": "记录联系", "channel": "方式",
        "direction": "方向", "outcome": "结果", "note": "备注", "promise": "记录承诺",
        "amount": "金额", "due_on": "承诺付款日", "dispute": "登记争议",
        "pause": "暂缓催收", "from_on": "自", "until_on": "至", "signal": "危险信号",
        "reassign": "转交催收员", "save": "保存", "saved": "已保存。", "next": "下一页",
        "aging": "账龄", "by_collector": "按催收员", "kpis": "关键指标", "from": "自",
        "to": "至", "show": "显示", "holds": "停止供货的客户",
        "limitations": "九十天内到期的诉讼时效",
        "deadline": "届满日", "expired": "已届满", "total": "合计", "currency": "币种",
        "none": "无", "pauses": "暂缓中", "cases": "移交案件", "refused": "未能保存：",
        "status": "状态", "kept": "承诺兑现率 %", "by_stage": "各阶段回款",
        "cost_ratio": "催收成本率", "recovered": "回款", "accounts": "客户数",
        "contacts": "联系次数", "promises": "承诺兑现/作出", "cost": "催收成本",
        "ask_kpis": "选择期间并点击“显示”计算关键指标。",
    },
    "en": {
        "sign_in": "Sign in", "sign_out": "Sign out", "name": "User name",
        "password": "Password", "bad_sign_in": "Wrong user name or password.",
        "held": "Too many failed attempts; try again in fifteen minutes.",
        "worklist": "Worklist", "customers": "Customers", "portfolio": "Portfolio",
        "customer": "Customer", "priority": "Priority", "overdue": "Overdue",
        "stage": "Stage", "action": "Suggested action", "why": "Why",
        "collector": "Collector", "all": "All", "filter": "Filter", "search": "Search",
        "outstanding": "Outstanding", "disputed": "Disputed", "interest": "Interest",
        "fees": "Fees", "hold": "Supply hold", "class": "Class", "risk": "Risk",
        "yes": "yes", "no": "no", "invoices": "Invoices", "invoice": "Invoice",
        "due": "Due", "open": "Open", "days": "Days overdue", "timeline": "Case file",
        "messages": "Letters and messages", "letter": "Letter PDF", "on": "Date",
        "event": "Event", "by": "By", "reason": "Reason", "log_contact": "Log a contact",
        "channel": "Channel", "direction": "Direction", "outcome": "Outcome",
        "note": "Note", "promise": "Record a promise", "amount": "Amount",
        "due_on": "Promised for", "dispute": "Raise a dispute", "pause": "Stop dunning",
        "from_on": "From", "until_on": "Until", "signal": "Danger sign",
        "reassign": "Reassign collector", "save": "Save", "saved": "Saved.",
        "next": "Next page", "aging": "Aging", "by_collector": "By collector",
        "kpis": "KPIs", "from": "From", "to": "To", "show": "Show",
        "holds": "Customers on supply hold",
        "limitations": "Limitation periods ending within 90 days", "deadline": "Deadline",
        "expired": "expired", "total": "Total", "currency": "Currency", "none": "none",
        "pauses": "Dunning stops", "cases": "Cases handed off", "refused": "Not saved: ",
        "status": "Status", "kept": "Promises kept %", "by_stage": "Received by stage",
        "cost_ratio": "Cost ÷ received", "recovered": "Received", "accounts": "Accounts",
        "contacts": "Contacts", "promises": "Promises kept / made", "cost": "Cost",
        "ask_kpis": "Choose a period and press Show to compute the KPIs.",
    },
}

TERMS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "none": "未催收", "reminded": "已提醒", "notice": "逾期通知", "warning": "警告函",
        "hold": "停止供货", "lawyer_letter": "律师函", "handoff": "移交",
        "not_due": "未到期", "in_collection": "催收款", "doubtful": "准呆款", "bad": "呆款",
        "dead": "死款", "phone": "电话", "email": "邮件", "visit": "拜访", "sms": "短信",
        "letter": "信函", "outbound": "去电/去函", "inbound": "来电/来函",
        "reached": "已联系上", "no_answer": "无人接听", "promised": "承诺付款",
        "refused": "拒绝", "disputed": "提出异议", "wrong_number": "号码错误",
    },
    "en": {},
}


def words(language: str) -> dict[str, str]:
    return WORDS.get(language, WORDS["zh-CN"])


def term(language: str, word: str | None) -> str:
    """The data's own word (a stage, a class…) in the person's language."""
    if word is None:
        return ""
    return TERMS.get(language, {}).get(word, word.replace("_", " "))
