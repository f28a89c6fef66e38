"""Custom import-linter contracts for the workspace (see ``[tool.importlinter]`` in
pyproject.toml; ``hatch run lint:check`` runs them)."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from typing import Any

from importlinter.application import output
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck
from importlinter.domain.imports import ModuleExpression


class PrivateModulesContract(ForbiddenContract):
    """A forbidden contract whose forbidden modules are the private modules of ``packages``.

    A private module has a dotted path segment (after the package) starting with ``_``:
    ``leadbridge._errors``, ``leadbridge.cli._common``, ``leadbridge.sync._engine`` ...
    import-linter's wildcards replace whole segments only (no ``leadbridge.**._*``), so the
    modules are listed from the import graph at each run: a private module core adds
    tomorrow is forbidden without editing the configuration.

    Only direct imports count (``allow_indirect_imports`` defaults to true here): a plugin
    importing ``leadbridge.ValidationError`` reaches ``leadbridge._errors`` through the
    public ``leadbridge`` package, which is the point of having one.
    """

    type_name = "private_modules"

    packages = fields.ListField(subfield=fields.StringField())
    forbidden_modules = fields.SetField(subfield=fields.ModuleExpressionField(), required=False)
    allow_indirect_imports = fields.BooleanField(required=False, default=True)

    def check(self, graph: Any, verbose: bool) -> ContractCheck:
        private: set[ModuleExpression] = set()
        for package in self.packages:  # type: ignore[attr-defined]
            prefix = f"{package}."
            for module in graph.modules:
                inner = module.removeprefix(prefix)
                if module.startswith(prefix) and any(p.startswith("_") for p in inner.split(".")):
                    private.add(ModuleExpression(module))
        self.forbidden_modules = private  # type: ignore[assignment]
        return super().check(graph, verbose)


class ForbiddenNamesContract(Contract):
    """Forbids the ``source_modules`` to use names of ``packages`` ending in ``suffix``.

    import-linter contracts see modules, not names: ``from leadbridge.contacts import
    ContactRow`` is an import of the public ``leadbridge.contacts``. This contract reads each
    source module's code and refuses, by name, ``from leadbridge... import XRow`` and
    ``leadbridge.contacts.XRow`` (through ``import leadbridge...``): core's tables are core's,
    plugins and the gateway read them through core's repositories and services.
    """

    type_name = "forbidden_names"

    source_modules = fields.ListField(subfield=fields.StringField())
    packages = fields.ListField(subfield=fields.StringField())
    suffix = fields.StringField()

    def check(self, graph: Any, verbose: bool) -> ContractCheck:
        sources: list[str] = self.source_modules  # type: ignore[assignment]
        found: list[dict[str, Any]] = []
        for module in sorted(graph.modules):
            if any(module == s or module.startswith(f"{s}.") for s in sources):
                found.extend(self._uses(module))
        return ContractCheck(kept=not found, metadata={"uses": found})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for use in check.metadata["uses"]:
            output.print_error(
                f"{use['module']}:{use['line']} uses {use['name']} from {use['package']}",
                bold=False,
            )
        output.new_line()

    def _uses(self, module: str) -> list[dict[str, Any]]:
        path = _source_file(module)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        suffix: str = self.suffix  # type: ignore[assignment]
        uses: list[dict[str, Any]] = []
        bound: dict[str, str] = {}  # names bound by ``import leadbridge.x [as y]``
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and self._ours(node.module):
                uses.extend(
                    {"module": module, "line": node.lineno, "name": a.name, "package": node.module}
                    for a in node.names
                    if a.name.endswith(suffix)
                )
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if self._ours(a.name):
                        bound[a.asname or a.name.partition(".")[0]] = a.name
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr.endswith(suffix):
                root = node.value
                while isinstance(root, ast.Attribute):
                    root = root.value
                if isinstance(root, ast.Name) and root.id in bound:
                    uses.append(
                        {
                            "module": module,
                            "line": node.lineno,
                            "name": node.attr,
                            "package": ast.unparse(node.value),
                        }
                    )
        return uses

    def _ours(self, module: str | None) -> bool:
        packages: list[str] = self.packages  # type: ignore[assignment]
        return module is not None and any(
            module == p or module.startswith(f"{p}.") for p in packages
        )


def _source_file(module: str) -> Path:
    """The file of ``module``, found without importing (and so running) any of it."""
    top, _, rest = module.partition(".")
    spec = importlib.util.find_spec(top)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f"cannot find the package {top!r}")
    base = Path(next(iter(spec.submodule_search_locations))).joinpath(
        *rest.split(".") if rest else []
    )
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
