"""The report catalogue: which reports exist, their sections and the indicators they show.

Read from ``config/rapporten.toml``: per report its title, notebook, map indicator, context
indicators and sections (scorecard rows and trend charts), and how a sentence names each
indicator.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from westerkwartier.config import CONFIG_DIR
from westerkwartier.errors import InputError
from westerkwartier.indicators.catalogue import load_catalogue

#: The report manifest (sections and indicators per report).
MANIFEST_FILE: Path = CONFIG_DIR / "rapporten.toml"


# ----------------------------------------------------------------------------------------------
# The report manifest
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Section:
    """One section of a report: its h2 title, scorecard rows and trend charts."""

    id: str
    titel: str
    indicatoren: tuple[str, ...]
    trends: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportSpec:
    """One report of the manifest (``config/rapporten.toml``)."""

    id: str
    titel: str
    notebook: str
    kaart: str
    context: tuple[str, ...]
    secties: tuple[Section, ...]
    onderwerp: Mapping[str, str] = field(default_factory=dict)
    voorop: str | None = None

    @property
    def lead_indicators(self) -> tuple[str, ...]:
        """Scorecard rows of the section whose strongest finding opens the summary."""
        return self.section(self.voorop).indicatoren if self.voorop else ()

    @property
    def indicators(self) -> tuple[str, ...]:
        """Every indicator the report uses, scorecard rows first, without repeats."""
        ids: dict[str, None] = {}
        for section in self.secties:
            ids.update(dict.fromkeys(section.indicatoren))
            ids.update(dict.fromkeys(section.trends))
        ids.update(dict.fromkeys(self.context))
        ids[self.kaart] = None
        return tuple(ids)

    def section(self, section_id: str) -> Section:
        """Return a section by id.

        Raises
        ------
        InputError
            If the report has no such section.
        """
        for section in self.secties:
            if section.id == section_id:
                return section
        known = ", ".join(s.id for s in self.secties)
        raise InputError(f"Rapport {self.id!r} heeft geen sectie {section_id!r}; secties: {known}.")


def load_manifest(path: Path | str | None = None) -> dict[str, ReportSpec]:
    """Read the report manifest.

    Parameters
    ----------
    path : Path or str, optional
        Default ``config/rapporten.toml``.

    Returns
    -------
    dict of str to ReportSpec
        In the order of the file.

    Raises
    ------
    InputError
        When the file is missing or not valid TOML, or names an unknown indicator.
    """
    return _load_manifest(str(Path(path) if path is not None else MANIFEST_FILE))


@lru_cache(maxsize=4)
def _load_manifest(path: str) -> dict[str, ReportSpec]:
    file = Path(path)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"Het rapportoverzicht {file.name} ontbreekt.") from None
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"Rapportoverzicht {file.name} is geen geldige TOML: {err}.") from None
    cat = load_catalogue()
    onderwerp = dict(raw.get("onderwerp", {}))
    out: dict[str, ReportSpec] = {}
    for rid, entry in raw.get("rapport", {}).items():
        secties = tuple(
            Section(
                id=s["id"],
                titel=s["titel"],
                indicatoren=tuple(s["indicatoren"]),
                trends=tuple(s.get("trends", ())),
            )
            for s in entry.get("sectie", [])
        )
        spec = ReportSpec(
            id=rid,
            titel=entry["titel"],
            notebook=entry["notebook"],
            kaart=entry["kaart"],
            context=tuple(entry.get("context", ())),
            secties=secties,
            onderwerp=onderwerp,
            voorop=entry.get("voorop"),
        )
        for ind in spec.indicators:
            cat[ind]  # raises InputError with suggestions for a typo
        if spec.voorop is not None:
            spec.section(spec.voorop)  # raises InputError naming the sections
        out[rid] = spec
    return out


def report_spec(rapport: str) -> ReportSpec:
    """Return one report of the manifest by id (``talent``, ``aantrekkelijkheid``).

    Raises
    ------
    InputError
        For an unknown report; the message lists the known ones.
    """
    manifest = load_manifest()
    key = str(rapport).strip().lower()
    if key not in manifest:
        raise InputError(
            f"Onbekend rapport {rapport!r}; kies uit: {', '.join(manifest)} (of 'alle')."
        )
    return manifest[key]
