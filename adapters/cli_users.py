"""The command line's people: ``huikuan users create|list|disable|password`` (who may sign
in to the workspace at ``/app/``). Passwords are read from standard input, never from
the command line (which shows in the shell's history and the process list).

Registered on the ``huikuan`` app by importing this module (adapters.cli does).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from huikuan.adapters.cli import EXIT_NOT_FOUND, EXIT_USAGE, _huikuan, app, console, err
from huikuan.core.errors import DomainError, NotFound
from huikuan.core.users import create_user, disable_user, set_password, users

people = typer.Typer(help="People who sign in to the workspace (/app/).", no_args_is_help=True)
app.add_typer(people, name="users")


def _password() -> str:
    """The password from standard input: typed twice at a terminal, else its first line."""
    if sys.stdin.isatty():
        first = typer.prompt("password", hide_input=True)
        if typer.prompt("again", hide_input=True) != first:
            err.print("[red]the two passwords differ[/red]")
            raise typer.Exit(EXIT_USAGE)
        return str(first)
    return sys.stdin.readline().rstrip("\n")


@contextmanager
def _refused() -> Iterator[None]:
    """A refusal said in one line, with the command line's exit code for it."""
    try:
        yield
    except NotFound as error:
        err.print(f"[red]{error.message}[/red]")
        raise typer.Exit(EXIT_NOT_FOUND) from None
    except DomainError as error:
        err.print(f"[red]{error.field or 'user'}: {error.message}[/red]")
        raise typer.Exit(EXIT_USAGE) from None


@people.command("create")
def create(
    name: str,
    role: Annotated[str, typer.Option(help="admin, manager, collector, integration or "
                                           "auditor (as for API keys)")],
    language: Annotated[str, typer.Option(help="zh-CN or en")] = "zh-CN",
) -> None:
    """Add a person; the password is read from standard input."""
    hk = _huikuan()
    with _refused():
        made = create_user(hk.ledger, name, role, _password(), language)
    console.print(f"{made.name} ({made.role}, {made.language}) may sign in at /app/")


@people.command("password")
def password(name: str) -> None:
    """Set a person's password (read from standard input)."""
    hk = _huikuan()
    with _refused():
        set_password(hk.ledger, name, _password())
    console.print(f"{name}: password set")


@people.command("disable")
def disable(name: str) -> None:
    """Stop a person signing in (their session ends at its next request)."""
    hk = _huikuan()
    with _refused():
        disable_user(hk.ledger, name)
    console.print(f"{name}: disabled")


@people.command("list")
def listed() -> None:
    """Everyone who may sign in, and those disabled."""
    hk = _huikuan()
    for person in sorted(users(hk.ledger).values(), key=lambda u: u.name):
        state = "disabled" if person.disabled else "active"
        console.print(f"{person.name}\t{person.role}\t{person.language}\t{state}")
