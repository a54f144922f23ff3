"""Classes of receivable on any date (货款分类), read off the schedules the policy recorded.

When an invoice is recorded, or a fact changes it, the classes plugin decides its
*schedule* (``huikuan_class_schedule``): the day it enters each class. The schedule is
recorded (``ClassScheduled``) and the views read the class for any date off it, so a
class is right on every date whether or not a cycle ran, and no view asks a plugin.

A schedule is a list of steps ``(from_on, class)`` in date order; the first is the day
it starts holding (the invoice's issue date, or for an invoice recorded before
schedules existed the day its first schedule was decided). The class on a date is that
of the last step on or before it. While money is open the schedule runs on; once
nothing is open the invoice keeps the class of the day it was settled.

Before its schedule starts, or without one, an invoice is read as the cycle classified
it (``ClassChanged``, and a version-1 write-off made it dead): that is what a store
written before schedules answered, and still answers.

A schedule decided again (a write-off that settles the invoice, a policy changed since)
holds from a date: the steps before it stay as recorded, so the classes a view gave for
earlier dates never change behind it (:func:`merged`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

Steps = tuple[tuple[date, str], ...]
"""(from date, class) in date order."""


def steps_of(recorded: Sequence[Sequence[Any]] | None) -> Steps | None:
    """The steps as an invoice keeps them ([date, class] lists), or None."""
    if recorded is None:
        return None
    return tuple((on, str(cls)) for on, cls in recorded)


def class_on(steps: Steps, day: date) -> str | None:
    """The class the steps give on ``day``; None before the first (not scheduled yet)."""
    found: str | None = None
    for on, cls in steps:
        if on > day:
            break
        found = cls
    return found


def merged(recorded: Steps | None, decided: Steps, holds_from: date) -> Steps:
    """The schedule after ``decided`` (a whole schedule, ``not_due`` before its first
    step) takes effect on ``holds_from``: the recorded steps before that day, then the
    class ``decided`` gives on it, then its later steps. Repeats are folded."""
    at = class_on(decided, holds_from) or "not_due"
    steps = [*(s for s in recorded or () if s[0] < holds_from), (holds_from, at),
             *(s for s in decided if s[0] > holds_from)]
    folded: list[tuple[date, str]] = []
    for step in steps:
        if folded and folded[-1][1] == step[1]:
            continue
        folded.append(step)
    return tuple(folded)


def class_of(steps: Steps | None, legacy: str, day: date, settled_on: date | None) -> str:
    """The class on ``day`` of an invoice with these steps (None: no schedule), settled
    on ``settled_on`` (None: money open), classified ``legacy`` by the cycle then."""
    if steps:
        found = class_on(steps, min(day, settled_on) if settled_on is not None else day)
        if found is not None:
            return found
    return legacy


# ---- for the aging of today, a schedule relative to its due date

CODE = "@"


def code_of(steps: Steps, due_on: date) -> str:
    """The steps written relative to the due date (``@not_due;1:in_collection;…``): the
    same text for every invoice under the same policy, so the open amounts of a day's due
    invoices add up on one row. Read for dates on or after the schedule's start."""
    first, *later = steps
    return CODE + ";".join([first[1], *(f"{(on - due_on).days}:{cls}" for on, cls in later)])


def class_from_code(code: str, due_on: date, day: date) -> str:
    """The class ``code`` gives an invoice due ``due_on`` on ``day`` (not before the
    schedule's start); a code without the mark is a class itself."""
    if not code.startswith(CODE):
        return code
    first, *later = code[len(CODE):].split(";")
    found = first
    for step in later:
        offset, cls = step.split(":")
        if due_on + timedelta(days=int(offset)) > day:
            break
        found = cls
    return found
