"""The batch manifest (``reports.toml``): which reports, for which municipalities, how.

The reports come from the report catalogue (``westerkwartier/config/rapporten.toml``, the one
list of the reports the project makes); a manifest picks from it by name and may give them
another title, label or parameters. A report that is not in the catalogue needs its own
``notebook``. :func:`load_manifest` reads and checks a manifest with line-numbered Dutch errors;
:func:`select_municipalities` turns a selection (names, a province, all municipalities) into
CBS codes; :class:`Manifest` is what :func:`westerkwartier.pipeline.batch.run_batch` runs.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import string
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from westerkwartier.config import TomlLines, suggest
from westerkwartier.errors import InputError
from westerkwartier.reporting.report_catalogue import ReportSpec, load_report_catalogue

#: Optional notebook parameter that receives the data notice (empty when data are fresh).
NOTICE_PARAMETER = "gegevensmelding"


#: Notebook parameter that receives the data date when the manifest does not set it.
DATE_PARAMETER = "peildatum"


#: Notebook parameter with the partners' ambitions file (absolute path; empty: none).
AMBITIONS_PARAMETER = "ambities"


#: Notebook parameter that receives the municipality code.
MUNICIPALITY_PARAMETER = "gemeente"


#: Publication policies. ``per-rapport``: latest moves to every run that finished and produced
#: at least one good report; a failed report keeps its last good version in the new run.
#: ``alles-of-niets``: latest only moves when every report of the run succeeded.
POLICIES = ("per-rapport", "alles-of-niets")


#: Accepted types per key: one type or several.
KeyTypes = dict[str, type | tuple[type, ...]]


_RUN_KEYS: KeyTypes = {
    "uit": str,
    "workers": int,
    "tijdslimiet_rapport": (int, float),
    "tijdslimiet_run": (int, float),
    "tijdslimiet_cel": (int, float),
    "publiceren": str,
    "titel": str,
}


_SELECTION_KEYS: KeyTypes = {"gemeenten": list, "provincie": (str, list), "alle_gemeenten": bool}


_TOP_KEYS: KeyTypes = {"run": dict, "parameters": dict, "rapport": list, **_SELECTION_KEYS}


_REPORT_KEYS: KeyTypes = {
    "naam": str,
    "notebook": str,
    "titel": str,
    "label": str,
    "parameters": dict,
    "ambities": str,
    **_SELECTION_KEYS,
}


_TYPE_NL = {
    str: "tekst",
    int: "geheel getal",
    float: "getal",
    bool: "true of false",
    list: "lijst [..]",
    dict: "tabel [..]",
}


# ----------------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------------


class ManifestError(InputError):
    """A batch manifest is not valid; the message names the file, the line and the fix.

    Parameters
    ----------
    path : Path
        The manifest file.
    problems : sequence of (int or None, str)
        Line number (1-based; None when unknown) and the Dutch description with the fix.
    """

    def __init__(self, path: Path | str, problems: Sequence[tuple[int | None, str]]) -> None:
        self.path = Path(path)
        self.problems = list(problems)
        lines = [
            f"{self.path.name}, regel {line}: {text}" if line else f"{self.path.name}: {text}"
            for line, text in self.problems
        ]
        head = (
            f"Het manifest {self.path} is niet geldig"
            f" ({len(lines)} {'problemen' if len(lines) > 1 else 'probleem'}):"
        )
        super().__init__("\n".join([head, *(f"  - {line}" for line in lines)]))

    @property
    def lines(self) -> list[int | None]:
        """Line numbers of the problems, in order."""
        return [line for line, _ in self.problems]


# ----------------------------------------------------------------------------------------------
# Manifest
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ManifestEntry:
    """One report of a manifest: a report of the catalogue (or an own notebook), for whom, how.

    Attributes
    ----------
    name : str
        Short name, used as file name (``talent`` -> ``talent.html``).
    notebook : Path
        The notebook (absolute).
    title : str
        Page title; ``{gemeente}`` becomes the municipality name.
    label : str
        Name shown in the index (``Talent``).
    parameters : dict
        Parameters for every municipality (the manifest's ``[parameters]`` merged with the
        report's own).
    municipalities : tuple of str
        CBS codes of the municipalities this report is made for.
    """

    name: str
    notebook: Path
    title: str
    label: str
    parameters: Mapping[str, Any]
    municipalities: tuple[str, ...]
    position: int | None = None
    own_parameters: frozenset[str] = frozenset()

    def parameter_line(self, lines: TomlLines | None, name: str) -> int | None:
        """Line of parameter ``name`` in the manifest: the report's own or ``[parameters]``."""
        if lines is None:
            return None
        if name in self.own_parameters and self.position is not None:
            return lines.key("rapport", self.position, "parameters", name)
        return lines.key("parameters", name)


@dataclasses.dataclass(frozen=True)
class Manifest:
    """A validated batch manifest (see :func:`load_manifest`).

    Attributes
    ----------
    path : Path or None
        The file it was read from (None for :func:`default_manifest`).
    reports : tuple of ManifestEntry
        The reports, in manifest order.
    names : dict of str to str
        Municipality code -> name, for titles and the index.
    out_dir : Path
        Folder of the runs (``[run] uit``; default ``reports``).
    workers : int
        Default number of worker processes.
    report_timeout, run_timeout, cell_timeout : float
        Time limits in seconds.
    policy : str
        One of :data:`POLICIES`.
    title : str
        Title of the index page.
    lines : TomlLines or None
        Where each key is in the file (for line numbers in later checks).
    """

    path: Path | None
    reports: tuple[ManifestEntry, ...]
    names: Mapping[str, str]
    out_dir: Path = Path("reports")
    workers: int = 1
    report_timeout: float = 1800.0
    run_timeout: float = 6 * 3600.0
    cell_timeout: float = 600.0
    policy: str = "per-rapport"
    title: str = "Rapporten"
    lines: TomlLines | None = dataclasses.field(default=None, compare=False, repr=False)

    def jobs(self) -> list[tuple[ManifestEntry, str]]:
        """Return every (report, municipality code) pair of the run, municipality first."""
        codes = list(dict.fromkeys(c for r in self.reports for c in r.municipalities))
        return [(r, c) for c in codes for r in self.reports if c in r.municipalities]

    def with_selection(self, municipalities: Sequence[str]) -> Manifest:
        """Return a copy whose reports are made for ``municipalities`` (CBS codes) instead."""
        reports = tuple(
            dataclasses.replace(r, municipalities=tuple(municipalities)) for r in self.reports
        )
        return dataclasses.replace(self, reports=reports)

    def only(self, report_names: Sequence[str]) -> Manifest:
        """Return a copy with only the named reports (unknown names raise InputError)."""
        known = [r.name for r in self.reports]
        for name in report_names:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=2)
                hint = f" Bedoelde u {' of '.join(close)}?" if close else ""
                raise InputError(
                    f"Rapport {name!r} staat niet in het manifest.{hint} "
                    f"Rapporten in het manifest: {', '.join(known)}."
                )
        return dataclasses.replace(
            self, reports=tuple(r for r in self.reports if r.name in report_names)
        )


