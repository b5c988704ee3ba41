"""The layers of ``src/rangeqs`` (docs/explanation/architecture.md): no module
imports a module of a higher layer, the pure layers open no database
connection, and ``import rangeqs`` loads neither the advisor nor Django's
migration machinery.

Read from the source with :mod:`ast`, so a rule holds for every import,
including the ones inside functions. Imports under ``if TYPE_CHECKING:`` run
only for the type checker and are left out.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parent.parent / "src"

#: Lowest first. A module belongs to the longest prefix listed; a module may
#: import its own layer and the layers below it.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "foundations",
        (
            "rangeqs.exceptions",
            # The seam's analysis of a queryset's shape: what _where and
            # _validate read of Django's query internals.
            "rangeqs._django.query",
            "rangeqs._where",
            "rangeqs._listed",
            "rangeqs._keys",
            "rangeqs._keyset",
            "rangeqs._validate",
            "rangeqs._stored",
            "rangeqs._cursor",
            "rangeqs._warnings",
        ),
    ),
    ("indexes", ("rangeqs._declared_indexes", "rangeqs._index_rules")),
    ("lists", ("rangeqs._inlist",)),
    ("seam", ("rangeqs._django", "rangeqs._plans.prepared", "rangeqs._rows")),
    ("page strategies", ("rangeqs._plans",)),
    ("plan choice", ("rangeqs._plans.select", "rangeqs._plans.__init__")),
    ("walk", ("rangeqs._walk",)),
    ("advisor", ("rangeqs.advisor", "rangeqs.operations")),
    (
        "public API",
        (
            "rangeqs.__init__",
            "rangeqs.wrapper",
            "rangeqs.progress",
            "rangeqs.testing",
            "rangeqs.management",
        ),
    ),
    ("jobs", ("rangeqs.jobs",)),
)

#: Pure layers: they read querysets, models and declarations, never a database.
PURE = (
    "rangeqs._where",
    "rangeqs._keys",
    "rangeqs._declared_indexes",
    "rangeqs._index_rules",
    "rangeqs._inlist.conditions",
    "rangeqs._plans.select",
)


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(SOURCE).with_suffix("").parts)


def _layer_of(module: str) -> int | None:
    best: tuple[int, int] | None = None
    for position, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            matches = module == prefix or module.startswith(prefix + ".")
            if matches and (best is None or len(prefix) > best[1]):
                best = (position, len(prefix))
    return None if best is None else best[0]


def _runtime_imports(tree: ast.Module) -> list[tuple[str, tuple[str, ...], int]]:
    """(module, names taken from it, line) for every import the code runs."""
    found: list[tuple[str, tuple[str, ...], int]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for statement in child.orelse:
                    visit_statement(statement)
                continue
            visit_statement(child)

    def visit_statement(child: ast.AST) -> None:
        if isinstance(child, ast.Import):
            found.extend((alias.name, (), child.lineno) for alias in child.names)
        elif isinstance(child, ast.ImportFrom) and child.module and not child.level:
            names = tuple(alias.name for alias in child.names)
            found.append((child.module, names, child.lineno))
        else:
            visit(child)

    visit(tree)
    return found


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted((SOURCE / "rangeqs").rglob("*.py")):
        if {"examples", "migrations"} & set(path.parts):
            # The GroupHash example and migrations are applications of the
            # library, not layers of it.
            continue
        found[_module_name(path)] = path
    return found


def _imported_rangeqs_modules(
    module: str, names: tuple[str, ...], known: dict[str, Path]
) -> list[str]:
    """``from rangeqs import _cursor`` imports the module rangeqs._cursor (and
    ``from rangeqs import _django`` the package rangeqs._django)."""
    targets = [module]
    submodules = [
        f"{module}.{name}"
        for name in names
        if f"{module}.{name}" in known or f"{module}.{name}.__init__" in known
    ]
    targets += submodules
    # A name that is no submodule comes from the package's __init__; taking
    # only submodules runs it too, but as any import of the package does.
    if f"{module}.__init__" in known and len(submodules) < len(names):
        targets.append(f"{module}.__init__")
    return [target for target in targets if target.startswith("rangeqs")]


def test_every_module_of_the_library_is_in_a_layer() -> None:
    unplaced = [module for module in _modules() if _layer_of(module) is None]
    assert unplaced == []


def test_no_module_imports_a_module_of_a_higher_layer() -> None:
    known = _modules()
    upward = []
    for module, path in known.items():
        own = _layer_of(module)
        assert own is not None
        for imported, names, line in _runtime_imports(ast.parse(path.read_text())):
            for target in _imported_rangeqs_modules(imported, names, known):
                layer = _layer_of(target)
                if layer is not None and layer > own:
                    upward.append(
                        f"{module}:{line} ({LAYERS[own][0]}) imports {target} "
                        f"({LAYERS[layer][0]})"
                    )
    assert upward == []


@pytest.mark.parametrize("module", PURE)
def test_pure_layers_open_no_database_connection(module: str) -> None:
    path = _modules().get(module) or _modules()[f"{module}.__init__"]
    taken = [
        name
        for imported, names, _ in _runtime_imports(ast.parse(path.read_text()))
        if imported == "django.db"
        for name in names
        if name in {"connection", "connections", "transaction", "router"}
    ]
    assert taken == []


def test_import_rangeqs_loads_no_advisor_and_no_migrations() -> None:
    # A fresh interpreter: this test session has imported everything already.
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, rangeqs; print('\\n'.join(sorted(sys.modules)))",
        ],
        check=True,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SOURCE)},
    ).stdout.split()
    assert "rangeqs.wrapper" in loaded
    assert [m for m in loaded if m.startswith("rangeqs.advisor")] == []
    assert [m for m in loaded if m.startswith("rangeqs.operations")] == []
    assert [m for m in loaded if m.startswith("django.db.migrations")] == []
