"""No module imports one below it: the layer table of `../shared/DESIGN.md` ("Layers"),
checked against the imports the code actually makes, read with `ast`.

`LAYERS` is the one place in the repository that writes the order down. It follows
DESIGN.md's table top to bottom and places each module the table does not name, with the
reason. Every import counts: at module level, inside a function (imported on use to keep a
daemon small is still a dependency) and under `if TYPE_CHECKING:` (a type-only dependency
is still a dependency; failures name those "type-only" so they are easy to tell apart).
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "upload_scheduler"
SOURCE = ROOT / "src" / PACKAGE
DESIGN = ROOT.parent / "shared" / "DESIGN.md"

# Top to bottom: a module may import its own layer and the layers above it.
LAYERS: tuple[str, ...] = (
    # Not in the table: constants and names that every layer may use, importing nothing of
    # the package (defaults: the documented default values; naming: the host id and log
    # file names that the workers and the supervisor must agree on without importing each
    # other).
    "defaults",
    "naming",
    "config",
    "clock",
    # Not in the table: business-hours arithmetic that planning and limits share, so it
    # sits above both and is held to their purity (see PURE).
    "hours",
    "planning",
    "limits",
    "pricing",
    "store",
    "inventory",
    "queue",
    "platforms",
    "notify",
    # Not in the table: the seed's import (`upload-scheduler legacy import`). It writes
    # through config, store and the platforms' token store, and only cli runs it.
    "legacy",
    # Not in the table: the operator's actions (pause, resume, delist, purge, backup,
    # config audit) that cli and web share ("web reads through queue, operations and
    # store"). Above worker: it works on the rows and the account state of the storage
    # side (issue 14), never through a daemon's code, and no daemon runs these actions.
    "operations",
    "worker",
    "supervisor",
    # Not in the table: the package's own `__init__`, which offers the seed's API names
    # (the queue manager, the supervisor, the account daemon) and so sits below them.
    "__init__",
    "demo",
    "web",
    "cli",
    # Not in the table: `python -m upload_scheduler`, the command line's second front
    # door; the one module allowed to import cli.
    "__main__",
)
RANK = {layer: rank for rank, layer in enumerate(LAYERS)}

# DESIGN.md: "planning and limits import no I/O at all: they are pure and take `now`";
# pricing is "pure" too. hours is here because planning and limits import it, defaults
# because pricing reads its currency table: they are only as pure as what they import.
PURE = ("defaults", "planning", "limits", "hours", "pricing")
PURE_STDLIB = frozenset(
    {
        "__future__",
        "bisect",
        "collections",
        "dataclasses",
        "datetime",
        "decimal",
        "enum",
        "fractions",
        "functools",
        "heapq",
        "itertools",
        "math",
        "operator",
        "typing",
        "zoneinfo",
    }
)
# Reading the clock is I/O too: only loops do it, through `clock`. (The time module is
# off the pure list already; these are datetime's and date's own reads.)
CLOCK_READS = frozenset({"now", "utcnow", "today"})
IO_BUILTINS = frozenset({"open", "print", "input"})


@dataclass(frozen=True)
class Import:
    """One import statement's dependency on one module."""

    path: Path
    line: int
    target: str  # the full module name imported ("sqlalchemy", "upload_scheduler.store.tables")
    type_only: bool  # under `if TYPE_CHECKING:`

    def __str__(self) -> str:
        where = f"{self.path.relative_to(ROOT).as_posix()}:{self.line}"
        return f"{where} imports {self.target}" + (" (type-only)" if self.type_only else "")