def _type_ok(value: Any, expected: type | tuple[type, ...]) -> bool:
    kinds = expected if isinstance(expected, tuple) else (expected,)
    if isinstance(value, bool):
        return bool in kinds
    return isinstance(value, kinds)


def _type_name(expected: type | tuple[type, ...]) -> str:
    kinds = expected if isinstance(expected, tuple) else (expected,)
    return " of ".join(dict.fromkeys(_TYPE_NL.get(k, k.__name__) for k in kinds))


@dataclasses.dataclass
class _Check:
    """What the steps of :func:`parse_manifest` share: the file, its lines, the problems."""

    path: Path
    lines: TomlLines
    registry: Any
    problems: list[tuple[int | None, str]] = dataclasses.field(default_factory=list)
    names: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def base(self) -> Path:
        """The manifest's folder: relative paths start here."""
        return self.path.resolve().parent

    def add(self, line: int | None, text: str) -> None:
        """Note a problem at ``line``."""
        self.problems.append((line, text))


def _check_keys(
    table: Mapping[str, Any],
    allowed: Mapping[str, type | tuple[type, ...]],
    where: str,
    path: tuple[Any, ...],
    check: _Check,
) -> None:
    for key, value in table.items():
        if key not in allowed:
            close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
            hint = f" Bedoelde u {close[0]!r}?" if close else ""
            check.add(
                check.lines.key(*path, key),
                f"onbekende sleutel {key!r} in {where}.{hint} Toegestaan: {', '.join(allowed)}.",
            )
        elif not _type_ok(value, allowed[key]):
            check.add(
                check.lines.key(*path, key),
                f"{key!r} in {where} moet {_type_name(allowed[key])} zijn, niet "
                f"{value!r}. Voorbeeld: {_example(key)}.",
            )


