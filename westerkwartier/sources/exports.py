"""Read saved CBS exports into :class:`~westerkwartier.table.CbsTable` objects.

Two kinds of files are read:

* tables saved from ``cbsodata.get_data()`` (mirror ``tables/<ID>.csv``): ``;``-separated,
  UTF-8 with BOM, first column ``ID``, dimension columns holding **titles**, topic columns
  keeping their CBS keys, empty = missing. Read with :func:`read_cbsodata_export`.
* CSV downloads from the StatLine website (mirror ``statline/``): titles as column headers,
  ``.`` or empty = missing. Read with :func:`read_statline_kwb` (85984NED, two files joined by
  row position) and :func:`read_statline_kerncijfers` (70072ned, decimal comma, names only).

The readers are pure functions: everything they need (the region title -> code lookup, the
units) is passed in. :func:`build_region_codes` builds the lookup from the mirror and
:func:`read_mirror_table` wires everything together for a table in the mirror.

How exports differ from tables fetched from the CBS API, and what the readers do about it:

Regions
    Titles are mapped to codes with the lookup (``Westerkwartier`` -> ``GM1969``,
    ``Groningen (PV)`` -> ``PV20``, ``Groningen (gemeente)`` and plain ``Groningen`` ->
    ``GM0014``). Region groupings that have no CBS code in the lookup and are not regions in
    their own right (size classes such as ``Vier grote gemeenten (4)``, ``Niet in te delen``
    and ``Friese Waddeneilanden (CG)``) are dropped on purpose and listed in
    ``info["dropped_regions"]``; see :data:`DROPPED_REGION_PATTERNS`. Any other unknown
    title raises :class:`~westerkwartier.errors.ExportFormatError`.
Periods
    ``2023`` -> ``2023JJ00``, ``2012/'13`` -> ``2012SJ13``, ``1e halfjaar 2024`` ->
    ``2024HJ01`` (see :mod:`westerkwartier.sources.periods`).
    Tables without a period column (Gezondheidsmonitor 85012NED, 85563NED; Gebieden in
    Nederland) get no period dimension; the year the figures refer to is in ``info["period"]``
    (from :data:`TABLE_PERIODS`, ``None`` when unknown).
Other dimensions
    The real CBS category codes are not in an export, so the title is used as key; the
    dimensions concerned are listed in ``info["keys_from_titles"]``.
    :meth:`CbsTable.dimension_key` resolves titles, so selecting by title works for both
    sources.
Topics
    Keys are kept; titles are the key stem split into words (``Gemiddelde WOZ waarde van
    woningen``) unless real metadata is given; units come from ``config/export_units.toml``
    (``None`` when not listed, never guessed); decimals are read off the figures.
Truncation
    A file with exactly :data:`PAGE_SIZE` data rows stopped at the first page of the CBS feed.
    Only the slices (combinations of the non-geographic, non-time dimensions) that are
    complete are kept; see :func:`complete_blocks`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from westerkwartier import settings
from westerkwartier.config import config_file, read_toml
from westerkwartier.errors import CbsSchemaError, ExportFormatError
from westerkwartier.sources.periods import code_from_title, split_status_mark
from westerkwartier.sources.regions import GEBIEDEN_TABLES, read_gebieden, read_regios_codes
from westerkwartier.sources.table import CbsTable, stem

#: Rows per page of the CBS bulk feed; an export with exactly this many rows is truncated.
PAGE_SIZE = 10_000

#: Dimension names treated as geographic (``GeoDimension``) besides names starting with Regio:
#: the commuting tables have a region of residence and a region of work (``WoonregioS``,
#: ``WerkregioS``), the English editions ``Regions``.
GEO_DIMENSIONS = ("RegioS", "Regiokenmerken", "WijkenEnBuurten", "WoonregioS", "WerkregioS")

#: Dimension names treated as time (``TimeDimension``); ``Periods`` in English editions.
TIME_DIMENSIONS = ("Perioden", "Periods")

#: Folders of the mirror that hold tables saved with ``cbsodata.get_data()``, searched in order.
EXPORT_FOLDERS: tuple[str, ...] = ("tables", "tables-r3")

#: Tables exported with codes and labels (mirror ``coded/``): table id -> file.
CODED_FILES: dict[str, str] = {
    "37259ENG": "coded/37259eng_bevolkingsontwikkeling_2012_2023.csv",
}

#: Tables saved as the parquet files of ``cbsodata`` (``dir=``) in the mirror's ``odata-v3/``:
#: table id -> the year the whole table describes.
TYPED_V3_TABLES: dict[str, int] = {"84799NED": 2020}

#: The period tables without a period column refer to (used for ``info["period"]``).
TABLE_PERIODS: dict[str, str] = {
    "85012NED": "2020JJ00",
    "85563NED": "2022JJ00",
    **{table: f"{year}JJ00" for year, table in GEBIEDEN_TABLES.items()},
}

#: Region titles dropped on purpose when they are not in the lookup (case-insensitive regular
#: expressions): groupings without a region code of their own (size classes, "not
#: assignable"), the Gezondheidsmonitor's ``(CG)`` regions, which Gebieden in Nederland does not
#: define, and labour-market regions ``(AM)`` of divisions before 2019 (e.g. ``Food Valley (AM)``
#: in 85969NED) and landsdelen without the four large cities (``West-Nederland, exclusief G4
#: (LD)`` in 86082NED), GGD regions ``(GG)`` of divisions before 2019 (``GGD Rivierenland (GG)``
#: in the care registers 83251NED and 84521NED) and size classes written as a range
#: (``20 000 tot 50 000 inwoners``, ``250 000 inwoners of meer`` in 85098NED). Only titles *not*
#: found in the lookup are tested against these patterns, so current GGD regions keep their code.
DROPPED_REGION_PATTERNS: tuple[str, ...] = (
    r"niet in te delen",
    r"grote gemeenten|grootste gemeenten",
    r"^gemeenten? [<>]=? ",
    r"^(meer|minder) dan \d[\d ]* inwoners",
    r"^\d[\d ]* tot \d[\d ]* inwoners$",
    r"^\d[\d ]* inwoners of meer$",
    r"\(CG\)$",
    r"\(AM\)$",
    r"\(GG\)$",
    r"exclusief G4",
)

#: Spellings in exports that differ from the name in Gebieden in Nederland.
REGION_TITLE_ALIASES: dict[str, str] = {
    "Veiligh. en Gez. Gelderland-Midden (GG)": (
        "Veiligheids- en Gezondheidsregio Gelderland-Midden (GG)"
    ),
}

_TOPIC = re.compile(r"_\d+$")
_UNITS_FILE = config_file("export_units.toml")
_SUFFIXED = re.compile(r"^(?P<name>.*) \((?P<kind>[A-Z]{2})\)$")


# -- region lookup --------------------------------------------------------------------------
def build_region_codes(mirror: Path | str | None = None) -> dict[str, str]:
    """Build the region title -> CBS code lookup from the mirror.

    Sources, later ones filling gaps only (a title is never re-mapped):

    1. ``odata-v4/03759ned/codes-RegioS.json``: ``Nederland``, landsdelen ``(LD)``,
       provinces ``(PV)``, COROP areas ``(CR)`` and all municipalities since 1830 (current
       titles such as ``Groningen (gemeente)`` and dissolved ones such as ``Grootegast``).
    2. The Gebieden in Nederland tables, newest first: ``RegioS`` title -> ``GM`` code, the
       plain municipality name (``Groningen`` -> ``GM0014``; the province is always
       ``Groningen (PV)``), and for every other region type, recognised by its code prefix,
       ``"<name> (<prefix>)"`` -> code (``Groningen (AM)`` -> ``AM01``,
       ``GGD Groningen (GG)`` -> ``GG0111``, ``Oost-Groningen (MC)`` -> ``MC01``).

    Parameters
    ----------
    mirror : Path or str, optional
        The CBS mirror folder (default :data:`settings.mirror_dir`).

    Returns
    -------
    dict of str to str
    """
    mirror = Path(mirror if mirror is not None else settings.mirror_dir)
    return dict(_region_codes_cached(str(mirror.resolve())))


@lru_cache(maxsize=4)
def _region_codes_cached(mirror: str) -> tuple[tuple[str, str], ...]:
    root = Path(mirror)
    lookup: dict[str, str] = {}
    codes = read_regios_codes(root / "odata-v4" / "03759ned" / "codes-RegioS.json")
    for code, title in zip(codes["code"], codes["title"], strict=True):
        lookup.setdefault(title, code)
    for year in sorted(GEBIEDEN_TABLES, reverse=True):
        path = root / "tables" / f"{GEBIEDEN_TABLES[year]}.csv"
        if not path.is_file():
            continue
        gm = read_gebieden(path)
        for title, name, code in zip(gm["title"], gm["name"], gm["code"], strict=True):
            lookup.setdefault(title, code)
            lookup.setdefault(name, code)
        for col in gm.columns:
            prefix = col.removesuffix("_code")
            if not col.endswith("_code") or prefix in ("GM", "PV", "LD"):
                continue
            names = gm.get(f"{prefix}_name")
            if names is None:
                continue
            for code, name in zip(gm[col], names, strict=True):
                if isinstance(code, str) and isinstance(name, str):
                    lookup.setdefault(f"{name} ({prefix})", code)
    return tuple(sorted(lookup.items()))


def region_code(
    title: str, region_codes: Mapping[str, str], source: str | Path = "?"
) -> str | None:
    """Map one region title to its CBS code.

    Returns
    -------
    str or None
        The code, or ``None`` for a grouping dropped on purpose (see
        :data:`DROPPED_REGION_PATTERNS`).

    Raises
    ------
    ExportFormatError
        If the title is unknown.
    """
    title = title.strip()
    if re.fullmatch(r"(NL|LD|PV|GM|CR|WK|BU)\d{2,8}", title):
        return title  # already a code
    code = region_codes.get(REGION_TITLE_ALIASES.get(title, title))
    if code is not None:
        return code
    if any(re.search(p, title, flags=re.I) for p in DROPPED_REGION_PATTERNS):
        return None
    raise ExportFormatError(
        f"Regio {title!r} in {source} staat niet in de lijst van CBS-regiocodes. Gebruik een "
        "ongewijzigde CBS-export, of bouw de lijst met build_region_codes() uit een mirror "
        "met de nieuwste tabel Gebieden in Nederland."
    )


# -- units ----------------------------------------------------------------------------------
def load_export_units(path: Path | str | None = None) -> dict[str, dict[str, str]]:
    """Read ``config/export_units.toml``: table id -> topic key stem (or full key) -> unit.

    A full key (``Woonquote_5``) is listed where a table repeats a stem for topics in different
    units; :func:`unit_of` looks the full key up before the stem.
    """
    file = Path(path) if path is not None else _UNITS_FILE
    raw = read_toml(file, what="het bestand met eenheden van exports").data
    out: dict[str, dict[str, str]] = {}
    for table, topics in raw.items():
        if isinstance(topics, dict):
            out[table.upper()] = {str(k): str(v) for k, v in topics.items()}
    return out


def unit_of(key: str, units: Mapping[str, str]) -> str | None:
    """Return the unit of topic ``key``: by its full key first, then by its stem.

    Examples
    --------
    >>> unit_of("Woonquote_9", {"Woonquote_5": "%", "Woonquote_9": "%"})
    '%'
    >>> unit_of("Immigratie_1", {"Immigratie": "aantal"})
    'aantal'
    """
    return units.get(key, units.get(stem(key)))


# -- helpers --------------------------------------------------------------------------------
def words_from_key(key: str) -> str:
    """Turn a CBS topic key into a readable title.

    Examples
    --------
    >>> words_from_key("GemiddeldeWOZWaardeVanWoningen_1")
    'Gemiddelde WOZ waarde van woningen'
    >>> words_from_key("k_15Tot25Jaar_9")
    '15 tot 25 jaar'
    """
    text = stem(key).removeprefix("k_")
    parts = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", text)
    if not parts:
        return key
    words = [parts[0]] + [p if p.isupper() and len(p) > 1 else p.lower() for p in parts[1:]]
    return " ".join(words)


def _decimals(texts: pd.Series) -> int | None:
    """Decimals shown by the figures (``235.0`` -> 0, ``12.5`` -> 1), ``None`` if no figure."""
    texts = texts[texts.str.len() > 0]
    if texts.empty:
        return None
    frac = texts.str.extract(r"[.,](\d+)$", expand=False).fillna("").str.rstrip("0")
    return int(frac.str.len().max())


def _to_numbers(texts: pd.Series, decimal: str = ".") -> pd.Series | None:
    """Convert figures to floats; ``None`` if the column holds text (codes, names)."""
    clean = texts.str.strip()
    clean = clean.mask(clean.isin(["", ".", "-"]))
    if decimal == ",":
        clean = clean.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    numbers = pd.to_numeric(clean, errors="coerce")
    if (numbers.isna() & clean.notna()).any():
        return None
    return numbers.astype("float64")


def _topics_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["key", "title", "unit", "decimals"])
    frame["decimals"] = frame["decimals"].astype("Int64")
    return frame


def _dimension_type(name: str) -> str:
    if name in TIME_DIMENSIONS:
        return "TimeDimension"
    if name in GEO_DIMENSIONS or name.startswith("Regio"):
        return "GeoDimension"
    return "Dimension"


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(
            path, sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False, quotechar='"'
        )
    except FileNotFoundError as err:
        raise ExportFormatError(f"Bestand {path} bestaat niet. Controleer het pad.") from err
    except (UnicodeDecodeError, pd.errors.ParserError) as err:
        raise ExportFormatError(
            f"{path} is geen leesbare CBS-export (verwacht: ';'-gescheiden, UTF-8): {err}"
        ) from err


# -- truncation -----------------------------------------------------------------------------
def complete_blocks(dims: pd.DataFrame, types: Mapping[str, str]) -> pd.Series:
    """Return which rows of a truncated export belong to complete slices.

    Rows of a CBS export are ordered dimension-major: by the first dimension column, then the
    second, and so on, each dimension in a fixed category order (here: the order of first
    appearance). The last row marks where the feed stopped; every block of rows that sorts
    before it is complete, the block it falls in is partial.

    * If the first dimension is not geographic or time (``Persoonskenmerken, RegioS,
      Perioden``), a slice is complete when its values on the leading run of such dimensions
      sort before those of the last row: 86088NED keeps ``Totaal personen`` and drops
      ``Geslacht: mannen``; 85269NED keeps ``Totaal personen`` and ``Geslacht: mannen``.
    * If the geographic dimension comes first (``RegioS, Eigendom, Perioden`` in 85036NED),
      every slice is complete for all regions before the region of the last row; that
      region keeps only the slices completed before the cut and is reported as incomplete.

    Parameters
    ----------
    dims : pandas.DataFrame
        The dimension columns of the export, in file order, as read (titles).
    types : mapping of str to str
        Dimension type per column (``GeoDimension``, ``TimeDimension``, ``Dimension``).

    Returns
    -------
    pandas.Series of bool
        ``True`` for rows in complete blocks.

    Raises
    ------
    ExportFormatError
        If the rows are not in dimension-major order, or a time dimension precedes a
        geographic or slice dimension (then completeness cannot be decided).
    """
    names = list(dims.columns)
    ranks = pd.DataFrame(
        {d: dims[d].map({v: i for i, v in enumerate(pd.unique(dims[d]))}) for d in names}
    )
    tuples = list(ranks.itertuples(index=False, name=None))
    if any(a > b for a, b in zip(tuples, tuples[1:], strict=False)):
        raise ExportFormatError(
            "De rijen van deze afgekapte export staan niet in de volgorde van de CBS-feed; "
            "niet vast te stellen welke delen volledig zijn. Download de tabel opnieuw, "
            "gefilterd zodat er minder dan 10.000 rijen zijn."
        )
    kinds = [types[d] for d in names]
    if "TimeDimension" in kinds:
        first_time = kinds.index("TimeDimension")
        if any(k != "TimeDimension" for k in kinds[first_time:]):
            raise ExportFormatError(
                "In deze afgekapte export staat de periode niet als laatste dimensie; niet "
                "vast te stellen welke delen volledig zijn."
            )
    lead = 0
    while lead < len(kinds) and kinds[lead] == "Dimension":
        lead += 1
    if lead:
        block = names[:lead]
    else:
        block = [d for d, k in zip(names, kinds, strict=True) if k != "TimeDimension"]
    last = tuples[-1][: len(block)]
    keys = ranks[block].itertuples(index=False, name=None)
    return pd.Series([k < last for k in keys], index=dims.index)


# -- cbsodata exports -----------------------------------------------------------------------
def read_cbsodata_export(  # noqa: C901 - over the limit; see tests/test_complexity.py
    path: Path | str,
    region_codes: Mapping[str, str],
    table_id: str | None = None,
    units: Mapping[str, str] | None = None,
    info: Mapping[str, Any] | None = None,
) -> CbsTable:
    """Read a table saved from ``cbsodata.get_data()`` into a :class:`CbsTable`.

    Parameters
    ----------
    path : Path or str
        The CSV file (``;``, UTF-8 with BOM, first column ``ID``).
    region_codes : mapping of str to str
        Region title -> code, e.g. from :func:`build_region_codes`.
    table_id : str, optional
        CBS table id; default the file name without extension (``85036NED``, ``81064ned``).
    units : mapping of str to str, optional
        Topic key stem -> unit (``aantal``, ``%``, ``1 000 euro``...). Topics not listed get
        unit ``None``.
    info : mapping, optional
        Extra table information (``title``...) merged into :attr:`CbsTable.info`.

    Returns
    -------
    CbsTable
        ``source="cbsodata-export"``. ``info`` holds ``period`` (for tables without a period
        column), ``keys_from_titles``, ``dropped_regions``, ``truncated`` and, for a
        truncated file whose geographic dimension comes first, ``incomplete_regions``.

    Raises
    ------
    ExportFormatError
        If the file is not a cbsodata export or holds a region title that cannot be mapped.

    Examples
    --------
    The file is in the CBS mirror, which is not part of the repository, so this is not run as
    a doctest::

        codes = build_region_codes()
        woz = read_cbsodata_export("tables/85036NED.csv", codes)
        woz.select(RegioS="GM1969", Eigendom="Totaal", Perioden="2024JJ00")
    """
    path = Path(path)
    raw = _read_csv(path)
    if not len(raw.columns) or raw.columns[0] != "ID":
        raise ExportFormatError(
            f"{path} is geen export van cbsodata.get_data(): de eerste kolom heet niet 'ID' "
            f"maar {raw.columns[0] if len(raw.columns) else '(geen)'}."
        )
    table_id = table_id or path.stem
    raw = raw.drop(columns="ID")
    dim_names = [c for c in raw.columns if not _TOPIC.search(c)]
    topic_keys = [c for c in raw.columns if _TOPIC.search(c)]
    if not topic_keys:
        raise ExportFormatError(f"{path}: geen onderwerpkolommen (zoals Bevolking_1) gevonden.")
    types = {d: _dimension_type(d) for d in dim_names}
    dims = raw[dim_names].apply(lambda col: col.str.strip())

    truncated = len(raw) == PAGE_SIZE
    table_info: dict[str, Any] = {"source_file": path.name, **(info or {})}
    complete_slices: dict[str, list[str]] | None = None
    keep = pd.Series(True, index=raw.index)
    if truncated:
        keep = complete_blocks(dims, types)
        if not keep.any():
            raise ExportFormatError(
                f"{path} is afgekapt op {PAGE_SIZE} rijen en bevat geen enkel volledig deel. "
                "Download de tabel opnieuw met een filter."
            )

    data = pd.DataFrame(index=raw.index)
    dimensions: dict[str, pd.DataFrame] = {}
    dropped: list[str] = []
    for d in dim_names:
        titles = dims[d]
        order = list(pd.unique(titles[keep]))
        if types[d] == "GeoDimension":
            mapping = {t: region_code(t, region_codes, path) for t in pd.unique(titles)}
            dropped += [t for t, c in mapping.items() if c is None]
            data[d] = titles.map(mapping)
            codes = pd.DataFrame({"key": [mapping[t] for t in order], "title": order}).dropna(
                subset=["key"]
            )
        elif types[d] == "TimeDimension":
            try:
                mapping = {t: code_from_title(t) for t in pd.unique(titles)}
            except CbsSchemaError as err:
                raise ExportFormatError(f"{path}: {err}") from err
            data[d] = titles.map(mapping)
            codes = pd.DataFrame(
                {
                    "key": [mapping[t] for t in order],
                    "title": [split_status_mark(t)[0] for t in order],
                    "status": [split_status_mark(t)[1] for t in order],
                }
            )
        else:
            data[d] = titles
            codes = pd.DataFrame({"key": order, "title": order})
        dimensions[d] = codes.drop_duplicates("key").reset_index(drop=True)

    topics_rows = []
    units = units or {}
    columns: dict[str, pd.Series] = {}  # one concat at the end: wide tables (124 topics) stay fast
    for key in topic_keys:
        texts = raw[key].str.strip()
        numbers = _to_numbers(texts)
        columns[key] = numbers if numbers is not None else texts.mask(texts.isin(["", "."]))
        topics_rows.append(
            {
                "key": key,
                "title": words_from_key(key),
                "unit": unit_of(key, units),
                "decimals": _decimals(texts) if numbers is not None else 0,
            }
        )
    data = pd.concat([data, pd.DataFrame(columns, index=raw.index)], axis=1)

    geo = [d for d in dim_names if types[d] == "GeoDimension"]
    keep &= data[geo].notna().all(axis=1) if geo else True
    if truncated:
        slice_dims = [d for d in dim_names if types[d] == "Dimension"]
        kept = data.loc[keep]
        complete_slices = {d: list(pd.unique(kept[d])) for d in slice_dims}
        table_info["complete_slice_combinations"] = (
            kept[slice_dims].drop_duplicates().to_dict("records") if slice_dims else []
        )
        if geo and (types[dim_names[0]] == "GeoDimension" or not slice_dims):
            last = raw.index[-1]
            cut = data.loc[last, geo[0]]
            table_info["incomplete_regions"] = [
                str(cut if pd.notna(cut) else dims.loc[last, geo[0]])
            ]
    data = data.loc[keep].reset_index(drop=True)

    table_info.update(
        {
            "title": table_info.get("title") or table_id,
            "truncated": truncated,
            "keys_from_titles": [d for d in dim_names if types[d] == "Dimension"],
            "dropped_regions": sorted(set(dropped)),
        }
    )
    if not any(t == "TimeDimension" for t in types.values()):
        table_info["period"] = TABLE_PERIODS.get(table_id.upper())
    return CbsTable(
        table_id=table_id,
        data=data,
        topics=_topics_frame(topics_rows),
        dimensions=dimensions,
        dimension_types=types,
        info=table_info,
        source="cbsodata-export",
        complete_slices=complete_slices,
    )


# -- exports with codes and labels ----------------------------------------------------------
def read_coded_export(
    path: Path | str,
    table_id: str,
    units: Mapping[str, str] | None = None,
    info: Mapping[str, Any] | None = None,
) -> CbsTable:
    """Read a CBS table exported with codes **and** labels (mirror ``coded/``).

    The format differs from a ``cbsodata.get_data()`` export: ``,``-separated, UTF-8 without
    BOM; every dimension has a code column (``Regions``: ``GM1969``, padded as on the wire:
    ``NL01  ``) followed by a ``<name> Label`` column (``Westerkwartier``); periods are codes
    already (``2019JJ00``). Dimension names, labels and topic keys are kept as the file has
    them: the English edition of a table (37259eng) keeps ``Sex``, ``Regions``, ``Periods``
    and keys such as ``DueToIntermunicipalMoves_11``; the catalogue names them beside the
    Dutch keys of the Dutch edition. Codes are CBS's own, so they are the same in both
    editions (``T001038`` = men and women together).

    Parameters
    ----------
    path : Path or str
        The CSV file.
    table_id : str
        CBS table id (``37259eng``).
    units : mapping of str to str, optional
        Topic key or key stem -> unit (see :func:`unit_of`).
    info : mapping, optional
        Extra table information merged into :attr:`CbsTable.info`.

    Returns
    -------
    CbsTable
        ``source="coded-export"``; empty cells are NaN (never zero).

    Raises
    ------
    ExportFormatError
        If the file is not in this format (no code and label columns, text in a topic).
    """
    path = Path(path)
    try:
        raw = pd.read_csv(path, sep=",", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    except FileNotFoundError as err:
        raise ExportFormatError(f"Bestand {path} bestaat niet. Controleer het pad.") from err
    except (UnicodeDecodeError, pd.errors.ParserError) as err:
        raise ExportFormatError(
            f"{path} is geen leesbare CBS-export met codes (verwacht: ','-gescheiden, UTF-8): {err}"
        ) from err
    columns = [c for c in raw.columns if c != "ID"]
    dim_names = [c for c in columns if f"{c} Label" in raw.columns]
    topic_keys = [c for c in columns if _TOPIC.search(c)]
    if not dim_names or not topic_keys:
        raise ExportFormatError(
            f"{path.name} heeft niet de vorm van een CBS-export met codes: verwacht per "
            "dimensie een kolom met codes en een kolom '<naam> Label', en onderwerpkolommen "
            "zoals PopulationOn1January_1."
        )
    types = {d: _dimension_type(d) for d in dim_names}
    data = pd.DataFrame({d: raw[d].str.strip() for d in dim_names})
    dimensions: dict[str, pd.DataFrame] = {}
    for d in dim_names:
        pairs = pd.DataFrame({"key": data[d], "title": raw[f"{d} Label"].str.strip()})
        pairs = pairs.drop_duplicates("key").reset_index(drop=True)
        if types[d] == "TimeDimension":
            marks = [split_status_mark(t) for t in pairs["title"]]
            pairs["title"] = [m[0] for m in marks]
            pairs["status"] = [m[1] for m in marks]
        dimensions[d] = pairs
    values: dict[str, pd.Series] = {}
    topics_rows = []
    units = units or {}
    for key in topic_keys:
        texts = raw[key].str.strip()
        numbers = _to_numbers(texts)
        if numbers is None:
            raise ExportFormatError(f"{path.name}: kolom {key!r} bevat tekst waar getallen horen.")
        values[key] = numbers
        topics_rows.append(
            {
                "key": key,
                "title": words_from_key(key),
                "unit": unit_of(key, units),
                "decimals": _decimals(texts),
            }
        )
    data = pd.concat([data, pd.DataFrame(values, index=raw.index)], axis=1)
    return CbsTable(
        table_id=table_id,
        data=data,
        topics=_topics_frame(topics_rows),
        dimensions=dimensions,
        dimension_types=types,
        info={
            "title": table_id,
            **(info or {}),
            "truncated": False,
            "keys_from_titles": [],
            "dropped_regions": [],
            "source_file": path.name,
        },
        source="coded-export",
        complete_slices=None,
    )


# -- cbsodata parquet sets (odata-v3/) ------------------------------------------------------
def read_typed_v3_parquet(folder: Path | str, table_id: str, year: int) -> CbsTable:
    """Read a table saved by ``cbsodata`` as parquet files (mirror ``odata-v3/<ID>/``).

    The folder holds ``cbs.v3.<ID>_DataProperties.parquet`` (real keys, units, decimals),
    ``cbs.v3.<ID>_TypedDataSet.parquet`` (the rows, with codes) and, for Kerncijfers wijken
    en buurten, ``cbs.v3.<ID>_WijkenEnBuurten.parquet`` (codes and names) and
    ``cbs.v3.<ID>_Metadata.json`` (title, modification date). They are parsed with the same
    functions as a live download.

    Parameters
    ----------
    folder : Path or str
        The folder.
    table_id : str
        CBS table id (``84799NED``).
    year : int
        The year the table describes (Kerncijfers wijken en buurten have no period column);
        ``info["period"]`` becomes ``<year>JJ00``.

    Raises
    ------
    ExportFormatError
        If a file is missing or unreadable.
    """
    from westerkwartier.sources import cbs

    folder = Path(folder)
    base = folder / f"cbs.v3.{table_id}"
    try:
        props = pd.read_parquet(f"{base}_DataProperties.parquet")
        typed = pd.read_parquet(f"{base}_TypedDataSet.parquet")
    except (FileNotFoundError, OSError, ValueError) as err:
        raise ExportFormatError(
            f"{folder} bevat geen leesbare cbsodata-bestanden van tabel {table_id} "
            f"(DataProperties en TypedDataSet als parquet): {err}"
        ) from err
    prop_rows = [
        {k: (None if _missing(v) else v) for k, v in r.items()} for r in props.to_dict("records")
    ]
    parsed = cbs.parse_data_properties(prop_rows, table_id)
    data = cbs.parse_typed_dataset(
        typed.to_dict("records"), table_id, list(parsed.dimension_types), parsed.datatypes
    )
    dimensions: dict[str, pd.DataFrame] = {}
    for dim in parsed.dimension_types:
        codes_file = Path(f"{base}_{dim}.parquet")
        if codes_file.is_file():
            codes = pd.read_parquet(codes_file)
            dimensions[dim] = pd.DataFrame(
                {
                    "key": codes["Key"].astype(str).str.strip(),
                    "title": codes["Title"].astype(str).str.strip(),
                }
            )
        else:
            keys = list(pd.unique(data[dim]))
            dimensions[dim] = pd.DataFrame({"key": keys, "title": keys})
    meta_file = Path(f"{base}_Metadata.json")
    meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.is_file() else {}
    if isinstance(meta, list):
        meta = meta[0] if meta else {}
    return CbsTable(
        table_id=table_id,
        data=data,
        topics=parsed.topics,
        dimensions=dimensions,
        dimension_types=dict(parsed.dimension_types),
        info={
            "title": meta.get("Title") or table_id,
            "modified": meta.get("Modified"),
            "period": f"{int(year)}JJ00",
            "truncated": False,
            "source_file": folder.name,
        },
        source="odata-v3-parquet",
    )


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# -- StatLine downloads ---------------------------------------------------------------------
_UNIT = re.compile(r"^(?P<title>.*?)\s*\((?P<unit>[^()]*)\)\s*$")


def _split_header(header: str) -> tuple[list[str], str | None]:
    """Split ``Bevolking/Geslacht/Mannen (aantal)`` into the title path and the unit."""
    header = " ".join(header.split())
    m = _UNIT.match(header)
    title, unit = (m.group("title"), m.group("unit")) if m else (header, None)
    return [p.strip() for p in title.split("/")], unit


def _camel(text: str) -> str:
    words = re.findall(r"[0-9A-Za-zÀ-ÿ]+", text)
    key = "".join(w[:1].upper() + w[1:] for w in words)
    key = "".join(ch for ch in unicodedata.normalize("NFKD", key) if ch.isascii())
    return f"k_{key}" if key[:1].isdigit() else key


def statline_topic_keys(headers: Sequence[str]) -> dict[str, tuple[str, str, str | None]]:
    """Give StatLine column headers stable topic keys.

    The key is the last part of the header path in CamelCase (``Totale bevolking (aantal)`` ->
    ``TotaleBevolking``; a leading digit gets ``k_`` as CBS does). Where two headers would get
    the same key, each gets its parent part in front (``LeeftijdsgroepenJongerDan5Jaar`` and
    ``LeeftijdsgroepenRelatiefJongerDan5Jaar``), and further parts of the path as long as keys
    still clash; headers with the same path and different units get ``Relatief`` (``%``) or
    their unit at the end. Every key is unique; keys have no numeric suffix.

    Returns
    -------
    dict
        header -> (key, title, unit).
    """
    parsed = {h: _split_header(h) for h in headers}

    def key_at(path: list[str], depth: int) -> str:
        if depth == 1:
            return _camel(path[-1])
        return "".join(_camel(part).removeprefix("k_") for part in path[-depth:])

    depth = dict.fromkeys(parsed, 1)
    while True:
        keys = {h: key_at(path, depth[h]) for h, (path, _) in parsed.items()}
        counts = pd.Series(list(keys.values()), dtype=object).value_counts()
        clash = [h for h in parsed if counts[keys[h]] > 1 and depth[h] < len(parsed[h][0])]
        if not clash:
            break
        for h in clash:
            depth[h] += 1
    out = {}
    for h, (path, unit) in parsed.items():
        key = keys[h]
        if counts[key] > 1 and unit:  # same path, different unit: the unit tells them apart
            key += "Relatief" if unit == "%" else _camel(unit).removeprefix("k_")
        title = ": ".join(path[-depth[h] :])
        out[h] = (key, title, unit)
    return out


def _match_properties(
    headers: Sequence[str], properties: Sequence[Mapping[str, Any]]
) -> dict[str, Mapping[str, Any]]:
    """Map StatLine headers to ``DataProperties`` rows through their title paths."""
    by_id = {p.get("ID"): p for p in properties}

    def path_of(p: Mapping[str, Any]) -> tuple[str, ...]:
        parts = []
        node: Mapping[str, Any] | None = p
        while node is not None:
            parts.append(" ".join(str(node.get("Title", "")).split()))
            node = by_id.get(node.get("ParentID"))
        return tuple(reversed(parts))

    index = {path_of(p): p for p in properties if p.get("Type") == "Topic"}
    out = {}
    for h in headers:
        path, _ = _split_header(h)
        hit = index.get(tuple(path))
        if hit is not None:
            out[h] = hit
    return out


def read_statline_kwb(
    path: Path | str,
    path_herkomst: Path | str | None = None,
    properties: Sequence[Mapping[str, Any]] | None = None,
    info: Mapping[str, Any] | None = None,
    table_id: str = "85984NED",
) -> CbsTable:
    """Read the StatLine downloads of Kerncijfers wijken en buurten (85984NED).

    Parameters
    ----------
    path : Path or str
        The download with the code column (``Regioaanduiding/Codering (code)``): inhabitants
        by sex and age band.
    path_herkomst : Path or str, optional
        A second download of the same rows in the same order without codes (inhabitants by
        country of origin); joined **by row position**, after checking that every row has the
        same region title and municipality name in both files.
    properties : sequence of mapping, optional
        The table's ``DataProperties`` (as written by cbsodata); when given, headers are
        mapped to the real CBS keys, titles, units and decimals (``AantalInwoners_5``).
        Otherwise keys follow :func:`statline_topic_keys` and units come from the headers.
    info : mapping, optional
        Table information (``TableInfos``), e.g. ``title`` and ``modified``.
    table_id : str
        Default ``85984NED``.

    Returns
    -------
    CbsTable
        One geographic dimension ``WijkenEnBuurten`` (codes as CBS has them: ``NL00``,
        ``GM1969``, ``WK196900``, ``BU19690000``), no period dimension (``info["period"]`` is
        ``2024JJ00``), ``source="statline"``.
    """
    path = Path(path)
    raw = _read_csv(path)
    code_col = next((c for c in raw.columns if c.endswith("Codering (code)")), None)
    if code_col is None:
        raise ExportFormatError(
            f"{path} heeft geen kolom 'Regioaanduiding/Codering (code)'; kies bij het "
            "downloaden van StatLine ook de regiocode."
        )
    if path_herkomst is not None:
        other = _read_csv(Path(path_herkomst))
        if len(other) != len(raw) or not (
            other.iloc[:, 0].str.strip().equals(raw.iloc[:, 0].str.strip())
            and other.iloc[:, 1].str.strip().equals(raw.iloc[:, 1].str.strip())
        ):
            raise ExportFormatError(
                f"{path} en {path_herkomst} hebben niet dezelfde rijen in dezelfde volgorde; "
                "ze kunnen niet op rijpositie worden samengevoegd. Download beide opnieuw met "
                "dezelfde selectie van regio's."
            )
        extra = [c for c in other.columns[1:] if c not in raw.columns]
        raw = pd.concat([raw, other[extra]], axis=1)

    titles = raw.iloc[:, 0].str.strip()
    codes = raw[code_col].str.strip()
    topic_headers = [c for c in raw.columns[1:]]
    matched = _match_properties(topic_headers, properties or [])
    generated = statline_topic_keys(topic_headers)

    data = pd.DataFrame({"WijkenEnBuurten": codes})
    topics_rows = []
    for h in topic_headers:
        texts = raw[h].str.strip()
        prop = matched.get(h)
        key, title, unit = generated[h]
        decimals = None
        if prop is not None:
            key, title = str(prop["Key"]), str(prop["Title"])
            unit, decimals = prop.get("Unit"), prop.get("Decimals")
        numbers = _to_numbers(texts)
        data[key] = numbers if numbers is not None else texts.mask(texts.isin(["", "."]))
        if decimals is None:
            decimals = _decimals(texts) if numbers is not None else 0
        topics_rows.append({"key": key, "title": title, "unit": unit, "decimals": decimals})

    dimensions = {"WijkenEnBuurten": pd.DataFrame({"key": codes, "title": titles})}
    return CbsTable(
        table_id=table_id,
        data=data,
        topics=_topics_frame(topics_rows),
        dimensions=dimensions,
        dimension_types={"WijkenEnBuurten": "GeoDimension"},
        info={
            "title": "Kerncijfers wijken en buurten 2024",
            **(info or {}),
            "period": "2024JJ00",
            "truncated": False,
            "keys_from_titles": [],
            "source_file": path.name,
        },
        source="statline",
        complete_slices=None,
    )


def read_statline_kerncijfers(
    path: Path | str,
    region_codes: Mapping[str, str],
    table_id: str = "70072ned",
    keep_empty: bool = False,
) -> CbsTable:
    """Read a StatLine download of Regionale kerncijfers Nederland (70072ned).

    The file has a decimal comma, ``Perioden`` and ``Regio's`` columns with titles only
    (``Groningen (gemeente)``), and one column per topic titled by its path and unit
    (``Bevolking/.../Totale bevolking (aantal)``). Regions are mapped with ``region_codes``;
    topic keys follow :func:`statline_topic_keys`; units come from the headers.

    Parameters
    ----------
    path : Path or str
        The CSV file.
    region_codes : mapping of str to str
        Region title -> code (:func:`build_region_codes`).
    table_id : str
        Default ``70072ned``.
    keep_empty : bool
        Keep rows without a single figure (the download lists every historical municipality;
        for 2025 only Nederland and the 342 current municipalities have figures). Default
        ``False``.
    """
    path = Path(path)
    raw = _read_csv(path)
    period_col = next((c for c in raw.columns if c.strip() == "Perioden"), None)
    region_col = next((c for c in raw.columns if c.strip() in ("Regio's", "RegioS")), None)
    if period_col is None or region_col is None:
        raise ExportFormatError(
            f"{path} mist de kolommen 'Perioden' en/of \"Regio's\"; is dit een StatLine-download "
            "van Regionale kerncijfers?"
        )
    topic_headers = [c for c in raw.columns if c not in (period_col, region_col)]
    generated = statline_topic_keys(topic_headers)
    titles = raw[region_col].str.strip()
    mapping = {t: region_code(t, region_codes, path) for t in pd.unique(titles)}
    periods = raw[period_col].str.strip()
    try:
        period_map = {t: code_from_title(t) for t in pd.unique(periods)}
    except CbsSchemaError as err:
        raise ExportFormatError(f"{path}: {err}") from err

    data = pd.DataFrame({"RegioS": titles.map(mapping), "Perioden": periods.map(period_map)})
    topics_rows = []
    for h in topic_headers:
        key, title, unit = generated[h]
        texts = raw[h].str.strip()
        numbers = _to_numbers(texts, decimal=",")
        if numbers is None:
            raise ExportFormatError(f"{path}: kolom {h!r} bevat tekst waar getallen horen.")
        data[key] = numbers
        topics_rows.append({"key": key, "title": title, "unit": unit, "decimals": _decimals(texts)})
    keep = data["RegioS"].notna()
    topic_keys = [r["key"] for r in topics_rows]
    if not keep_empty:
        keep &= data[topic_keys].notna().any(axis=1)
    data = data.loc[keep].reset_index(drop=True)
    kept_titles = titles[keep]
    dimensions = {
        "RegioS": pd.DataFrame({"key": data["RegioS"].to_numpy(), "title": kept_titles.to_numpy()}),
        "Perioden": pd.DataFrame(
            {
                "key": [period_map[t] for t in pd.unique(periods)],
                "title": [split_status_mark(t)[0] for t in pd.unique(periods)],
                "status": [split_status_mark(t)[1] for t in pd.unique(periods)],
            }
        ),
    }
    return CbsTable(
        table_id=table_id,
        data=data,
        topics=_topics_frame(topics_rows),
        dimensions=dimensions,
        dimension_types={"RegioS": "GeoDimension", "Perioden": "TimeDimension"},
        info={
            "title": "Regionale kerncijfers Nederland",
            "truncated": False,
            "keys_from_titles": [],
            "dropped_regions": sorted(t for t, c in mapping.items() if c is None),
            "source_file": path.name,
        },
        source="statline",
        complete_slices=None,
    )


# -- the mirror -----------------------------------------------------------------------------
def read_mirror_table(table_id: str, mirror: Path | str | None = None) -> CbsTable:
    """Read table ``table_id`` from the CBS mirror, whatever its form.

    ``tables/<ID>.csv`` and ``tables-r3/<ID>.csv`` (:data:`EXPORT_FOLDERS`) are read with
    :func:`read_cbsodata_export` (units from ``config/export_units.toml``); ``85984NED`` and
    ``70072ned`` come from ``statline/``, the tables of :data:`CODED_FILES` from ``coded/``
    (:func:`read_coded_export`) and those of :data:`TYPED_V3_TABLES` from ``odata-v3/``
    (:func:`read_typed_v3_parquet`).

    Examples
    --------
    The CBS mirror is not part of the repository, so this is not run as a doctest::

        woz = read_mirror_table("85036NED")
    """
    root = Path(mirror if mirror is not None else settings.mirror_dir)
    tid = table_id.upper()
    if tid == "85984NED":
        props_file = root / "odata-v3" / "85984NED" / "DataProperties.json"
        info_file = root / "odata-v3" / "85984NED" / "TableInfos.json"
        props = json.loads(props_file.read_text(encoding="utf-8")) if props_file.is_file() else None
        infos = json.loads(info_file.read_text(encoding="utf-8")) if info_file.is_file() else []
        info = {}
        if infos:
            first = infos[0] if isinstance(infos, list) else infos
            info = {"title": first.get("Title"), "modified": first.get("Modified")}
        return read_statline_kwb(
            root / "statline" / "85984NED_kwb2024_leeftijd_geslacht.csv",
            root / "statline" / "85984NED_kwb2024_herkomst.csv",
            properties=props,
            info=info,
        )
    units = load_export_units().get(tid, {})
    if tid in CODED_FILES:
        path = root / CODED_FILES[tid]
        return read_coded_export(path, path.name.split("_")[0], units=units)
    if tid in TYPED_V3_TABLES:
        return read_typed_v3_parquet(root / "odata-v3" / tid, tid, TYPED_V3_TABLES[tid])
    codes = build_region_codes(root)
    if tid == "70072NED":
        return read_statline_kerncijfers(
            root / "statline" / "70072ned_regionale_kerncijfers_2025.csv", codes
        )
    matches: list[Path] = []
    for folder in EXPORT_FOLDERS:
        matches = [p for p in sorted((root / folder).glob("*.csv")) if p.stem.upper() == tid]
        if matches:
            break
    if not matches:
        raise ExportFormatError(
            f"Tabel {table_id} staat niet in de CBS-mirror {root}. Zie MANIFEST.md daar voor "
            "de beschikbare tabellen."
        )
    return read_cbsodata_export(matches[0], codes, table_id=matches[0].stem, units=units)


# -- Kerncijfers wijken en buurten attributes on municipal polygons ---------------------------
#: Renamed attribute -> (CBS topic stem, title, unit) for the secondary KWB source in the
#: mirror's ``other/`` folder. Only attributes that are Kerncijfers wijken en buurten figures
#: are mapped; the non-CBS enrichments in those files (``lbt_*``, ``ff_*``, ``zk_*``, ``cr_*``,
#: ``bag_*``) and attributes of unclear origin are ignored.
KWB_ATTRIBUTES: dict[str, tuple[str, str, str]] = {
    "afstand_huisarts": ("AfstandTotHuisartsenpraktijk", "Afstand tot huisartsenpraktijk", "km"),
    "afstand_supermarkt": ("AfstandTotGroteSupermarkt", "Afstand tot grote supermarkt", "km"),
    "afstand_kdv": ("AfstandTotKinderdagverblijf", "Afstand tot kinderdagverblijf", "km"),
    "afstand_basisonderwijs": ("AfstandTotSchool", "Afstand tot school", "km"),
    "bedrijfsvestigingen": ("BedrijfsvestigingenTotaal", "Bedrijfsvestigingen totaal", "aantal"),
    "aantal_inwoners": ("AantalInwoners", "Aantal inwoners", "aantal"),
}


def read_kwb_attributes(
    path: Path | str, table_id: str, year: int, title: str | None = None
) -> CbsTable:
    """Read Kerncijfers-wijken-en-buurten figures from a municipal GeoJSON layer.

    The mirror's ``other/gemeenten_<jaar>_kwb_attributen.geojson`` files carry some KWB figures
    under renamed keys (``afstand_huisarts``). This reader maps those in
    :data:`KWB_ATTRIBUTES` back to the CBS topic stems of the KWB table of that year, so the
    catalogue finds them exactly as in the live table. A secondary source: municipalities only.

    Parameters
    ----------
    path : Path or str
        The GeoJSON file.
    table_id : str
        The KWB table of that year (``84583NED`` for 2019, ``85318NED`` for 2022, ...).
    year : int
        Reference year; the table gets ``info["period"] = "<year>JJ00"``.
    title : str, optional
        Table title for provenance.

    Raises
    ------
    ExportFormatError
        If the file is not a GeoJSON feature collection with ``gemeentecode``.
    """
    path = Path(path)
    try:
        features = json.loads(path.read_text(encoding="utf-8"))["features"]
        props = pd.DataFrame([f["properties"] for f in features])
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise ExportFormatError(
            f"{path.name} is geen GeoJSON-laag met gemeenten en hun kerncijfers ({err})."
        ) from err
    if "gemeentecode" not in props:
        raise ExportFormatError(f"{path.name} heeft geen kolom gemeentecode.")
    codes = props["gemeentecode"].astype(str).str.strip()
    keep = codes.str.match(r"^GM\d{4}$") & (codes != "GM0998")  # GM0998 is 'Buitenland'
    present = [a for a in KWB_ATTRIBUTES if a in props]
    data = pd.DataFrame({"WijkenEnBuurten": codes[keep].to_numpy()})
    for attribute in present:
        values = pd.to_numeric(props.loc[keep, attribute], errors="coerce")
        data[KWB_ATTRIBUTES[attribute][0]] = values.where(values >= 0).to_numpy()
    data = data.sort_values("WijkenEnBuurten").reset_index(drop=True)
    topics = _topics_frame(
        [
            {"key": stem_, "title": t, "unit": unit, "decimals": 1 if unit == "km" else 0}
            for stem_, t, unit in (KWB_ATTRIBUTES[a] for a in present)
        ]
    )
    names = props.loc[keep, "gemeentenaam"] if "gemeentenaam" in props else codes[keep]
    dimension = pd.DataFrame({"key": codes[keep].to_numpy(), "title": names.to_numpy()})
    return CbsTable(
        table_id=table_id,
        data=data,
        topics=topics,
        dimensions={"WijkenEnBuurten": dimension.sort_values("key").reset_index(drop=True)},
        dimension_types={"WijkenEnBuurten": "GeoDimension"},
        info={
            "title": title or f"Kerncijfers wijken en buurten {year}",
            "period": f"{year}JJ00",
            "secondary_source": (
                "gemeentelijke PDOK-laag met hernoemde kerncijfers; alleen gemeenten, "
                "alleen de velden in KWB_ATTRIBUTES"
            ),
            "source_file": path.name,
            "truncated": False,
        },
        source="kwb-attributes",
    )
