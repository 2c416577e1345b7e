"""The report catalogue: which reports exist, their sections and the indicators they show.

Read from ``config/rapporten.toml``: per report its title, notebook, map indicator, context
indicators and sections (scorecard rows and trend charts), and how a sentence names each
indicator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from westerkwartier import settings
from westerkwartier.config import (
    CONFIG_DIR,
    ConfigError,
    FieldSpec,
    Problem,
    TomlFile,
    check_fields,
    read_toml,
    suggest,
)
from westerkwartier.errors import InputError
from westerkwartier.indicators.catalogue import load_catalogue

#: The report catalogue: the one list of the reports the project makes.
CATALOGUE_FILE: Path = CONFIG_DIR / "rapporten.toml"

#: Folder of the report notebooks (``notebooks/`` in the project).
NOTEBOOKS_DIR: Path = settings.project_dir / "notebooks"


# ----------------------------------------------------------------------------------------------
# The report catalogue
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
    """One report of the catalogue (``config/rapporten.toml``)."""

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
    def notebook_path(self) -> Path:
        """The report's notebook in :data:`NOTEBOOKS_DIR`."""
        return NOTEBOOKS_DIR / self.notebook

    @property
    def title_pattern(self) -> str:
        """The page title, with ``{gemeente}`` for the municipality's name.

        Examples
        --------
        >>> spec = ReportSpec("talent", "Talent", "talent.ipynb", "x", (), ())
        >>> spec.title_pattern.format(gemeente="Westerkwartier")
        'Talent in Westerkwartier — regionale monitor'
        """
        return f"{self.titel} in {{gemeente}} — regionale monitor"

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


def load_report_catalogue(path: Path | str | None = None) -> dict[str, ReportSpec]:
    """Read the report catalogue.

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
    westerkwartier.config.ConfigError
        When the file is missing or not valid TOML (with the line).
    InputError
        When it names an unknown indicator.
    """
    return _load_catalogue(str(Path(path) if path is not None else CATALOGUE_FILE))


#: Keys of ``[rapport.<id>]``: (required, accepted types, Dutch description).
REPORT_FIELDS: dict[str, FieldSpec] = {
    "titel": (True, (str,), "tekst"),
    "notebook": (True, (str,), "tekst (bestand in notebooks/)"),
    "kaart": (True, (str,), "tekst (indicator)"),
    "context": (False, (list,), "lijst van indicatoren"),
    "voorop": (False, (str,), "tekst (id van een sectie)"),
    "sectie": (True, (list,), "lijst [[rapport.<id>.sectie]]"),
}

#: Keys of ``[[rapport.<id>.sectie]]``.
SECTION_FIELDS: dict[str, FieldSpec] = {
    "id": (True, (str,), "tekst"),
    "titel": (True, (str,), "tekst"),
    "indicatoren": (True, (list,), "lijst van indicatoren"),
    "trends": (False, (list,), "lijst van indicatoren"),
}


@lru_cache(maxsize=4)
def _load_catalogue(path: str) -> dict[str, ReportSpec]:
    file = read_toml(path, what="de rapportcatalogus")
    problems = _check_catalogue(file)
    if problems:
        raise ConfigError(file.path, problems, what="de rapportcatalogus")
    raw = file.data
    cat = load_catalogue()
    onderwerp = dict(raw.get("onderwerp", {}))
    out: dict[str, ReportSpec] = {}
    for rid, entry in raw["rapport"].items():
        secties = tuple(
            Section(
                id=s["id"],
                titel=s["titel"],
                indicatoren=tuple(s["indicatoren"]),
                trends=tuple(s.get("trends", ())),
            )
            for s in entry["sectie"]
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


def _check_catalogue(file: TomlFile) -> list[Problem]:
    """Return the problems of the catalogue's reports and sections, with their lines."""
    reports = file.data.get("rapport")
    if not isinstance(reports, dict) or not reports:
        return [(None, "geen enkel rapport; voeg een tabel [rapport.<naam>] toe.")]
    problems: list[Problem] = []
    for rid, entry in reports.items():
        header = file.line("rapport", rid)
        if not isinstance(entry, dict):
            problems.append((header, f"rapport.{rid} moet een tabel zijn."))
            continue
        problems += check_fields(
            entry,
            REPORT_FIELDS,
            where=f"rapport.{rid}",
            line_of=lambda key, rid=rid: file.line("rapport", rid, key),
            header=header,
        )
        sections = entry.get("sectie")
        for i, section in enumerate(sections if isinstance(sections, list) else []):
            where = f"rapport.{rid} sectie {i + 1}"
            if not isinstance(section, dict):
                problems.append((header, f"{where} moet een tabel zijn."))
                continue
            problems += check_fields(
                section,
                SECTION_FIELDS,
                where=where,
                line_of=lambda key, rid=rid, i=i: file.line("rapport", rid, "sectie", i, key),
                header=file.line("rapport", rid, "sectie", i),
            )
    return problems


def report_spec(rapport: str) -> ReportSpec:
    """Return one report of the catalogue by id (``talent``, ``aantrekkelijkheid``).

    Raises
    ------
    InputError
        For an unknown report; the message suggests the closest name and lists the known ones.
    """
    catalogue = load_report_catalogue()
    key = str(rapport).strip().lower()
    if key not in catalogue:
        raise InputError(
            f"Onbekend rapport {rapport!r}; kies uit: {', '.join(catalogue)} (of 'alle')."
            + suggest(key, catalogue)
        )
    return catalogue[key]