def _example(key: str) -> str:
    examples = {
        "uit": 'uit = "reports"',
        "workers": "workers = 2",
        "tijdslimiet_rapport": "tijdslimiet_rapport = 1800",
        "tijdslimiet_run": "tijdslimiet_run = 21600",
        "tijdslimiet_cel": "tijdslimiet_cel = 600",
        "publiceren": 'publiceren = "per-rapport"',
        "titel": 'titel = "Talent in {gemeente}"',
        "label": 'label = "Talent"',
        "naam": 'naam = "talent"',
        "notebook": 'notebook = "notebooks/mijn-rapport.ipynb"',
        "gemeenten": 'gemeenten = ["Westerkwartier", "GM0014"]',
        "provincie": 'provincie = "Groningen"',
        "alle_gemeenten": "alle_gemeenten = true",
        "parameters": "[parameters] met regels als jaar = 2023",
        "rapport": '[[rapport]] met naam = "talent"',
        "run": "[run] met workers = 2",
    }
    return examples.get(key, f"{key} = ...")


def _select(
    table: Mapping[str, Any], path: tuple[Any, ...], where: str, check: _Check
) -> list[str] | None:
    """Municipality codes chosen by ``gemeenten`` / ``provincie`` / ``alle_gemeenten``."""
    chosen = [k for k in _SELECTION_KEYS if k in table]
    if not chosen:
        return None
    if len(chosen) > 1:
        check.add(
            check.lines.key(*path, chosen[1]),
            f"kies in {where} één van gemeenten, provincie of alle_gemeenten, niet "
            f"{' en '.join(chosen)}.",
        )
        return None
    key = chosen[0]
    value = table[key]
    if not _type_ok(value, _SELECTION_KEYS[key]):
        return None  # reported by _check_keys
    return select_municipalities(
        check.registry,
        gemeenten=value if key == "gemeenten" else None,
        provincie=value if key == "provincie" else None,
        alle_gemeenten=bool(value) if key == "alle_gemeenten" else False,
        names=check.names,
        on_error=lambda text, bad: check.add(
            check.lines.value(str(bad), *path, key), f"{text} (in {where}.{key})"
        ),
    )


def _by_name(frame: Any) -> list[str]:
    """Return the codes of a registry frame in the order of their names.

    See :func:`westerkwartier.sources.regions.name_order`.
    """
    from westerkwartier.sources.regions import name_order

    pairs = sorted(zip(frame["name"], frame["code"], strict=True), key=lambda p: name_order(p[0]))
    return [str(code) for _, code in pairs]


def select_municipalities(
    registry: Any,
    *,
    gemeenten: Sequence[str] | None = None,
    provincie: str | Sequence[str] | None = None,
    alle_gemeenten: bool = False,
    names: dict[str, str] | None = None,
    on_error: Callable[[str, Any], None] | None = None,
) -> list[str]:
    """Turn names, codes, provinces or "all" into municipality codes of the current division.

    Parameters
    ----------
    registry : westerkwartier.sources.regions.Registry
        The region registry.
    gemeenten : sequence of str, optional
        Names or codes (any case, accents optional).
    provincie : str or sequence of str, optional
        Province name(s) or code(s): every municipality in them.
    alle_gemeenten : bool
        Every municipality (342 in the 2025 division).
    names : dict, optional
        Filled with code -> name.
    on_error : callable, optional
        Called with (message, offending value) instead of raising.

    Returns
    -------
    list of str
        Codes, without duplicates, in the order given; a province's municipalities and "all"
        by name, as CBS's alphabetical lists order them (the order of the index page).

    Raises
    ------
    westerkwartier.errors.InputError
        For an unknown or dissolved municipality or province (with suggestions), unless
        ``on_error`` is given.
    """
    from westerkwartier.errors import RegionNotFound

    names = {} if names is None else names
    codes: list[str] = []

    def fail(text: str, bad: Any) -> None:
        if on_error is None:
            raise InputError(text)
        on_error(text, bad)

    if alle_gemeenten:
        frame = registry.municipalities()
        names.update(zip(frame["code"], frame["name"], strict=True))
        return _by_name(frame)
    if provincie is not None:
        for prov in [provincie] if isinstance(provincie, str) else list(provincie):
            try:
                frame = registry.in_province(str(prov))
            except RegionNotFound as err:
                fail(
                    f"onbekende provincie {prov!r}. "
                    + (f"Bedoelde u: {', '.join(err.suggestions)}? " if err.suggestions else "")
                    + "Gebruik de naam (Groningen, Fryslân) of de code (PV20).",
                    prov,
                )
                continue
            names.update(zip(frame["code"], frame["name"], strict=True))
            codes.extend(_by_name(frame))
    for raw in gemeenten or []:
        if not isinstance(raw, str):
            fail(
                f"gemeente {raw!r} is geen tekst; schrijf de naam of code tussen aanhalingstekens",
                raw,
            )
            continue
        try:
            region = registry.resolve(raw)
        except RegionNotFound as err:
            fail(str(err).rstrip(".") + "", raw)
            continue
        if region.level != "gemeente":
            fix = (
                f"gebruik provincie = {region.name!r} voor al haar gemeenten"
                if region.level == "provincie"
                else "gebruik alle_gemeenten = true voor alle gemeenten van Nederland"
            )
            fail(f"{raw!r} is een {region.level}, geen gemeente; {fix}", raw)
            continue
        names[region.code] = region.name
        codes.append(region.code)
    return list(dict.fromkeys(codes))


