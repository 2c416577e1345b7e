"""Region registry: Dutch municipalities, provinces and the country, with their codes.

The registry is built from the CBS tables "Gebieden in Nederland" (one per regional division,
2019-2025) and the ``RegioS`` code list of table 03759ned (current and dissolved municipalities
with the history of every merger in their descriptions). The snapshot builder stores the result
of :func:`build_registry` as ``regions.parquet``; analysts and reports use :func:`load_registry`.

Examples
--------
>>> from westerkwartier.sources.regions import load_registry
>>> registry = load_registry()
>>> registry.resolve("westerkwartier").code
'GM1969'
"""

from __future__ import annotations

import difflib
import itertools
import json
import logging
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from westerkwartier import settings
from westerkwartier.config import ConfigError, config_file, read_toml
from westerkwartier.errors import (
    ExportFormatError,
    InputError,
    RegionDissolved,
    RegionNotFound,
    SnapshotMissing,
)
from westerkwartier.sources.periods import dutch_date

log = logging.getLogger(__name__)

#: CBS code of Nederland, the country as a region.
COUNTRY = "NL01"

#: "Gebieden in Nederland" table per regional division (1 January of the year).
GEBIEDEN_TABLES: dict[int, str] = {
    2019: "84378NED",
    2020: "84721NED",
    2021: "84929NED",
    2022: "85067NED",
    2023: "85385NED",
    2024: "85755NED",
    2025: "86059NED",
}

#: The division the registry describes (the latest Gebieden table in the mirror).
CURRENT_DIVISION: int = max(GEBIEDEN_TABLES)

#: Region types by code prefix, as used in "Gebieden in Nederland" and the RegioS code lists.
#: Columns of those tables are identified by the prefix of their codes, never by the numeric
#: suffix of the column name (which shifts between table versions).
REGION_TYPES: dict[str, str] = {
    "NL": "land",
    "LD": "landsdeel",
    "PV": "provincie",
    "GM": "gemeente",
    "CR": "COROP-gebied",
    "CS": "COROP-subgebied",
    "CP": "COROP-plusgebied",
    "AM": "arbeidsmarktregio",
    "GG": "GGD-regio",
    "MC": "RMC-regio",
    "JZ": "jeugdzorgregio",
    "VR": "veiligheidsregio",
    "ZK": "zorgkantoorregio",
    "RE": "RES-regio",
}

#: Columns of the registry frame, in order.
REGISTRY_COLUMNS: list[str] = [
    "code",
    "name",
    "title",
    "level",
    "province_code",
    "province_name",
    "corop_code",
    "corop_name",
    "ggd_code",
    "ggd_name",
    "labour_market_code",
    "labour_market_name",
    "population",
    "dissolved_in",
    "successor_code",
    "successor_codes",
    "note",
    "dissolved_on",
    "change",
]

#: Columns a registry written by an older version may lack (read as empty: such a registry
#: does not tell a name change from a merger, and gives 1 January of ``dissolved_in``).
_LATER_COLUMNS: tuple[str, ...] = ("dissolved_on", "change")

#: What happened to a code that is no longer current (column ``change``).
RENAMED = "naamswijziging"
DISSOLVED = "opheffing"

# prefix in Gebieden in Nederland -> column stem in the registry
_LINKED = {"PV": "province", "CR": "corop", "GG": "ggd", "AM": "labour_market"}
_CODE = re.compile(r"^[A-Z]{2}\d+$")
_DISSOLVED = re.compile(
    r"Opgeheven per (\d{2})-(\d{2})-(\d{4}), overgegaan naar:(?P<body>.*?)(?:\r?\n\s*\r?\n|$)",
    re.S,
)
_SUCCESSOR = re.compile(r"-\s*(?P<name>[^\r\n]*?)\s*\((?P<code>GM\d{4})\),?\s*(?P<rest>[^-]*)")
_INHABITANTS = re.compile(r"(\d+)\s+inwoners?")
_RENAMED = re.compile(
    r"Naamswijziging per (\d{2})-(\d{2})-(\d{4}),\s*nieuwe naam:\s*(?P<name>[^\r\n]*?)\s*"
    r"\((?P<code>GM\d{4})\)"
)
_HERINDELINGEN = config_file("herindelingen.toml")
_BIJNAMEN = config_file("bijnamen.toml")


