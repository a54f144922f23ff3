"""The customer account: one event-sourced aggregate per customer, its code by concern.

- records: the small records the account keeps, the cycle's vocabularies, the ids
- events: the event base classes (every event, a fact, a decision)
- state: the account's state, idempotency, shared checks and queries
- receivables, payments, disputes, casefile, pauses, cases, decisions, delivery: one
  concern each, its events and the commands that record them
- aggregate: ``Account``, the concerns combined, with registration and replay
"""

from huikuan.core.account.aggregate import Account
from huikuan.core.account.records import (
    CLASSES,
    GRADES,
    RECORDS,
    STAGES,
    ContactRecord,
    CreditNote,
    Dispute,
    Invoice,
    Message,
    Payment,
    PaymentPlan,
    Promise,
    account_id,
    derived_id,
)

__all__ = [
    "CLASSES",
    "GRADES",
    "RECORDS",
    "STAGES",
    "Account",
    "ContactRecord",
    "CreditNote",
    "Dispute",
    "Invoice",
    "Message",
    "Payment",
    "PaymentPlan",
    "Promise",
    "account_id",
    "derived_id",
]
