"""The shape of the code: core knows nothing of plugins, adapters or projections.

Core holds the facts, the policy host and the hookspecs; built-in plugins reach it the
way a third-party plugin does (entry points), and the adapters and views depend on core,
never the reverse.
"""

from __future__ import annotations

import ast
import re
from importlib import metadata
from pathlib import Path

from huikuan.core.policy import ALWAYS_ON, DEFAULT_PLUGINS

REPO = Path(__file__).resolve().parents[2]
# A module path: huikuan.plugins, huikuan.adapters.http, plugins.escalation (not the
# word "plugins", nor plugins.toml).
OUTER = re.compile(r"^(huikuan\.(plugins|adapters|projections)(\.\w+)*"
                   r"|(plugins|adapters|projections)(\.(?!toml$)\w+)+)$")


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def test_no_string_or_import_in_core_names_a_module_of_the_outer_layers() -> None:
    offences = []
    for path in sorted((REPO / "core").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and OUTER.match(node.module):
                offences.append(f"{path.name}:{node.lineno} imports {node.module}")
            elif isinstance(node, ast.Import):
                offences += [f"{path.name}:{node.lineno} imports {a.name}"
                             for a in node.names if OUTER.match(a.name)]
            elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
                  and id(node) not in docstrings and OUTER.match(node.value)):
                offences.append(f"{path.name}:{node.lineno} names {node.value!r}")
    assert offences == []


def test_the_built_in_plugins_are_entry_points_of_huikuan_itself() -> None:
    ours = {ep.name: ep.value for ep in metadata.entry_points(group="huikuan")
            if ep.dist is not None and ep.dist.name == "huikuan"}
    assert set(ours) == {*DEFAULT_PLUGINS, *ALWAYS_ON}
    for name, module in ours.items():
        assert module == f"huikuan.plugins.{name}"
        assert (REPO / "plugins" / f"{name}.py").exists()
