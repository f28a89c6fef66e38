"""Custom import-linter contracts for the workspace (see ``[tool.importlinter]`` in
pyproject.toml; ``hatch run lint:check`` runs them)."""

from __future__ import annotations

from typing import Any

from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.domain import fields
from importlinter.domain.contract import ContractCheck
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
