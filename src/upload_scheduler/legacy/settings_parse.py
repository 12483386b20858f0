"""The old `scheduler/config/accounts_config.py`, read as data.

It is a Python module, but importing or executing it would run whatever an operator's
copy holds. Only literal assignments to the known names are read, with
`ast.literal_eval` on the assigned expression; anything else is reported and ignored.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

SETTING_NAMES = ("UPLOAD_ACCOUNTS", "DAEMON_CONFIG", "ACCOUNT_SPECIFIC_CONFIG")


@dataclass
class SchedulerSettings:
    values: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def mapping(self, name: str) -> dict[str, Any]:
        value = self.values.get(name)
        return value if isinstance(value, dict) else {}


def parse_settings(source: str, filename: str = "accounts_config.py") -> SchedulerSettings:
    """The literal values of UPLOAD_ACCOUNTS, DAEMON_CONFIG and ACCOUNT_SPECIFIC_CONFIG;
    the last assignment of a name wins, as it would when the module ran."""
    result = SchedulerSettings()
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as exc:
        result.problems.append(f"{filename}: not valid Python (line {exc.lineno}): {exc.msg}")
        return result
    for node in tree.body:
        for name, value in _assignments(node):
            if name not in SETTING_NAMES:
                continue
            try:
                literal = ast.literal_eval(value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                result.problems.append(
                    f"{filename} line {node.lineno}: {name} is not a plain literal; ignored"
                )
                continue
            if not isinstance(literal, dict):
                result.problems.append(
                    f"{filename} line {node.lineno}: {name} is not a dict; ignored"
                )
                continue
            result.values[name] = literal
    return result


def _assignments(node: ast.stmt) -> list[tuple[str, ast.expr]]:
    """(name, expression) for `NAME = ...` and `NAME: type = ...` at module level."""
    if isinstance(node, ast.Assign):
        return [(t.id, node.value) for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign) and node.value is not None:
        if isinstance(node.target, ast.Name):
            return [(node.target.id, node.value)]
    return []