# -- reading the mirror ---------------------------------------------------------------------
def _read_semicolon_csv(path: Path) -> pd.DataFrame:
    """Read a ``;``-separated CBS CSV (UTF-8 with BOM) as strings, whitespace stripped."""
    if not path.is_file():
        raise ExportFormatError(
            f"Bestand {path} ontbreekt. Controleer het pad naar de CBS-mirror "
            "(instelling WESTERKWARTIER_MIRROR)."
        )
    frame = pd.read_csv(path, sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    return frame.apply(lambda col: col.str.strip())


def read_gebieden(path: Path) -> pd.DataFrame:
    """Read one "Gebieden in Nederland" export into a frame with one row per municipality.

    Parameters
    ----------
    path : Path
        A ``tables/<ID>.csv`` file of a Gebieden in Nederland table (e.g. 86059NED).

    Returns
    -------
    pandas.DataFrame
        Columns ``title`` (the ``RegioS`` title, e.g. ``Groningen (gemeente)``), ``code``
        (``GM....``, padding stripped), ``name`` (plain name, e.g. ``Groningen``),
        ``population`` (``Inwonertal``, may be missing), and for every region type found a
        ``<PREFIX>_code`` and ``<PREFIX>_name`` column (``PV_code``, ``PV_name``, ``GG_code``,
        ...). Region types are recognised by the prefix of their codes.

    Raises
    ------
    ExportFormatError
        If the file has no ``RegioS`` column or no column with ``GM`` codes.
    """
    raw = _read_semicolon_csv(Path(path))
    if "RegioS" not in raw.columns:
        raise ExportFormatError(
            f"{path} is geen Gebieden-in-Nederland-tabel: kolom RegioS ontbreekt."
        )
    columns = list(raw.columns)
    out = pd.DataFrame({"title": raw["RegioS"]})
    found: dict[str, tuple[str, str | None]] = {}
    for i, col in enumerate(columns):
        if not col.startswith("Code_"):
            continue
        values = raw[col][raw[col].str.match(_CODE.pattern)]
        if values.empty:
            continue  # an empty region type (all ".") or a numeric class code
        prefix = values.str[:2].mode().iloc[0]
        if prefix in found:
            continue  # keep the first column of a region type
        name_col = columns[i + 1] if i + 1 < len(columns) else None
        if name_col is not None and name_col.startswith("Code_"):
            name_col = None
        found[prefix] = (col, name_col)
    if "GM" not in found:
        raise ExportFormatError(f"{path}: geen kolom met gemeentecodes (GM....) gevonden.")
    for prefix, (code_col, name_col) in found.items():
        codes = raw[code_col].where(raw[code_col].str.match(_CODE.pattern))
        out[f"{prefix}_code"] = codes
        if name_col is not None:
            out[f"{prefix}_name"] = raw[name_col].where(codes.notna())
    out["code"] = out.pop("GM_code")
    out["name"] = out.pop("GM_name") if "GM_name" in out else out["title"]
    population = [c for c in columns if re.sub(r"_\d+$", "", c) == "Inwonertal"]
    if population:
        out["population"] = pd.to_numeric(raw[population[0]], errors="coerce").astype("Int64")
    else:
        out["population"] = pd.Series(pd.NA, index=out.index, dtype="Int64")
    return out


def read_regios_codes(path: Path) -> pd.DataFrame:
    """Read an OData v4 ``codes-RegioS.json`` (e.g. of 03759ned).

    Returns
    -------
    pandas.DataFrame
        Columns ``code``, ``title``, ``description``, in the order of the file.
    """
    path = Path(path)
    if not path.is_file():
        raise ExportFormatError(
            f"Codelijst {path} ontbreekt. Controleer het pad naar de CBS-mirror."
        )
    with path.open(encoding="utf-8") as fh:
        payload = json.load(fh)
    rows = payload["value"] if isinstance(payload, dict) else payload
    return pd.DataFrame(
        {
            "code": [str(r["Identifier"]).strip() for r in rows],
            "title": [str(r.get("Title") or "").strip() for r in rows],
            "description": [str(r.get("Description") or "") for r in rows],
        }
    )


def parse_dissolution(description: str) -> tuple[int, list[tuple[str, str, int | None]]] | None:
    r"""Parse ``Opgeheven per 01-01-2019, overgegaan naar: ...`` from a RegioS description.

    A name change (``Naamswijziging per 01-01-2009, nieuwe naam: Dantumadiel (GM1891)``) counts
    as a dissolution into the renamed municipality.

    Returns
    -------
    tuple or None
        ``(year, [(successor_code, successor_name, inhabitants), ...])`` with successors ordered
        by the number of inhabitants that moved (largest first), or ``None`` if the description
        does not say the municipality was dissolved.

    Examples
    --------
    >>> parse_dissolution(
    ...     "Opgeheven per 01-01-2019, overgegaan naar:\r\n- Westerkwartier (GM1969),\r\n"
    ...     "... 8670 hectare met 5045 woningen en 12191 inwoners\r\n"
    ... )
    (2019, [('GM1969', 'Westerkwartier', 12191)])
    """
    m = _DISSOLVED.search(description)
    if not m:
        renamed = _RENAMED.search(description)
        if renamed:
            return int(renamed.group(3)), [(renamed.group("code"), renamed.group("name"), None)]
        return None
    year = int(m.group(3))
    successors = []
    for s in _SUCCESSOR.finditer(m.group("body")):
        inh = _INHABITANTS.search(s.group("rest"))
        successors.append((s.group("code"), s.group("name"), int(inh.group(1)) if inh else None))
    successors.sort(key=lambda t: -(t[2] or 0))
    return year, successors


def parse_change(description: str) -> tuple[str, str] | None:
    r"""Return the date (ISO) and kind of the change that ended a municipality's code, if any.

    Returns
    -------
    tuple of (str, str) or None
        ``(date, kind)``, kind :data:`DISSOLVED` (``Opgeheven per ...``) or :data:`RENAMED`
        (``Naamswijziging per ..., nieuwe naam: ...``: the same municipality under a new name
        and code); ``None`` if the description names neither.

    Examples
    --------
    >>> parse_change("Naamswijziging per 01-07-2015,\r\nnieuwe naam: De Fryske Marren (GM1940)")
    ('2015-07-01', 'naamswijziging')
    >>> parse_change("Gemeentelijke herindeling per 01-01-1997, ontvangen van: ...") is None
    True
    """
    for pattern, kind in ((_DISSOLVED, DISSOLVED), (_RENAMED, RENAMED)):
        m = pattern.search(description)
        if m:
            day, month, year = m.group(1), m.group(2), m.group(3)
            return f"{year}-{month}-{day}", kind
    return None


@lru_cache(maxsize=2)
def load_aliases(path: Path = _BIJNAMEN) -> dict[str, tuple[str, str]]:
    """Everyday names of regions that are not CBS's name (``Den Haag``).

    Read from ``config/bijnamen.toml``; :meth:`Registry.resolve` tries them after CBS's names.

    Returns
    -------
    dict of str to (str, str)
        Normalised name -> (the name as written in the file, CBS code).

    Raises
    ------
    ConfigError
        The file is unreadable, or a value is not a CBS code (the line is named).
    """
    toml = read_toml(path, what="het bestand met bijnamen")
    aliases: dict[str, tuple[str, str]] = {}
    problems: list[tuple[int | None, str]] = []
    for name, code in toml.data.get("bijnamen", {}).items():
        if not isinstance(code, str) or not re.fullmatch(r"(GM\d{4}|PV\d{2}|NL\d{2})", code):
            line = toml.line("bijnamen", name)
            problems.append((line, f"{name!r} = {code!r} is geen CBS-code (GM0518, PV21)."))
            continue
        aliases[normalise(name)] = (name, code)
    if problems:
        raise ConfigError(toml.path, problems, what="het bestand met bijnamen")
    return aliases


def _load_herindelingen(path: Path = _HERINDELINGEN) -> dict[str, dict[str, Any]]:
    return read_toml(path, what="het herindelingenbestand").data.get("opgeheven", {})


def _apply_override(row: dict[str, Any], extra: dict[str, Any]) -> None:
    """Let an entry of ``config/herindelingen.toml`` complete or overrule a registry row."""
    row["name"] = extra.get("naam", row.get("name"))
    row["title"] = row.get("title") or row["name"]
    if "jaar" in extra:
        row["dissolved_in"] = int(extra["jaar"])
        if not str(row.get("dissolved_on") or "").startswith(str(extra["jaar"])):
            row["dissolved_on"] = f"{int(extra['jaar'])}-01-01"
        row.setdefault("change", DISSOLVED)
    if "opvolger" in extra:
        row["successor_code"] = extra["opvolger"]
    if "opvolgers" in extra:
        row["successor_codes"] = ";".join(extra["opvolgers"])
    elif "opvolger" in extra and not row.get("successor_codes"):
        row["successor_codes"] = extra["opvolger"]
    if "toelichting" in extra:
        row["note"] = extra["toelichting"]


def build_registry(mirror: Path | None = None) -> pd.DataFrame:
    """Build the region registry from the CBS mirror.

    Parameters
    ----------
    mirror : Path, optional
        The CBS mirror folder (default :data:`settings.mirror_dir`).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`REGISTRY_COLUMNS`. One row per municipality of the current division
        (level ``gemeente``, from Gebieden in Nederland 2025), per province (``provincie``,
        population = sum of its municipalities), for Nederland (``NL01``, ``land``) and per
        dissolved municipality (``opgeheven``) with ``dissolved_in`` (year), ``successor_code``
        (the municipality that received most inhabitants), ``successor_codes`` (all
        receiving municipalities, ``;``-separated, largest first), ``dissolved_on`` (CBS's date,
        ISO) and ``change`` (:data:`DISSOLVED`, or :data:`RENAMED` for a new name and code).
        Sorted by level, then code.
    """
    mirror = Path(mirror if mirror is not None else settings.mirror_dir)
    table = GEBIEDEN_TABLES[CURRENT_DIVISION]
    gm = read_gebieden(mirror / "tables" / f"{table}.csv")
    rows: list[dict[str, Any]] = []
    for rec in gm.to_dict("records"):
        row: dict[str, Any] = {
            "code": rec["code"],
            "name": rec["name"],
            "title": rec["title"],
            "level": "gemeente",
            "population": rec["population"],
        }
        for prefix, stem_ in _LINKED.items():
            row[f"{stem_}_code"] = rec.get(f"{prefix}_code")
            row[f"{stem_}_name"] = rec.get(f"{prefix}_name")
        rows.append(row)

    provinces = (
        gm.groupby(["PV_code", "PV_name"], as_index=False)["population"]
        .sum()
        .sort_values("PV_code")
    )
    for rec in provinces.to_dict("records"):
        rows.append(
            {
                "code": rec["PV_code"],
                "name": rec["PV_name"],
                "title": f"{rec['PV_name']} (PV)",
                "level": "provincie",
                "population": rec["population"],
            }
        )
    rows.append(
        {
            "code": COUNTRY,
            "name": "Nederland",
            "title": "Nederland",
            "level": "land",
            "population": gm["population"].sum(),
        }
    )

    current = set(gm["code"])
    codes = read_regios_codes(mirror / "odata-v4" / "03759ned" / "codes-RegioS.json")
    overrides = _load_herindelingen()
    for rec in codes.to_dict("records"):
        code = rec["code"]
        if not code.startswith("GM") or code in current:
            continue
        parsed = parse_dissolution(rec["description"])
        row = {"code": code, "name": rec["title"], "title": rec["title"], "level": "opgeheven"}
        change = parse_change(rec["description"])
        if change:
            row["dissolved_on"], row["change"] = change
        if parsed:
            year, successors = parsed
            row["dissolved_in"] = year
            row["successor_codes"] = ";".join(c for c, _, _ in successors)
            row["successor_code"] = successors[0][0] if successors else None
        rows.append(row)
    for code, extra in overrides.items():
        match = [r for r in rows if r["code"] == code]
        row = match[0] if match else {"code": code, "level": "opgeheven"}
        if not match:
            rows.append(row)
        _apply_override(row, extra)

    frame = pd.DataFrame(rows).reindex(columns=REGISTRY_COLUMNS)
    frame["population"] = pd.to_numeric(frame["population"]).astype("Int64")
    frame["dissolved_in"] = pd.to_numeric(frame["dissolved_in"]).astype("Int64")
    for col in REGISTRY_COLUMNS:
        if col not in ("population", "dissolved_in"):
            frame[col] = frame[col].astype("string")
    order = {"land": 0, "provincie": 1, "gemeente": 2, "opgeheven": 3}
    frame = frame.sort_values(
        ["level", "code"], key=lambda s: s.map(order) if s.name == "level" else s
    )
    return frame.reset_index(drop=True)


#: Columns of the divisions frame (:func:`build_divisions`).
DIVISION_COLUMNS: list[str] = ["year", "code", "province_code"]


def build_divisions(mirror: Path | None = None) -> pd.DataFrame:
    """Return the municipal division of every year with a Gebieden in Nederland table.

    Parameters
    ----------
    mirror : Path, optional
        The CBS mirror folder (default :data:`settings.mirror_dir`).

    Returns
    -------
    pandas.DataFrame
        :data:`DIVISION_COLUMNS`: one row per municipality that existed on 1 January of
        ``year`` (2019 onwards), with the province it lay in. Years whose table is not in the
        mirror are left out. A province or Nederland can be summed from its municipalities
        only for the years listed here, because only then is it known which municipalities
        make up the whole.
    """
    mirror = Path(mirror if mirror is not None else settings.mirror_dir)
    parts = []
    for year, table in sorted(GEBIEDEN_TABLES.items()):
        path = mirror / "tables" / f"{table}.csv"
        if not path.is_file():
            continue
        gm = read_gebieden(path)
        parts.append(
            pd.DataFrame(
                {
                    "year": year,
                    "code": gm["code"].astype(str),
                    "province_code": gm["PV_code"].astype(str),
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=DIVISION_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    out = out[out["code"].str.match(r"^GM\d{4}$")]
    out["year"] = out["year"].astype("int64")
    return out.sort_values(["year", "code"]).reset_index(drop=True)[DIVISION_COLUMNS]


def load_divisions(path: Path | str | None = None) -> pd.DataFrame | None:
    """Load the divisions per year from the offline snapshot (``indelingen.parquet``).

    Returns
    -------
    pandas.DataFrame or None
        :data:`DIVISION_COLUMNS`, or None when the snapshot has no such file (built by an
        older version): provinces are then never summed from municipalities.
    """
    target = Path(path) if path is not None else Path(settings.snapshot_dir) / "indelingen.parquet"
    return _load_divisions_cached(str(target.resolve()))


@lru_cache(maxsize=4)
def _load_divisions_cached(path: str) -> pd.DataFrame | None:
    file = Path(path)
    if not file.is_file():
        return None
    try:
        return pd.read_parquet(file)
    except (OSError, ValueError) as err:
        from westerkwartier.errors import DataIntegrityError

        raise DataIntegrityError(
            f"{file.name} in {file.parent.name}/ is beschadigd ({type(err).__name__}). Haal de "
            "snapshot opnieuw op uit git of bouw hem met `westerkwartier snapshot`."
        ) from err


# -- the registry ---------------------------------------------------------------------------
def normalise(text: str) -> str:
    """Normalise a region name for matching: no accents, lower case, words only.

    Examples
    --------
    >>> normalise("Súdwest-Fryslân")
    'sudwest fryslan'
    """
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


def name_order(name: str) -> str:
    """Sort key of a Dutch municipality's name, as CBS's alphabetical lists order them.

    ``'s-Gravenhage`` files under G and ``'s-Hertogenbosch`` under H; accents and case do
    not count.

    Examples
    --------
    >>> sorted(["Súdwest-Fryslân", "'s-Gravenhage", "Zwolle", "Goes", "Sluis"], key=name_order)
    ['Goes', "'s-Gravenhage", 'Sluis', 'Súdwest-Fryslân', 'Zwolle']
    """
    return normalise(re.sub(r"^'[st][- ]", "", str(name).strip()))


@dataclass(frozen=True)
class Region:
    """One region of the registry.

    Attributes
    ----------
    code : str
        CBS code (``GM1969``, ``PV20``, ``NL01``).
    name : str
        Plain name (``Westerkwartier``, ``Groningen``).
    level : str
        ``gemeente``, ``provincie``, ``land`` or ``opgeheven``.
    title : str
        The CBS title (``Groningen (gemeente)``, ``Groningen (PV)``).
    province, corop, ggd, labour_market : str or None
        Codes of the province, COROP area, GGD region and labour-market region
        (arbeidsmarktregio) of a municipality.
    province_name, corop_name, ggd_name, labour_market_name : str or None
        Their names.
    population : int or None
        Inhabitants (``Inwonertal`` of Gebieden in Nederland).
    """

    code: str
    name: str
    level: str
    title: str | None = None
    province: str | None = None
    province_name: str | None = None
    corop: str | None = None
    corop_name: str | None = None
    ggd: str | None = None
    ggd_name: str | None = None
    labour_market: str | None = None
    labour_market_name: str | None = None
    population: int | None = None


def _clean(value: Any) -> Any:
    return None if value is None or pd.isna(value) else value


class Registry:
    """Look up Dutch regions by code or name.

    Parameters
    ----------
    frame : pandas.DataFrame
        Output of :func:`build_registry` (or the ``regions.parquet`` of the snapshot).

    Examples
    --------
    >>> registry = Registry(load_registry().frame)  # the snapshot's; or build_registry(mirror)
    >>> registry.resolve("sudwest fryslan").code
    'GM1900'
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        absent = [c for c in _LATER_COLUMNS if c not in frame.columns]
        frame = frame.assign(
            **{c: pd.Series(pd.NA, index=frame.index, dtype="string") for c in absent}
        )
        missing = set(REGISTRY_COLUMNS) - set(frame.columns)
        if missing:
            raise ExportFormatError(
                f"Het regioregister mist kolommen {sorted(missing)}. Bouw de snapshot opnieuw "
                "met `westerkwartier snapshot --mirror PAD`."
            )
        self.frame = frame.reset_index(drop=True)
        self._by_code = {str(c): i for i, c in enumerate(self.frame["code"])}
        self._names: dict[str, dict[str, list[int]]] = {lvl: {} for lvl in order_levels()}
        columns = (self.frame[c].tolist() for c in ("level", "name", "title"))
        for i, (level, *texts) in enumerate(zip(*columns, strict=True)):
            for text in texts:
                if isinstance(text, str):
                    positions = self._names.setdefault(str(level), {}).setdefault(
                        normalise(text), []
                    )
                    if i not in positions:
                        positions.append(i)

    def __len__(self) -> int:
        return len(self.frame)

    def __repr__(self) -> str:
        return (
            f"Registry({len(self.municipalities())} gemeenten, {len(self.provinces())} provincies)"
        )

    # -- lookups ---------------------------------------------------------------------------
    def _region(self, i: int) -> Region:
        row = self.frame.iloc[i]
        pop = _clean(row["population"])
        return Region(
            code=str(row["code"]),
            name=str(row["name"]),
            level=str(row["level"]),
            title=_clean(row["title"]),
            province=_clean(row["province_code"]),
            province_name=_clean(row["province_name"]),
            corop=_clean(row["corop_code"]),
            corop_name=_clean(row["corop_name"]),
            ggd=_clean(row["ggd_code"]),
            ggd_name=_clean(row["ggd_name"]),
            labour_market=_clean(row["labour_market_code"]),
            labour_market_name=_clean(row["labour_market_name"]),
            population=None if pop is None else int(pop),
        )

    def _history(self, i: int) -> list[int]:
        """Rows from the dissolved row ``i`` along its main successors, to a current one.

        The last row is current unless the chain breaks (no successor known) or loops.
        """
        rows = [i]
        while self.frame.iloc[rows[-1]]["level"] == "opgeheven" and len(rows) < 10:
            successor = _clean(self.frame.iloc[rows[-1]]["successor_code"])
            nxt = self._by_code.get(str(successor)) if successor is not None else None
            if nxt is None or nxt in rows:
                break
            rows.append(nxt)
        return rows

    def _renamed_only(self, rows: list[int]) -> bool:
        """Tell whether every step of ``rows`` (see :meth:`_history`) was a change of name."""
        last = self.frame.iloc[rows[-1]]
        return (
            len(rows) > 1
            and last["level"] != "opgeheven"
            and all(_clean(self.frame.iloc[r]["change"]) == RENAMED for r in rows[:-1])
        )

    def _date(self, i: int) -> str:
        row = self.frame.iloc[i]
        on = _clean(row["dissolved_on"])
        return dutch_date(str(on)) if on else f"1 januari {int(row['dissolved_in'])}"

    def _steps(self, rows: list[int], *, relative: bool = False) -> str:
        """Describe what happened along ``rows`` in Dutch clauses.

        The first clause follows "zij" (``is op 1 januari 2019 opgegaan in Groningen (GM0014)``)
        or, with ``relative``, "die" (``op 1 januari 2019 is opgegaan in ...``); later steps
        follow as ``, die ...``.
        """
        parts = []
        for n, (r, nxt) in enumerate(itertools.pairwise(rows)):
            target = self.frame.iloc[nxt]
            named, on = f"{target['name']} ({target['code']})", self._date(r)
            still = target["level"] != "opgeheven"
            renamed = _clean(self.frame.iloc[r]["change"]) == RENAMED
            if n == 0 and not relative:
                if renamed:
                    parts.append(f"{'heet sinds' if still else 'heette vanaf'} {on} {named}")
                else:
                    parts.append(f"is op {on} opgegaan in {named}")
                continue
            prefix = "die " if n > 0 else ""
            if renamed:
                when, verb = ("sinds", "heet") if still else ("vanaf", "heette")
                parts.append(f"{prefix}{when} {on} {named} {verb}")
            else:
                parts.append(f"{prefix}op {on} is opgegaan in {named}")
        return ", ".join(parts)

    def _current_of(self, code: str) -> int | None:
        """Row of the current municipality that a (possibly dissolved) ``code`` ended up in."""
        i = self._by_code.get(code)
        if i is None:
            return None
        last = self._history(i)[-1]
        return last if self.frame.iloc[last]["level"] != "opgeheven" else None

    def _dissolved(self, query: str, i: int) -> RegionDissolved:
        row = self.frame.iloc[i]
        successor = _clean(row["successor_code"])
        year = _clean(row["dissolved_in"])
        if successor is None or year is None:
            return RegionDissolved(query, str(row["name"]), str(row["code"]), "onbekend", 0)
        rows = self._history(i)
        final = self.frame.iloc[rows[-1]]
        main, use = f"{final['name']} ({final['code']})", str(final["name"])
        steps = self._steps(rows)
        if len(rows) == 1:  # a successor the registry does not know: its code
            main = use = str(successor)
            steps = f"is op {self._date(i)} opgegaan in {successor}"
        err = RegionDissolved(query, str(row["name"]), str(row["code"]), main, int(year))
        err.suggestions = [use]
        err.args = (
            f"De gemeente {row['name']} ({row['code']}) bestaat niet meer: zij {steps}. "
            f"Gebruik {use}; eerdere jaren worden waar mogelijk uit de voorgangers opgebouwd.",
        )
        others = [c for c in str(_clean(row["successor_codes"]) or "").split(";") if c]
        others = [c for c in others if c != successor]
        if others:
            err.successor = self._describe(str(successor))
            currents = [self._current_of(c) for c in [str(successor), *others]]
            err.suggestions = list(
                dict.fromkeys(str(self.frame.iloc[c]["name"]) for c in currents if c is not None)
            )
            err.args = (
                f"De gemeente {row['name']} ({row['code']}) bestaat niet meer: zij is op "
                f"{self._date(i)} opgeheven en verdeeld. Het grootste deel ging naar "
                f"{err.successor}, een deel naar {', '.join(self._describe(c) for c in others)}. "
                + (
                    f"Gebruik {err.suggestions[0]}"
                    if len(err.suggestions) == 1
                    else "Kies een van die gemeenten"
                )
                + "; eerdere jaren worden waar mogelijk uit de voorgangers opgebouwd.",
            )
        return err

    def _describe(self, code: str) -> str:
        """``Name (code)``; for a code no longer current also what became of it."""
        i = self._by_code.get(code)
        if i is None:
            return code
        row = self.frame.iloc[i]
        text = f"{row['name']} ({code})"
        if row["level"] == "opgeheven" and _clean(row["successor_code"]):
            rows = self._history(i)
            if len(rows) > 1:
                text += ", die " + self._steps(rows, relative=True)
        return text

    def municipality(self, text: str) -> Region:
        """Return the municipality a person means by ``text``; fail on any other region.

        Raises
        ------
        RegionNotFound, RegionDissolved
            Unknown or merged municipality (with the closest matches or the successor).
        InputError
            When the region is not a municipality (a province, Nederland).
        """
        region = self.resolve(text)
        if region.level != "gemeente":
            raise InputError(
                f"{region.name} ({region.code}) is geen gemeente; de rapporten gaan over een "
                "gemeente. Geef een gemeentenaam of GM-code."
            )
        return region

    def resolve(self, text: str) -> Region:
        """Return the region a person means by ``text``.

        Parameters
        ----------
        text : str
            A CBS code (``GM1969``, ``1969``, ``PV20``, ``NL01``) or a name, case- and
            accent-insensitive (``westerkwartier``, ``sudwest fryslan``). A plain name means the
            municipality (``Groningen`` is GM0014); provinces are found as ``PV20``,
            ``provincie Groningen``, ``Groningen (PV)`` or ``Groningen (provincie)`` (the
            label :func:`westerkwartier.api.panel` gives when a municipality has the same
            name). Everyday names that are not CBS's (``Den Haag``, ``Friesland``) come from
            ``config/bijnamen.toml``. An old name or code of a municipality that only changed
            its name (``Tietjerksteradeel``, GM0094) gives the municipality under its current
            name (Tytsjerksteradiel, GM0737). None or blank text: no region given.

        Raises
        ------
        RegionDissolved
            If ``text`` names a municipality that merged into another one (also after a change
            of name); the message says what happened, with CBS's dates.
        RegionNotFound
            If nothing matches; the message lists the closest names.
        """
        raw = "" if text is None else str(text).strip()
        code = raw.upper().replace(" ", "")
        if re.fullmatch(r"(GM)?\d{1,4}", code):
            code = "GM" + code.removeprefix("GM").zfill(4)
        if code in self._by_code:
            return self._checked(raw, self._by_code[code])
        key = normalise(raw)
        for prefix in ("provincie ", "prov "):
            if key.startswith(prefix):
                return self._province(raw, key[len(prefix) :])
        for suffix in (" pv", " provincie"):  # CBS's title, and the label wk.panel gives
            if key.endswith(suffix):
                return self._province(raw, key[: -len(suffix)])
        if key.startswith("gemeente "):
            key = key[len("gemeente ") :]
        for level in order_levels():
            hits = self._names.get(level, {}).get(key)
            if hits:
                return self._one(raw, hits)
        alias = self._alias(key)
        if alias is not None:
            return self._checked(raw, alias)
        raise RegionNotFound(raw, self.suggest(raw))

    def _province(self, raw: str, key: str) -> Region:
        return self._one(raw, self._province_rows(key))

    def _province_rows(self, key: str) -> list[int] | None:
        """Rows of the province named ``key`` (normalised, without "provincie"), or None."""
        hits = self._names.get("provincie", {}).get(key)
        alias = self._alias(key)
        if not hits and alias is not None and self.frame.iloc[alias]["level"] == "provincie":
            hits = [alias]
        return hits

    def _alias(self, key: str) -> int | None:
        """Row of the region an everyday name (``config/bijnamen.toml``) points at, if any."""
        _, code = load_aliases().get(key, ("", ""))
        return self._by_code.get(code)

    def _one(self, raw: str, hits: list[int] | None) -> Region:
        if not hits:
            raise RegionNotFound(raw, self.suggest(raw))
        return self._checked(raw, hits[0])

    def _checked(self, raw: str, i: int) -> Region:
        if self.frame.iloc[i]["level"] == "opgeheven":
            rows = self._history(i)
            if self._renamed_only(rows):  # the same municipality under its current name
                now = self.frame.iloc[rows[-1]]
                log.warning(  # visible: the answer carries another name than the question
                    "%s heet sinds %s %s; de cijfers gaan over %s.",
                    raw,
                    self._date(rows[-2]),
                    self._describe(str(now["code"])),
                    now["name"],
                )
                return self._region(rows[-1])
            raise self._dissolved(raw, i)
        return self._region(i)

    def _suggest_province(self, key: str, n: int = 3) -> list[str]:
        """Up to ``n`` provinces whose name (or everyday name) is close to ``key``."""
        names = {normalise(name): str(name) for name in self.provinces()["name"]}
        for name, code in load_aliases().values():
            if code.startswith("PV"):
                names.setdefault(normalise(name), name)
        close = difflib.get_close_matches(key, list(names), n=n, cutoff=0.6)
        return [f"provincie {names[c]}" for c in close]

    def suggest(self, text: str, n: int = 5) -> list[str]:
        """Return up to ``n`` names of current regions closest to ``text`` (difflib)."""
        current = self.frame[self.frame["level"] != "opgeheven"]
        labels: dict[str, str] = {}
        for name, level in zip(current["name"], current["level"], strict=True):
            label = f"provincie {name}" if level == "provincie" else str(name)
            labels.setdefault(normalise(label), label)
        for name, code in load_aliases().values():
            i = self._by_code.get(code)
            if i is not None and self.frame.iloc[i]["level"] != "opgeheven":
                label = f"provincie {name}" if code.startswith("PV") else name
                labels.setdefault(normalise(label), label)
        close = difflib.get_close_matches(normalise(text), list(labels), n=n, cutoff=0.6)
        return [labels[c] for c in close]

    # -- listings --------------------------------------------------------------------------
    def municipalities(self) -> pd.DataFrame:
        """Municipalities of the current division, sorted by code."""
        return self._level("gemeente")

    def provinces(self) -> pd.DataFrame:
        """Return the twelve provinces, sorted by code."""
        return self._level("provincie")

    def dissolved(self) -> pd.DataFrame:
        """Dissolved municipalities with ``dissolved_in`` and successors."""
        return self._level("opgeheven")

    def former_names(self, code: str) -> list[tuple[str, str]]:
        """Earlier names of the municipality ``code``, each with the date of the new name.

        Examples
        --------
        >>> load_registry().former_names("GM0737")
        [('Tietjerksteradeel', '1 januari 1989')]
        """
        out = []
        for i in np.flatnonzero((self.frame["change"] == RENAMED).fillna(False).to_numpy()):
            rows = self._history(int(i))
            if self._renamed_only(rows) and self.frame.iloc[rows[-1]]["code"] == code:
                out.append((str(self.frame.iloc[i]["name"]), self._date(int(i))))
        return out

    def _level(self, level: str) -> pd.DataFrame:
        out = self.frame[self.frame["level"] == level]
        return out.sort_values("code").reset_index(drop=True)

    def in_province(self, province: str) -> pd.DataFrame:
        """Municipalities of a province, given as ``PV20`` or a province name."""
        code = province.strip().upper()
        if code not in self._by_code or not code.startswith("PV"):
            key = normalise(province).removeprefix("provincie ").removesuffix(" pv")
            found = self._province_rows(key)
            if not found:
                raise RegionNotFound(province, self._suggest_province(key))
            code = str(self.frame.iloc[found[0]]["code"])
        gm = self.municipalities()
        return gm[gm["province_code"] == code].reset_index(drop=True)

    def predecessors(self, code: str) -> pd.DataFrame:
        """Dissolved municipalities that (partly) went into municipality ``code``.

        Examples
        --------
        >>> registry = load_registry()
        >>> sorted(registry.predecessors("GM1969")["code"])
        ['GM0015', 'GM0022', 'GM0025', 'GM0053', 'GM0056']
        """
        code = self.resolve(code).code
        old = self.dissolved()
        mask = old["successor_codes"].fillna("").str.split(";").map(lambda codes: code in codes)
        return old[mask].reset_index(drop=True)


def order_levels() -> list[str]:
    """Levels in the order a name is looked up (a plain name means the municipality)."""
    return ["gemeente", "land", "provincie", "opgeheven"]


# -- loading the snapshot -------------------------------------------------------------------
def load_registry(path: Path | str | None = None) -> Registry:
    """Load the registry from the offline snapshot (cached per path).

    Parameters
    ----------
    path : Path or str, optional
        A ``regions.parquet`` file; default ``settings.snapshot_dir / "regions.parquet"``.

    Raises
    ------
    SnapshotMissing
        If the file does not exist.
    """
    target = Path(path) if path is not None else Path(settings.snapshot_dir) / "regions.parquet"
    return _load_registry_cached(str(target.resolve()))


@lru_cache(maxsize=8)
def _load_registry_cached(path: str) -> Registry:
    file = Path(path)
    if not file.is_file():
        raise SnapshotMissing(
            f"Het regioregister {file} ontbreekt. Bouw de offline snapshot met "
            "`westerkwartier snapshot --mirror PAD` (PAD = map met de CBS-mirror)."
        )
    try:
        frame = pd.read_parquet(file)
    except (OSError, ValueError) as err:  # pyarrow's ArrowInvalid is a ValueError
        from westerkwartier.errors import DataIntegrityError

        raise DataIntegrityError(
            f"Het regioregister {file.name} in {file.parent.name}/ is beschadigd "
            f"({type(err).__name__}). Haal de snapshot opnieuw op uit git "
            "(`git checkout -- data/snapshot`) of bouw hem met `westerkwartier snapshot`."
        ) from err
    return Registry(frame)


def clear_registry_cache() -> None:
    """Forget registries and divisions loaded from disk (e.g. after rebuilding the snapshot)."""
    _load_registry_cached.cache_clear()
    _load_divisions_cached.cache_clear()


def slug(name: str) -> str:
    """Return a folder name for a municipality: lower case, ASCII, hyphens.

    Examples
    --------
    >>> slug("Súdwest-Fryslân")
    'sudwest-fryslan'
    >>> slug("Bergen (NH.)")
    'bergen-nh'
    """
    plain = unicodedata.normalize("NFKD", str(name))
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-") or "gemeente"