def load_manifest(
    path: Path | str = "reports.toml",
    *,
    registry: Any = None,
    check_notebooks: bool = True,
    allow_outside_notebooks: bool = False,
) -> Manifest:
    """Read and validate a batch manifest.

    The manifest lists the reports (``[[rapport]]``), the municipalities (``gemeenten``,
    ``provincie`` or ``alle_gemeenten``, at the top or per report), parameters for every
    report (``[parameters]``, per report ``[rapport.parameters]``) and run settings
    (``[run]``). See ``reports.toml`` in the project folder for a commented example. Relative
    paths are taken from the manifest's folder.

    A manifest decides which notebooks run, and a notebook is a program that runs with the
    rights of whoever starts the batch. Notebooks outside the project's ``notebooks/`` folder
    are therefore refused unless ``allow_outside_notebooks`` (``--eigen-notebooks``) says the
    operator trusts them.

    Parameters
    ----------
    path : Path or str, default ``reports.toml``
        The manifest.
    registry : westerkwartier.sources.regions.Registry, optional
        Region registry; default the snapshot's.
    check_notebooks : bool, default True
        Also check that each notebook exists, is a notebook, declares ``gemeente``, and
        accepts the parameters (names and types, through ``papermill.inspect_notebook``).
    allow_outside_notebooks : bool, default False
        Accept ``notebook = ...`` outside the project's ``notebooks/`` folder.

    Returns
    -------
    Manifest

    Raises
    ------
    ManifestError
        With every problem found, each with its line number and the fix: a missing file, a
        folder, another encoding than UTF-8 (named), TOML syntax, unknown keys, wrong types,
        unknown report names, titles with unknown placeholders, unknown municipalities (with
        suggestions), notebooks that do not exist, are no notebook, lie outside
        ``notebooks/`` without permission or do not accept a parameter.
    """
    from westerkwartier.config import ConfigError, read_toml

    path = Path(path)
    try:
        file = read_toml(
            path,
            what="het manifest",
            missing_hint="Geef het pad met --manifest of kopieer reports.toml uit de projectmap.",
        )
    except ConfigError as err:
        raise ManifestError(path, err.problems) from None
    return parse_manifest(
        file.data,
        text=file.text,
        path=path,
        registry=registry,
        check_notebooks=check_notebooks,
        allow_outside_notebooks=allow_outside_notebooks,
    )


