"""The README's tour works as written right after ``make demo``.

A fresh folder gets what ``make demo`` does before it serves (its recipe's huikuan lines,
read from the Makefile: the demo, today's cycle, an admin key), on the embedded SQLite
default; then each ``$ .venv/bin/huikuan …`` line of the tour runs as written, through a
shell (pipes included), and its output must hold every line the README shows for it with
the digits masked (the demo is a year up to the day it is made: the dates move, the
shape stays). ``python tests/test_readme_tour.py`` prints the tour as it runs today, to
paste into the README.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

CLI = f"{shlex.quote(sys.executable)} -m huikuan.adapters.cli"
PROMPT = "$ .venv/bin/huikuan "


def tour() -> list[tuple[str, list[str]]]:
    """(command, the output lines shown) for each command of the README's tour."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## A five-minute tour"):]
    block = section[section.index("```console\n") + 11:]
    block = block[:block.index("```")]
    steps: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith(PROMPT):
            command = re.split(r"\s{2,}#", line[len(PROMPT):])[0].strip()
            steps.append((command, []))
        elif steps:
            steps[-1][1].append(line)
    return steps


def make_demo_steps() -> list[str]:
    """The huikuan commands of the Makefile's demo recipe, before it serves."""
    recipe = (REPO / "Makefile").read_text(encoding="utf-8").split("\ndemo:")[1]
    commands = []
    for line in recipe.splitlines()[1:]:
        if not line.startswith("\t"):
            break
        command = line.strip().lstrip("@").split("#")[0].strip()
        if command.startswith("$(BIN)/huikuan ") and " serve " not in f"{command} ":
            commands.append(command.removeprefix("$(BIN)/huikuan ").replace(" || true", ""))
    return commands


def shape(line: str) -> str:
    """The line with digests and digits masked and spaces collapsed."""
    return " ".join(re.sub(r"\d", "#", re.sub(r"[0-9a-f]{32,}", "<hex>", line)).split())


def run(folder: Path, command: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUIKUAN_")}
    env.update(COLUMNS="100", HUIKUAN_LOG_FORMAT="json")
    # As a person types it in a shell: a pipe's status is its last command's.
    return subprocess.run(["bash", "-c", f"{CLI} {command}"], cwd=folder,
                          env=env, capture_output=True, text=True, timeout=600, check=False)


def made_by_make_demo(folder: Path) -> None:
    shutil.copy(REPO / "plugins.toml", folder / "plugins.toml")
    for command in make_demo_steps():
        done = run(folder, command)
        assert done.returncode == 0, (command, done.stdout, done.stderr)


def test_the_makefile_demo_recipe_is_read():
    assert make_demo_steps() == ["demo", "cycle", 'keys create --role admin --label "make demo"']


def test_every_command_of_the_tour_works_as_shown_right_after_make_demo(tmp_path):
    made_by_make_demo(tmp_path)
    steps = tour()
    assert len(steps) >= 10
    for command, shown in steps:
        done = run(tmp_path, command)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        assert "Traceback" not in done.stdout + done.stderr, command
        got = {shape(line) for line in (done.stdout + done.stderr).splitlines()}
        # Outside the company's contact hours (08:00-21:00 in its timezone, plugins.toml's
        # [compliance]) the texts and call tasks wait: dispatch then also counts them held,
        # as the README says below the tour.
        got |= {shape(re.sub(r"^held: \d+, ", "", line)) for line in done.stdout.splitlines()}
        for line in shown:
            if line.strip() and line.strip() != "…":
                assert shape(line) in got, (command, line, done.stdout)


if __name__ == "__main__":  # print the tour as it runs today
    import tempfile

    with tempfile.TemporaryDirectory() as where:
        made_by_make_demo(Path(where))
        for command, _ in tour():
            print(PROMPT + command)
            print(run(Path(where), command).stdout, end="")
