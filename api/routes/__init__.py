"""One blueprint per resource, all under ``/v1``."""

from __future__ import annotations

from importlib import import_module

from apiflask import APIBlueprint

#: Modules of :mod:`api.routes`, each with a ``blueprint``.
MODULES = ("health", "workspaces", "jobs", "audit", "datasets", "reports", "models", "plans",
           "pages", "docs_assets")
BLUEPRINTS: list[APIBlueprint] = [import_module(f"api.routes.{name}").blueprint
                                  for name in MODULES]