def parse_manifest(
    raw: Mapping[str, Any],
    *,
    text: str = "",
    path: Path | str = Path("reports.toml"),
    registry: Any = None,
    check_notebooks: bool = True,
    allow_outside_notebooks: bool = False,
) -> Manifest:
    """Validate a manifest already read with ``tomllib`` (see :func:`load_manifest`).

    The steps: the top-level keys, ``[run]`` (:func:`_parse_run`), the municipalities and
    ``[parameters]`` for every report, then each ``[[rapport]]`` (:func:`_parse_report`). Every
    problem is collected first; then they are raised together.

    Parameters
    ----------
    raw : mapping
        The parsed TOML.
    text : str, optional
        The TOML text, to give line numbers.
    path : Path, optional
        The file, for messages and to resolve relative paths.
    registry : westerkwartier.sources.regions.Registry, optional
        Region registry; default the snapshot's.
    check_notebooks, allow_outside_notebooks : bool
        See :func:`load_manifest`.

    Returns
    -------
    Manifest

    Raises
    ------
    ManifestError
        With every problem, line and fix.
    InputError
        When the report catalogue itself cannot be read.
    """
    from westerkwartier.sources.regions import load_registry

    check = _Check(
        path=Path(path),
        lines=TomlLines(text),
        registry=load_registry() if registry is None else registry,
    )
    _check_keys(raw, _TOP_KEYS, "het manifest", (), check)
    run = _parse_run(raw, check)
    common = raw.get("parameters", {}) if isinstance(raw.get("parameters"), dict) else {}
    shared = _Shared(
        catalogue=load_report_catalogue(),
        parameters=common,
        codes=_select(raw, (), "het manifest", check),
        check_notebooks=check_notebooks,
        allow_outside=allow_outside_notebooks,
    )
    reports = [
        report
        for index, entry in enumerate(_report_tables(raw, shared, check))
        if (report := _parse_report(entry, index, shared, check)) is not None
    ]
    if check.problems:
        raise ManifestError(check.path, check.problems)
    out = Path(run.get("uit", "reports"))
    return Manifest(
        path=check.path,
        reports=tuple(reports),
        names=check.names,
        out_dir=out if out.is_absolute() else check.base / out,
        workers=int(run.get("workers", 1)),
        report_timeout=float(run.get("tijdslimiet_rapport", 1800)),
        run_timeout=float(run.get("tijdslimiet_run", 6 * 3600)),
        cell_timeout=float(run.get("tijdslimiet_cel", 600)),
        policy=str(run.get("publiceren", POLICIES[0])),
        title=str(run.get("titel", "Rapporten")),
        lines=check.lines,
    )


@dataclasses.dataclass
class _Shared:
    """What every ``[[rapport]]`` of a manifest shares: the catalogue, parameters, selection."""

    catalogue: Mapping[str, ReportSpec]
    parameters: Mapping[str, Any]
    codes: list[str] | None
    check_notebooks: bool
    allow_outside: bool = False
    seen: set[str] = dataclasses.field(default_factory=set)


def _parse_run(raw: Mapping[str, Any], check: _Check) -> Mapping[str, Any]:
    """Check ``[run]``: keys, types, the publication policy and positive limits."""
    run = raw.get("run", {}) if isinstance(raw.get("run"), dict) else {}
    _check_keys(run, _RUN_KEYS, "[run]", ("run",), check)
    policy = run.get("publiceren", POLICIES[0])
    if isinstance(policy, str) and policy not in POLICIES:
        check.add(
            check.lines.key("run", "publiceren"),
            f"publiceren = {policy!r} is onbekend; kies {' of '.join(map(repr, POLICIES))}.",
        )
    for key in ("workers", "tijdslimiet_rapport", "tijdslimiet_run", "tijdslimiet_cel"):
        value = run.get(key)
        if (
            _type_ok(value, (int, float))
            and isinstance(value, int | float)
            and not (math.isfinite(value) and value > 0)
        ):
            check.add(
                check.lines.key("run", key),
                f"{key} moet een getal groter dan 0 zijn, niet {value}. Voorbeeld: "
                f"{_example(key)}.",
            )
    return run


def _report_tables(raw: Mapping[str, Any], shared: _Shared, check: _Check) -> list[Any]:
    """Return the ``[[rapport]]`` tables; without any, every report of the catalogue."""
    tables = raw.get("rapport")
    if tables is None:
        return [{"naam": name} for name in shared.catalogue]
    if isinstance(tables, list) and not tables:
        check.add(check.lines.key("rapport"), "de lijst [[rapport]] is leeg; noem minstens één.")
    return tables if isinstance(tables, list) else []


