"""The layering rules, read from the source with `ast` (nothing is imported to check them).

    handlers -> bot.services -> bot.domain and storage

- the domain imports only the standard library and dateutil;
- storage imports nothing of ours above it (only the domain's vocabulary and errors);
- services import no Slack code (handlers, the composition root, the web or CLI layers);
- handlers do not import storage;
- nothing in bot/, handlers/ or storage/ imports the demo, the fake Slack or the benchmarks;
- no product import is hidden inside a function (to dodge a cycle or a rule): the CLI finds
  the optional demo through an entry point, not an import.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

OURS = ("bot", "handlers", "storage", "demo", "fakeslack", "bench", "tests")
PRODUCT = ("bot", "handlers", "storage")
NOT_IN_PRODUCT = ("demo", "fakeslack", "bench", "tests")
# The composition root and the CLI are the only modules that know every layer.
KNOWS_EVERYTHING = ("bot.app", "bot.cli", "bot.serve_commands")
# (importer prefix, imported prefixes it must not use, why)
FORBIDDEN: list[tuple[str, tuple[str, ...], str]] = [
    ("storage", ("bot", "handlers"), "storage imports nothing of ours but bot.domain"),
    (
        "bot.services",
        ("handlers", "bot.app", "bot.cli", "bot.serve_commands", "bot.web", "bot.scheduler"),
        "services",
    ),
    ("bot.domain", ("bot", "handlers", "storage"), "the domain is pure"),
    (
        "handlers",
        ("storage", "bot.app", "bot.cli", "bot.serve_commands", "bot.web"),
        "handlers only speak Slack",
    ),
]
# Exceptions to FORBIDDEN: what each layer may still use from below it.
ALLOWED = {
    "storage": ("bot.domain",),
    "bot.services": (),
    "bot.domain": ("bot.domain",),
    "handlers": (),
}
DOMAIN_THIRD_PARTY = ("dateutil",)


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. "handlers.commands"
    imported: str  # e.g. "storage.models"
    line: int
    in_function: bool
    type_checking: bool


def modules(root: Path, packages: tuple[str, ...] = OURS) -> Iterator[tuple[str, Path]]:
    for package in packages:
        base = root / package
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join(parts), path


def imports_of(module: str, path: Path) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Import] = []

    def visit(node: ast.AST, *, in_function: bool, type_checking: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found.append(
                        Import(module, alias.name, child.lineno, in_function, type_checking)
                    )
            elif isinstance(child, ast.ImportFrom):
                target = _resolve(module, path, child)
                found.append(Import(module, target, child.lineno, in_function, type_checking))
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                visit(child, in_function=True, type_checking=type_checking)
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                visit(child, in_function=in_function, type_checking=True)
            else:
                visit(child, in_function=in_function, type_checking=type_checking)

    visit(tree, in_function=False, type_checking=False)
    return found


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(root: Path) -> list[str]:
    """Every broken rule under `root`, as `module:line imports X (why)`."""
    problems: list[str] = []
    for module, path in modules(root):
        for imp in imports_of(module, path):
            problems.extend(_check(imp))
    return problems


def _check(imp: Import) -> Iterator[str]:
    where = f"{imp.module}:{imp.line} imports {imp.imported}"
    top = imp.imported.split(".")[0]
    if imp.module.split(".")[0] in PRODUCT and top in NOT_IN_PRODUCT:
        yield f"{where} (the product never imports the demo, the fake Slack or tests)"
    hidden = imp.in_function and not imp.type_checking and top in OURS
    if hidden and imp.module.split(".")[0] in PRODUCT:
        yield f"{where} inside a function (a hidden import dodges the layering)"
    if any(_within(imp.module, k) for k in KNOWS_EVERYTHING):
        return
    for layer, forbidden, why in FORBIDDEN:
        if not _within(imp.module, layer):
            continue
        if any(_within(imp.imported, a) for a in ALLOWED[layer]):
            continue
        if any(_within(imp.imported, f) for f in forbidden):
            yield f"{where} ({why})"
    outside = top not in OURS and top not in sys.stdlib_module_names
    if _within(imp.module, "bot.domain") and outside and top not in DOMAIN_THIRD_PARTY:
        yield f"{where} (the domain uses only the standard library and dateutil)"


def package_graph(root: Path) -> dict[str, set[str]]:
    """Which of our packages import which (bot split into its layers), for the README."""

    def unit(name: str) -> str:
        parts = name.split(".")
        if parts[0] == "bot" and len(parts) > 1 and parts[1] in ("domain", "services"):
            return ".".join(parts[:2])
        return parts[0]

    graph: dict[str, set[str]] = {}
    for module, path in modules(root, (*PRODUCT, "demo", "fakeslack")):
        for imp in imports_of(module, path):
            if imp.imported.split(".")[0] in OURS and unit(imp.imported) != unit(module):
                graph.setdefault(unit(module), set()).add(unit(imp.imported))
    return graph


if __name__ == "__main__":  # `python -m tests.architecture` prints the graph and any problem
    here = Path(__file__).resolve().parent.parent
    for source, targets in sorted(package_graph(here).items()):
        print(f"{source} -> {', '.join(sorted(targets))}")
    for problem in violations(here):
        print("VIOLATION", problem)
