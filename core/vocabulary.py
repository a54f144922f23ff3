"""The words huikuan records and plugins exchange, each a ``Literal`` type.

The type is the one definition: the tuple beside it (``STAGES = get_args(Stage)``) is
derived from it, in the order that matters (the escalation ladder from bottom to top,
the classes from best to worst, the grades from best to worst). Plugin authors import
them from :mod:`huikuan.core.plugin`.
"""

from __future__ import annotations

from typing import Literal, get_args

Stage = Literal["none", "reminded", "notice", "warning", "hold", "lawyer_letter", "handoff"]
"""Where an account stands on the escalation ladder (催收程序), lowest first."""

ReceivableClass = Literal["not_due", "in_collection", "doubtful", "bad", "dead"]
"""The class of an open receivable (货款分类): 未收款, 催收款, 准呆款, 呆款, 死款."""

Grade = Literal["A", "B", "C", "D", "E"]
"""A credit grade or a risk grade, ``A`` best."""

Demand = Literal["reminder", "notice", "warning", "lawyer_letter"]
"""A message that demands payment from the customer."""

Task = Literal["call_task", "visit_task", "manager_review", "handoff_review"]
"""Work for a person, queued on the worklist."""

Document = Literal["statement"]
"""A document sent to the customer that demands nothing: a statement of account (对账单),
its PDF attached."""

MessageKind = Literal[Demand, Task, Document]
"""What a queued message is: a demand to the customer, a task for a person, or a
document."""

MessageChannel = Literal["email", "sms", "letter", "worklist"]
"""How a queued message goes out (``worklist``: a task for the collector)."""

MessageStatus = Literal["pending", "held", "sent", "failed", "cancelled"]
"""Where a queued message is in the outbox."""

ContactChannel = Literal["phone", "sms", "email", "letter", "visit", "wechat"]
"""How a collector reached, or tried to reach, the customer."""

Direction = Literal["outbound", "inbound"]

ContactOutcome = Literal["reached", "no_answer", "refused", "promised", "disputed",
                         "wrong_number"]

PromiseStatus = Literal["pending", "kept", "broken"]

PlanStatus = Literal["active", "broken"]

Commitment = Literal["promise_kept", "promise_broken", "installment_missed"]
"""What the review of promises and plans found."""

Language = Literal["zh-CN", "en"]

HandoffTo = Literal["agency", "lawyer", "litigation", "arbitration", "internal_legal"]
"""Who a case is handed to (移交): a collection agency (委托催收机构), a lawyer (律师), a
suit (诉讼), an arbitration (仲裁), or the company's own legal department (法务部)."""

CaseStatus = Literal["handed_off", "accepted", "filed", "hearing", "judgment", "enforcement",
                     "settled", "closed", "returned"]
"""Where a case handed off stands: ``handed_off`` until the first update; ``returned``
gives its invoices back to the ladder."""

CostKind = Literal["postage", "phone", "travel", "agency_fee", "legal_fee", "court_fee",
                   "other"]
"""What a collection cost (催收成本) was spent on."""

GuaranteeKind = Literal["personal", "corporate", "pledge", "mortgage"]
"""A guarantee (担保): of a person (the controlling person's), of a related company, a
pledge (质押) or a mortgage (抵押)."""

STAGES: tuple[Stage, ...] = get_args(Stage)
CLASSES: tuple[ReceivableClass, ...] = get_args(ReceivableClass)
GRADES: tuple[Grade, ...] = get_args(Grade)
DEMANDS: tuple[Demand, ...] = get_args(Demand)
TASKS: tuple[Task, ...] = get_args(Task)
DOCUMENTS: tuple[Document, ...] = get_args(Document)
MESSAGE_KINDS: tuple[MessageKind, ...] = get_args(MessageKind)
MESSAGE_CHANNELS: tuple[MessageChannel, ...] = get_args(MessageChannel)
CONTACT_CHANNELS: tuple[ContactChannel, ...] = get_args(ContactChannel)
HANDOFF_TO: tuple[HandoffTo, ...] = get_args(HandoffTo)
CASE_STATUSES: tuple[CaseStatus, ...] = get_args(CaseStatus)
COST_KINDS: tuple[CostKind, ...] = get_args(CostKind)
GUARANTEE_KINDS: tuple[GuaranteeKind, ...] = get_args(GuaranteeKind)

__all__ = [
    "CASE_STATUSES", "CLASSES", "CONTACT_CHANNELS", "COST_KINDS", "DEMANDS", "DOCUMENTS",
    "GRADES", "GUARANTEE_KINDS", "HANDOFF_TO", "MESSAGE_CHANNELS", "MESSAGE_KINDS",
    "STAGES", "TASKS", "CaseStatus", "Commitment", "ContactChannel", "ContactOutcome",
    "CostKind", "Demand", "Direction", "Document", "Grade", "GuaranteeKind", "HandoffTo",
    "Language", "MessageChannel", "MessageKind", "MessageStatus", "PlanStatus",
    "PromiseStatus", "ReceivableClass", "Stage", "Task",
]