def _parse_report(entry: Any, index: int, shared: _Shared, check: _Check) -> ManifestEntry | None:
    """Check one ``[[rapport]]`` and return it (None when it has a problem)."""
    where = f"[[rapport]] nummer {index + 1}"
    here = ("rapport", index)
    if not isinstance(entry, dict):
        check.add(check.lines.key("rapport"), f"{where} moet een tabel zijn.")
        return None
    _check_keys(entry, _REPORT_KEYS, where, here, check)
    name = _report_name(entry, where, here, shared, check)
    notebook = _report_notebook(name, entry, here, shared, check) if name else None
    if name is None or notebook is None:
        return None
    spec = shared.catalogue.get(name)
    title = entry.get(
        "titel", spec.title_pattern if spec else f"{name.capitalize()} – {{gemeente}}"
    )
    label = entry.get("label", spec.titel if spec else name.capitalize())
    if isinstance(title, str):
        _check_title(title, "titel" in entry, where, here, check)
    own = entry.get("parameters", {}) if isinstance(entry.get("parameters"), dict) else {}
    if isinstance(entry.get("ambities"), str):
        own = {**own, AMBITIONS_PARAMETER: entry["ambities"]}
    parameters = {**shared.parameters, **own}
    if AMBITIONS_PARAMETER in parameters:
        places = [
            (*here, "ambities"),
            (*here, "parameters", AMBITIONS_PARAMETER),
            ("parameters", AMBITIONS_PARAMETER),
        ]
        line = next((check.lines.keys[k] for k in places if k in check.lines.keys), None)
        parameters[AMBITIONS_PARAMETER] = _ambitions_path(
            parameters[AMBITIONS_PARAMETER], line, where, check
        )
    codes = _select(entry, here, where, check)
    if codes is None:
        codes = shared.codes
    if codes is None:
        codes = select_municipalities(check.registry, gemeenten=["GM1969"], names=check.names)
    if shared.check_notebooks:
        _check_notebook(notebook, "notebook" in entry, parameters, own, where, here, check)
    if not (isinstance(title, str) and isinstance(label, str)):
        return None  # wrong type: reported by _check_keys
    return ManifestEntry(
        name=name,
        notebook=notebook.resolve(),
        title=title,
        label=label,
        parameters=parameters,
        municipalities=tuple(codes),
        position=index if _written(check, index) else None,
        own_parameters=frozenset(own),
    )


def _ambitions_path(value: Any, line: int | None, where: str, check: _Check) -> str:
    """Check the ambitions file of a report; return its absolute path (empty: none).

    A relative path starts at the manifest's folder, like every path of the manifest. The
    file is read and checked here, so a mistake in it stops the run before any report.
    """
    from westerkwartier.analysis.ambitions import AmbitionFileError, read_ambitions

    if not isinstance(value, str):
        check.add(line, f'{where}: ambities moet tekst zijn, bijv. ambities = "ambities.toml".')
        return ""
    if not value.strip():
        return ""
    path = Path(value.strip()).expanduser()
    path = path if path.is_absolute() else check.base / path
    try:
        read_ambitions(path)
    except AmbitionFileError as err:
        check.add(line, f"{where}: ambities: {err}")
    return str(path)


def _written(check: _Check, index: int) -> bool:
    """Whether ``[[rapport]]`` number ``index`` is written in the file (not implied)."""
    return check.lines.key("rapport", index) is not None


#: Placeholders a title may use: ``{gemeente}`` (name) and ``{code}`` (CBS code).
TITLE_FIELDS = ("gemeente", "code")


def _check_title(
    title: str, written: bool, where: str, here: tuple[Any, ...], check: _Check
) -> None:
    """Check that a title uses only ``{gemeente}`` and ``{code}`` (other braces doubled)."""
    line = check.lines.key(*here, "titel") if written else check.lines.key(*here, "naam")
    try:
        fields = [
            (name, spec, conversion)
            for _, name, spec, conversion in string.Formatter().parse(title)
            if name is not None
        ]
    except ValueError as err:
        check.add(
            line,
            f"titel {title!r} van {where} is geen geldig patroon ({err}). Gebruik {{gemeente}} "
            "of {code} voor de gemeente; schrijf een losse accolade dubbel: {{ of }}.",
        )
        return
    for name, spec, conversion in fields:
        if name not in TITLE_FIELDS or spec or conversion:
            shown = (
                "{"
                + name
                + (f"!{conversion}" if conversion else "")
                + (f":{spec}" if spec else "")
                + "}"
            )
            hint = suggest(name, TITLE_FIELDS) if name not in TITLE_FIELDS else ""
            check.add(
                line,
                f"titel {title!r} van {where} gebruikt {shown}.{hint} Een titel kent alleen "
                "{gemeente} (de naam) en {code} (de CBS-code).",
            )


