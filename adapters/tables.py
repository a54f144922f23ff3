"""Tables for the command line that never cut a figure.

A finance tool may not print ``7870…`` for 7870.55: amounts, dates, ids and counts are
always printed whole, at any terminal width and when piped. Only columns of free text
(a worklist's reasons, an event's name) wrap, onto lines of their own cells, when the
terminal is too narrow; piped output is never wrapped (a script reads whole lines).
Widths are counted in terminal cells, so Chinese names line up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.cells import cell_len

GAP = "  "
MIN_TEXT = 20  # cells a wrapping column keeps however narrow the terminal: words stay whole


@dataclass(frozen=True)
class Column:
    """A column: ``right`` aligns figures; ``wraps`` marks free text, the only kind
    that may be folded onto more lines."""

    name: str
    right: bool = False
    wraps: bool = False


def _pad(value: str, width: int, right: bool) -> str:
    room = " " * max(width - cell_len(value), 0)
    return room + value if right else value + room


def _fold(value: str, width: int) -> list[str]:
    """``value`` in lines of at most ``width`` cells, broken at spaces where it can."""
    lines: list[str] = []
    line = ""
    for word in value.split(" "):
        candidate = f"{line} {word}" if line else word
        if cell_len(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        for char in word:  # a word longer than the column: broken between characters
            if cell_len(line + char) > width:
                lines.append(line)
                line = ""
            line += char
    lines.append(line)
    return lines


def render(columns: Sequence[Column], rows: Iterable[Sequence[object]], *,
           width: int | None, title: str | None = None) -> list[str]:
    """The table's lines. ``width`` is the terminal's, or None: no limit (piped)."""
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([cell_len(c.name), *(cell_len(r[i]) for r in cells)])
              for i, c in enumerate(columns)]
    wrapping = [i for i, c in enumerate(columns) if c.wraps]
    if width is not None and wrapping:
        fixed = sum(w for i, w in enumerate(widths) if i not in wrapping)
        room = width - fixed - len(GAP) * (len(columns) - 1)
        share = max(room // len(wrapping), MIN_TEXT)
        for i in wrapping:
            widths[i] = min(widths[i], max(share, cell_len(columns[i].name)))
    lines = [title] if title else []
    lines.append(GAP.join(_pad(c.name, widths[i], c.right)
                          for i, c in enumerate(columns)).rstrip())
    for row in cells:
        folded = [_fold(v, widths[i]) if i in wrapping else [v] for i, v in enumerate(row)]
        for n in range(max(len(f) for f in folded)):
            parts = [_pad(f[n] if n < len(f) else "", widths[i], columns[i].right)
                     for i, f in enumerate(folded)]
            lines.append(GAP.join(parts).rstrip())
    return lines
