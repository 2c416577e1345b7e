"""Old module names of the flat package, kept for one release so analysts' notebooks still run.

Until version 0.2 the package was flat (``westerkwartier.sections``, ``westerkwartier.findings``
and so on). Importing an old name still works and warns once with the new place; the names
resolve through a small import hook, so there is no second copy of any code. This module goes
away in the release after 0.2.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings
from typing import Any

#: Old module -> the modules that now hold its names (looked up in this order).
MOVED: dict[str, tuple[str, ...]] = {
    "table": ("westerkwartier.sources.table",),
    "periods": ("westerkwartier.sources.periods",),
    "store": ("westerkwartier.sources.store",),
    "cache": ("westerkwartier.sources.cache",),
    "cbs": ("westerkwartier.sources.cbs",),
    "odata4": ("westerkwartier.sources.odata4",),
    "exports": ("westerkwartier.sources.exports",),
    "data": ("westerkwartier.sources.data",),
    "snapshot": ("westerkwartier.sources.snapshot",),
    "regions": ("westerkwartier.sources.regions",),
    "geo": ("westerkwartier.sources.geo",),
    "peers": ("westerkwartier.analysis.peers",),
    "composite": ("westerkwartier.analysis.composite",),
    "ambitions": ("westerkwartier.analysis.ambitions",),
    "plots": ("westerkwartier.reporting.figures",),
    "sections": ("westerkwartier.reporting.sections",),
    "index_report": ("westerkwartier.reporting.index_sections",),
    "reports": ("westerkwartier.pipeline.render",),
    "batch": ("westerkwartier.pipeline.batch", "westerkwartier.pipeline.manifest"),
    "findings": (
        "westerkwartier.reporting.report_data",
        "westerkwartier.reporting.findings",
        "westerkwartier.reporting.report_catalogue",
        "westerkwartier.analysis.comparison",
        "westerkwartier.reporting.formatting",
    ),
    "style": ("westerkwartier.reporting.formatting", "westerkwartier.reporting.charts"),
    "report": (
        "westerkwartier.pipeline.notebook",
        "westerkwartier.reporting.html",
        "westerkwartier.pipeline.index_page",
    ),
}

#: Names that changed when they moved: (old module, old name) -> (module, new name).
RENAMED: dict[tuple[str, str], tuple[str, str]] = {
    ("findings", "load_manifest"): (
        "westerkwartier.reporting.report_catalogue",
        "load_report_catalogue",
    ),
    ("ambitions", "trend"): ("westerkwartier.analysis.ambitions", "linear_projection"),
    ("ambitions", "Trend"): ("westerkwartier.analysis.ambitions", "LinearProjection"),
    ("batch", "ReportSpec"): ("westerkwartier.pipeline.manifest", "ManifestEntry"),
    ("reports", "run_notebook"): ("westerkwartier.pipeline.notebook", "run_notebook"),
}


class _MovedModule(types.ModuleType):
    """A stand-in for an old module: every attribute comes from the module that holds it now."""

    def __init__(self, name: str, targets: tuple[str, ...]) -> None:
        super().__init__(name)
        self.__targets = targets
        self.__doc__ = f"Verplaatst naar {', '.join(targets)}."

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        renamed = RENAMED.get((self.__name__.rpartition(".")[2], attr))
        if renamed is not None:
            return getattr(importlib.import_module(renamed[0]), renamed[1])
        for target in self.__targets:
            module = importlib.import_module(target)
            if hasattr(module, attr):
                return getattr(module, attr)
        raise AttributeError(f"{self.__name__} heeft geen {attr!r} (zie {self.__targets[0]})")


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Import hook that answers ``westerkwartier.<old name>`` with a :class:`_MovedModule`."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        prefix, _, old = fullname.rpartition(".")
        if prefix != "westerkwartier" or old not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        old = spec.name.rpartition(".")[2]
        targets = MOVED[old]
        warnings.warn(
            f"{spec.name} is verplaatst naar {' en '.join(targets)}; de oude naam verdwijnt in "
            "de volgende versie.",
            DeprecationWarning,
            stacklevel=3,
        )
        return _MovedModule(spec.name, targets)

    def exec_module(self, module: types.ModuleType) -> None:
        return None


def install() -> None:
    """Put the import hook in place (once)."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