def _report_name(
    entry: Mapping[str, Any], where: str, here: tuple[Any, ...], shared: _Shared, check: _Check
) -> str | None:
    """Return the ``naam``: present, usable as a file name, not twice in the manifest."""
    name = entry.get("naam")
    if not isinstance(name, str) or not name.strip():
        check.add(check.lines.key(*here), f'{where} heeft geen naam; voeg toe: naam = "talent".')
        return None
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        check.add(
            check.lines.key(*here, "naam"),
            f"rapportnaam {name!r} wordt een bestandsnaam: gebruik alleen letters, cijfers, "
            "- en _.",
        )
        return None
    if name in shared.seen:
        check.add(
            check.lines.key(*here, "naam"), f"rapport {name!r} staat twee keer in het manifest."
        )
        return None
    shared.seen.add(name)
    return name


def _report_notebook(
    name: str, entry: Mapping[str, Any], here: tuple[Any, ...], shared: _Shared, check: _Check
) -> Path | None:
    """Return the notebook of a report: the catalogue's, or its own ``notebook``.

    A name of the catalogue keeps the catalogue's notebook (naming the same file again is
    allowed); any other name needs its own notebook. An unknown name without one is a problem
    with a suggestion: there is no silent fallback.
    """
    given = entry.get("notebook")
    if given is not None and not isinstance(given, str):
        return None  # wrong type: reported by _check_keys
    own = None
    if given is not None:
        own = Path(given) if Path(given).is_absolute() else check.base / given
    if own is not None and not shared.allow_outside and not _inside_notebooks(own):
        check.add(
            check.lines.key(*here, "notebook"),
            f"notebook {given!r} ligt buiten de map notebooks/ van het project. Een notebook is "
            "een programma dat draait met de rechten van wie de batch start; notebooks van "
            "elders draaien alleen als u dat uitdrukkelijk toestaat: --eigen-notebooks "
            "(in Python: allow_outside_notebooks=True). Of zet het notebook in notebooks/.",
        )
        return None
    spec = shared.catalogue.get(name)
    if spec is None:
        if own is None:
            hint = suggest(name, shared.catalogue, cutoff=0.5)
            check.add(
                check.lines.key(*here, "naam"),
                f"onbekend rapport {name!r}.{hint} Rapporten in de "
                f"rapportcatalogus (westerkwartier/config/rapporten.toml): "
                f"{', '.join(shared.catalogue)}; of geef een eigen notebook met "
                'notebook = "pad/naar/notebook.ipynb".',
            )
        return own
    if own is not None and own.resolve() != spec.notebook_path.resolve():
        check.add(
            check.lines.key(*here, "notebook"),
            f"rapport {name!r} staat in de rapportcatalogus met notebook "
            f"notebooks/{spec.notebook}; laat notebook weg, of geef een eigen notebook een "
            f'eigen naam (naam = "{name}-eigen").',
        )
        return None
    return spec.notebook_path


def _inside_notebooks(path: Path) -> bool:
    """Whether ``path`` lies in the project's ``notebooks/`` folder (links followed)."""
    from westerkwartier.reporting.report_catalogue import NOTEBOOKS_DIR

    return Path(path).resolve().is_relative_to(Path(NOTEBOOKS_DIR).resolve())


def _check_notebook(
    notebook: Path,
    own_notebook: bool,
    parameters: Mapping[str, Any],
    own: Mapping[str, Any],
    where: str,
    here: tuple[Any, ...],
    check: _Check,
) -> None:
    from westerkwartier.errors import ParameterError
    from westerkwartier.pipeline import notebook as runner

    if not notebook.is_file():
        check.add(
            check.lines.key(*here, "notebook") if own_notebook else check.lines.key(*here, "naam"),
            f"notebook {notebook} van {where} bestaat niet. Controleer het pad (relatief "
            "aan de map van het manifest).",
        )
        return
    try:
        declared = runner.notebook_parameters(notebook)
    except ParameterError as err:
        check.add(
            check.lines.key(*here, "notebook") if own_notebook else check.lines.key(*here, "naam"),
            f"{where}: {err}",
        )
        return
    if MUNICIPALITY_PARAMETER not in declared:
        check.add(
            check.lines.key(*here, "naam"),
            f"notebook {notebook.name} heeft geen parameter {MUNICIPALITY_PARAMETER!r}; "
            'de batch geeft elke gemeente door als gemeente = "GM....". Voeg in de '
            "cel met tag 'parameters' toe: gemeente: str = \"GM1969\"  # CBS-code of naam.",
        )
    if MUNICIPALITY_PARAMETER in parameters:
        section = (
            ("rapport", here[1], "parameters") if MUNICIPALITY_PARAMETER in own else ("parameters",)
        )
        check.add(
            check.lines.key(*section, MUNICIPALITY_PARAMETER),
            "zet gemeente niet bij de parameters; kies gemeenten met gemeenten = [..], "
            'provincie = ".." of alle_gemeenten = true.',
        )
    for name, value in parameters.items():
        if name == MUNICIPALITY_PARAMETER:
            continue
        section = ("rapport", here[1], "parameters") if name in own else ("parameters",)
        try:
            runner.validate_parameters(notebook, {name: value}, declared)
        except ParameterError as err:
            check.add(check.lines.key(*section, name), f"{where}: {err}")


