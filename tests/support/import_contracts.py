"""Contract types of our own for import-linter (the contracts are in pyproject.toml).

Import-linter's built-in types cover "only X imports Y" and "X imports none of Y". Two of our
rules need a shape they do not have:

* `own_tables`: every room's `models` module (its tables) is imported only from inside that
  room; other rooms call its service. One rule for all rooms, so a new room is covered the day
  it is added, without a new contract.
* `acyclic_modules`: no module imports itself through others. Import-linter's own
  `acyclic_siblings` compares whole packages, and rooms may lean on each other's services both
  ways (customers and access do); what must not happen is a circle of modules.

lint-imports runs from the repository root, where `tests` is importable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import pairwise
from typing import Any

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output
from importlinter.application.contract_utils import AlertLevel, remove_ignored_imports_and_report

Link = tuple[str, str, tuple[int, ...]]


def _lines(graph: ImportGraph, importer: str, imported: str) -> tuple[int, ...]:
    details = graph.get_import_details(importer=importer, imported=imported)
    return tuple(sorted({d["line_number"] for d in details}))


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


class OwnTablesContract(Contract):
    """Each `<container>.<room>.<tables>` module is imported only from within `<room>`.

    Options: `container` (the package whose children are rooms), `tables` (default "models"),
    `exceptions` (modules that may import any room's tables), `ignore_imports`.
    """

    type_name = "own_tables"

    container = fields.StringField()
    tables = fields.StringField(default="models")
    exceptions = fields.SetField(subfield=fields.StringField(), required=False)
    ignore_imports = fields.SetField(subfield=fields.ImportExpressionField(), required=False)
    unmatched_ignore_imports_alerting = fields.EnumField(AlertLevel, default=AlertLevel.ERROR)

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        removal = remove_ignored_imports_and_report(
            graph=graph,
            ignore_imports=self.ignore_imports,  # type: ignore[arg-type]
            unmatched_alerting=self.unmatched_ignore_imports_alerting,  # type: ignore[arg-type]
        )
        exceptions: set[str] = set(self.exceptions or ())  # type: ignore[call-overload]
        illegal: list[Link] = []
        rooms_checked = 0
        for room in sorted(graph.find_children(str(self.container))):
            tables = f"{room}.{self.tables}"
            if tables not in graph.modules:
                continue
            rooms_checked += 1
            for module in sorted({tables} | graph.find_descendants(tables)):
                for importer in sorted(graph.find_modules_that_directly_import(module)):
                    if _inside(importer, room) or importer in exceptions:
                        continue
                    illegal.append((importer, module, _lines(graph, importer, module)))
        return ContractCheck(
            kept=not illegal,
            warnings=list(removal.warnings),
            ignored_import_count=removal.ignored_import_count,
            metadata={"illegal": illegal, "rooms": rooms_checked},
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        output.print_error("Tables imported from outside their room:", bold=False)
        output.new_line()
        for importer, imported, lines in check.metadata["illegal"]:
            output.print_error(f"- {importer} -> {imported} (l.{_joined(lines)})", bold=False)
        output.new_line()


class AcyclicModulesContract(Contract):
    """No module under `containers` reaches itself through the modules it imports.

    Options: `containers` (packages whose modules are checked), `ignore_imports`.
    """

    type_name = "acyclic_modules"

    containers = fields.SetField(subfield=fields.StringField())
    ignore_imports = fields.SetField(subfield=fields.ImportExpressionField(), required=False)
    unmatched_ignore_imports_alerting = fields.EnumField(AlertLevel, default=AlertLevel.ERROR)

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        removal = remove_ignored_imports_and_report(
            graph=graph,
            ignore_imports=self.ignore_imports,  # type: ignore[arg-type]
            unmatched_alerting=self.unmatched_ignore_imports_alerting,  # type: ignore[arg-type]
        )
        containers = [str(c) for c in self.containers]  # type: ignore[attr-defined]
        modules = {m for m in graph.modules if any(_inside(m, c) for c in containers)}
        edges = {m: graph.find_modules_directly_imported_by(m) & modules for m in modules}
        cycles = [_a_cycle(component, edges) for component in _components(edges)]
        described = [
            [(a, b, _lines(graph, a, b)) for a, b in pairwise(cycle)] for cycle in sorted(cycles)
        ]
        return ContractCheck(
            kept=not described,
            warnings=list(removal.warnings),
            ignored_import_count=removal.ignored_import_count,
            metadata={"cycles": described},
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        for cycle in check.metadata["cycles"]:
            output.print_error("Import circle:", bold=False)
            for importer, imported, lines in cycle:
                output.print_error(f"- {importer} -> {imported} (l.{_joined(lines)})", bold=False)
            output.new_line()


def _joined(lines: Iterable[int]) -> str:
    return ", ".join(map(str, lines))


def _components(edges: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work: list[tuple[str, Any]] = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges[node]:
                    found.append(sorted(component))
    return found


def _a_cycle(component: list[str], edges: Mapping[str, set[str]]) -> list[str]:
    """One shortest circle through the first module of a component, start repeated at the end."""
    start, members = component[0], set(component)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(edges[node] & members):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    return [start, start]  # unreachable for a strongly connected component