def module_name(path: Path) -> str:
    """`src/upload_scheduler/queue/manager.py` -> `upload_scheduler.queue.manager`."""
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str:
    """The layer of a module of the package: its top-level module or package."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        raise ValueError(f"{module} is not part of {PACKAGE}")
    if len(parts) == 1 or not _is_module(parts[1]):
        return "__init__"  # the package itself, or a name defined in its __init__
    return parts[1]


def _is_module(name: str) -> bool:
    """Whether the package has a top-level module or package of this name."""
    return _exists(f"{PACKAGE}.{name}")


@functools.cache
def _exists(module: str) -> bool:
    """Whether `module` is a module or package of ours (a file under src/)."""
    if module != PACKAGE and not module.startswith(f"{PACKAGE}."):
        return False
    path = SOURCE.parent.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path, source: str | None = None) -> Iterator[Import]:
    """Every module that the file at `path` imports, wherever the statement stands."""
    text = path.read_text(encoding="utf-8") if source is None else source
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def visit(node: ast.AST, type_only: bool) -> Iterator[Import]:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                yield from visit(child, True)
            for child in node.orelse:
                yield from visit(child, type_only)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(path, node.lineno, alias.name, type_only)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from upload_scheduler.store import account_state` imports that module;
            # `from upload_scheduler.store.tables import listings`, the module it names.
            targets = {
                f"{base}.{alias.name}" if _exists(f"{base}.{alias.name}") else base
                for alias in node.names
            }
            for target in sorted(targets):
                yield Import(path, node.lineno, target, type_only)
        for child in ast.iter_child_nodes(node):
            yield from visit(child, type_only)

    yield from visit(ast.parse(text, filename=str(path)), False)


def _sources() -> list[Path]:
    return sorted(SOURCE.rglob("*.py"))


@functools.cache
def _project_imports() -> list[tuple[str, Import]]:
    """(the importing module's layer, import) for every import of the package's own modules."""
    found = []
    for path in _sources():
        for imp in imports_of(path):
            if imp.target == PACKAGE or imp.target.startswith(f"{PACKAGE}."):
                found.append((layer_of(module_name(path)), imp))
    return found


def _present_layers() -> list[str]:
    return sorted({layer_of(module_name(p)) for p in _sources()}, key=lambda x: RANK.get(x, -1))


def test_every_module_has_a_place_in_the_order() -> None:
    unplaced = [layer for layer in _present_layers() if layer not in RANK]
    assert not unplaced, f"add these to LAYERS, where they belong: {unplaced}"


def test_the_order_follows_design_md() -> None:
    """The table's modules appear in LAYERS in the table's order (DESIGN.md is kept beside
    the repository, in ../shared)."""
    if not DESIGN.is_file():
        pytest.skip(f"{DESIGN} is not beside the repository")
    text = DESIGN.read_text(encoding="utf-8")
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    table = re.findall(r"^\| `(\w+)` \|", section, re.MULTILINE)
    assert table, "DESIGN.md's Layers section has no table of modules"
    assert [layer for layer in LAYERS if layer in table] == table


@pytest.mark.parametrize("layer", [layer for layer in LAYERS if _is_module(layer)])
def test_no_module_imports_one_below_it(layer: str) -> None:
    upward = [
        f"{imp} ({layer} is above {layer_of(imp.target)})"
        for importer, imp in _project_imports()
        if importer == layer and RANK.get(layer_of(imp.target), -1) > RANK[layer]
    ]
    assert not upward, "\n".join(upward)


def test_supervisor_never_imports_worker() -> None:
    """The supervisor starts a worker as a subprocess command, never in its own process."""
    found = [
        str(imp)
        for importer, imp in _project_imports()
        if importer == "supervisor" and layer_of(imp.target) == "worker"
    ]
    assert not found, "\n".join(found)


def test_nothing_imports_cli() -> None:
    found = [
        str(imp)
        for importer, imp in _project_imports()
        if importer not in ("cli", "__main__") and layer_of(imp.target) == "cli"
    ]
    assert not found, "\n".join(found)


def impurities(path: Path, source: str | None = None) -> list[str]:
    """What makes a module of a pure layer impure: an import off the pure list, a clock
    read, a file opened, something printed."""
    text = path.read_text(encoding="utf-8") if source is None else source
    found = []
    for imp in imports_of(path, text):
        if imp.target.startswith(f"{PACKAGE}."):
            if layer_of(imp.target) not in PURE:
                found.append(f"{imp} (not pure)")
        elif imp.target.split(".")[0] not in PURE_STDLIB:
            found.append(f"{imp} (not on the pure list)")
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, ast.Call):
            continue
        called = node.func
        where = f"{path.relative_to(ROOT).as_posix()}:{node.lineno}"
        if isinstance(called, ast.Name) and called.id in IO_BUILTINS:
            found.append(f"{where} calls {called.id}()")
        elif isinstance(called, ast.Attribute) and called.attr in CLOCK_READS:
            found.append(f"{where} reads the clock ({called.attr}()); take `now` instead")
    return found


@pytest.mark.parametrize("layer", PURE)
def test_pure_layers_do_no_io(layer: str) -> None:
    paths = [p for p in _sources() if layer_of(module_name(p)) == layer]
    assert paths, f"no module found for {layer}"
    found = [problem for path in paths for problem in impurities(path)]
    assert not found, "\n".join(found)


# The checker itself: a checker that finds nothing would pass every test above.


def test_imports_are_found_wherever_they_stand() -> None:
    path = SOURCE / "queue" / "example.py"  # not read: the source is given
    source = (
        "from __future__ import annotations\n"
        "from typing import TYPE_CHECKING\n"
        "from upload_scheduler import defaults, __version__\n"
        "from . import records\n"
        "from ..store import tables\n"
        "if TYPE_CHECKING:\n"
        "    from upload_scheduler.worker.daemon import Daemon\n"
        "else:\n"
        "    import httpx\n"
        "def run() -> None:\n"
        "    import upload_scheduler.cli.app\n"
    )
    found = {(imp.target, imp.type_only) for imp in imports_of(path, source)}
    assert {
        ("upload_scheduler.defaults", False),
        ("upload_scheduler", False),
        ("upload_scheduler.queue.records", False),
        ("upload_scheduler.store.tables", False),
        ("upload_scheduler.worker.daemon", True),
        ("httpx", False),
        ("upload_scheduler.cli.app", False),
    } <= found
    assert layer_of("upload_scheduler.defaults") == "defaults"
    assert layer_of("upload_scheduler") == "__init__"
    assert layer_of("upload_scheduler.store.tables") == "store"


def test_impurities_are_found() -> None:
    path = SOURCE / "planning.py"  # not read: the source is given
    source = (
        "import os\n"
        "from datetime import datetime\n"
        "from upload_scheduler.hours import day_segments\n"
        "from upload_scheduler.store import tables\n"
        "def f() -> None:\n"
        "    print(datetime.now())\n"
    )
    found = "\n".join(impurities(path, source))
    assert "imports os" in found
    assert "imports upload_scheduler.store.tables (not pure)" in found
    assert "calls print()" in found
    assert "reads the clock (now())" in found
    assert "imports datetime" not in found
    assert "hours" not in found