def check_values(manifest: Manifest, data_date: str, *, registry: Any = None) -> None:
    """Check the values of the parameters the reports check themselves, before any kernel.

    The project's notebooks refuse a bad ``peildatum``, a ``jaar`` after the report date or
    before the monitor's first year, and an unknown or dissolved municipality in
    ``vergelijk``; such a manifest would pass every other check and fail report after report
    at render time. These names have the same meaning in every notebook the batch runs, so
    they are checked here with the same rules (and the same messages) as in the reports.

    Parameters
    ----------
    manifest : Manifest
        A loaded manifest.
    data_date : str
        The date the run gives a notebook as ``peildatum`` when the manifest does not
        (``YYYY-MM-DD``; the data date of the run).
    registry : Registry, optional
        Region registry; default the snapshot's.

    Raises
    ------
    ManifestError
        With every problem and its line.
    """
    from westerkwartier.reporting.report_data import parse_jaar, parse_peildatum
    from westerkwartier.sources.regions import load_registry

    registry = load_registry() if registry is None else registry
    lines = manifest.lines
    problems: list[tuple[int | None, str]] = []
    seen: set[tuple[int | None, str]] = set()

    def add(line: int | None, text: str) -> None:
        if (line, text) not in seen:
            seen.add((line, text))
            problems.append((line, text))

    for spec in manifest.reports:
        params = dict(spec.parameters)
        where = f"rapport {spec.name!r}"
        date = None
        if DATE_PARAMETER in params:
            try:
                date = parse_peildatum(params[DATE_PARAMETER])
            except InputError as err:
                add(spec.parameter_line(lines, DATE_PARAMETER), f"{where}: {err}")
        if date is None:
            try:
                date = parse_peildatum(data_date)
            except InputError:
                import datetime as dt

                date = dt.date.today()
        if "jaar" in params:
            try:
                parse_jaar(params["jaar"], date)
            except InputError as err:
                add(spec.parameter_line(lines, "jaar"), f"{where}: {err}")
        if "vergelijk" in params:
            _check_comparison(spec, params["vergelijk"], registry, lines, where, add)
    if problems:
        raise ManifestError(manifest.path or Path("reports.toml"), problems)


def _check_comparison(
    spec: ManifestEntry,
    value: Any,
    registry: Any,
    lines: TomlLines | None,
    where: str,
    add: Callable[[int | None, str], None],
) -> None:
    """``vergelijk``: a list of municipalities that exist now."""
    line = spec.parameter_line(lines, "vergelijk")
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        add(line, f'{where}: vergelijk moet een lijst van gemeenten zijn, bijv. ["Noordenveld"].')
        return
    for item in items:
        here = line
        if lines is not None and line is not None:
            here = lines.value(str(item), *_param_path(spec, lines, "vergelijk")) or line
        try:
            registry.municipality(str(item))
        except InputError as err:  # unknown, dissolved, or not a municipality
            add(here, f"{where}: vergelijk: {err}")


def _param_path(spec: ManifestEntry, lines: TomlLines, name: str) -> tuple[Any, ...]:
    if name in spec.own_parameters and spec.position is not None:
        return ("rapport", spec.position, "parameters", name)
    return ("parameters", name)


def default_manifest(registry: Any = None) -> Manifest:
    """Return the manifest used without a ``reports.toml``: every report for Westerkwartier."""
    return parse_manifest({}, path=Path.cwd() / "reports.toml", registry=registry)
