"""Everything one report shows for one municipality, gathered in one call.

:func:`load_report_data` checks the parameters (:func:`parse_peildatum`, :func:`parse_jaar`),
reads the indicator panel for the municipality and its benchmarks, builds the scorecards and
findings, and returns a :class:`ReportData` that the sections of the notebook render.

Examples
--------
>>> from westerkwartier.reporting.report_data import load_report_data
>>> data = load_report_data("talent", "GM1969", peildatum="2026-11-27")
>>> data.region.name, data.peildatum.isoformat()
('Westerkwartier', '2026-11-27')
>>> all(f.text.endswith(".") for f in data.findings)
True
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from westerkwartier.analysis import rules
from westerkwartier.analysis.comparison import (
    MIN_PEERS,
    PeerMedian,
    ScoreRow,
    municipal_spreads,
    observations,
    scorecard,
)
from westerkwartier.errors import InputError
from westerkwartier.indicators.catalogue import Catalogue, load_catalogue
from westerkwartier.indicators.panel_cache import national_panel
from westerkwartier.indicators.precision import ROUNDING, precision_kind
from westerkwartier.reporting.findings import Finding, findings, missing_rows
from westerkwartier.reporting.formatting import fmt, word_for
from westerkwartier.reporting.report_catalogue import (
    ReportSpec,
    load_report_catalogue,
    report_spec,
)
from westerkwartier.sources.regions import COUNTRY

#: Earliest reference year a person may ask for.
MIN_YEAR: int = 2010


# ----------------------------------------------------------------------------------------------
# Input checks
# ----------------------------------------------------------------------------------------------
def parse_peildatum(peildatum: str | dt.date) -> dt.date:
    """Read the report date (``JJJJ-MM-DD``).

    Raises
    ------
    InputError
        When the text is not a valid date.

    Examples
    --------
    >>> parse_peildatum("2026-11-27")
    datetime.date(2026, 11, 27)
    """
    if isinstance(peildatum, dt.datetime):
        return peildatum.date()
    if isinstance(peildatum, dt.date):
        return peildatum
    try:
        return dt.date.fromisoformat(str(peildatum).strip())
    except ValueError:
        raise InputError(
            f"Peildatum {peildatum!r} is geen geldige datum; schrijf hem als JJJJ-MM-DD, "
            "bijvoorbeeld 2026-11-27."
        ) from None


def parse_jaar(jaar: Any, peildatum: dt.date) -> int:
    """Check the reference year; 0 means "the latest year with data".

    Raises
    ------
    InputError
        When the year is not a whole number, lies after the report date (in the future) or
        before :data:`MIN_YEAR`.

    Examples
    --------
    >>> parse_jaar("2023", dt.date(2026, 11, 27))
    2023
    """
    if isinstance(jaar, bool):
        raise InputError(f"Jaar {jaar!r} is geen jaartal; geef bijvoorbeeld 2023 (of 0).")
    try:
        year = int(str(jaar).strip()) if not isinstance(jaar, int) else jaar
    except ValueError:
        raise InputError(
            f"Jaar {jaar!r} is geen jaartal; geef een jaar als 2023, of 0 voor het laatste "
            "jaar met gegevens."
        ) from None
    if year == 0:
        return 0
    if year > peildatum.year:
        raise InputError(
            f"Jaar {year} ligt na de peildatum ({peildatum.isoformat()}): over de toekomst "
            "zijn geen cijfers. Kies een eerder jaar of 0 voor het laatste jaar met gegevens."
        )
    if year < MIN_YEAR:
        raise InputError(
            f"Jaar {year} valt buiten het bereik van de monitor ({MIN_YEAR} tot en met "
            f"{peildatum.year}). Kies een jaar in dat bereik of 0 voor het laatste jaar."
        )
    return year


# ----------------------------------------------------------------------------------------------
# One report's data
# ----------------------------------------------------------------------------------------------
@dataclass
class ReportData:
    """Everything a report notebook shows, computed once.

    Attributes
    ----------
    spec : ReportSpec
        The report of the manifest.
    region : westerkwartier.sources.regions.Region
        The municipality.
    jaar : int
        Requested reference year (0: latest).
    peiljaar : int or None
        The year most figures describe (see :func:`reference_year`).
    peildatum : datetime.date
        Date printed on the report (passed in; never the clock).
    regions : pandas.DataFrame
        code, name, level, role, label: the municipality, Nederland, province, neighbours and
        the extra municipalities to compare (role ``vergelijking``).
    panel : pandas.DataFrame
        The indicator panel for those regions and the report's indicators.
    rows : list of ScoreRow
        Scorecard rows of every section (in section order).
    context : list of ScoreRow
        Rows of the context indicators.
    findings : list of Finding
        The summary.
    gegevensmelding : str
        Notice about the data date set by scheduled runs (empty: none).
    catalogue : Catalogue
        The indicator catalogue.
    peer_codes : list of str
        The statistical peers whose median is the third benchmark (empty: none).
    ambities : Path or None
        The partners' ambitions file given for this report (checked); None: the report has no
        ambitions section.
    age_panel : pandas.DataFrame or None
        The survey indicators and their age groups for the municipality, its province and
        Nederland (rule *leeftijd*); None when the report shows no survey figure.
    """

    spec: ReportSpec
    region: Any
    jaar: int
    peiljaar: int | None
    peildatum: dt.date
    regions: pd.DataFrame
    panel: pd.DataFrame
    rows: list[ScoreRow]
    context: list[ScoreRow]
    findings: list[Finding]
    gegevensmelding: str
    catalogue: Catalogue
    peer_codes: list[str] = field(default_factory=list)
    ambities: Path | None = None
    age_panel: pd.DataFrame | None = None
    _split: tuple[pd.DataFrame, dict[str, pd.DataFrame]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def indicator_panel(self, indicator: str) -> pd.DataFrame:
        """Return the rows of ``panel`` for one indicator (empty when it has none).

        The panel is split by indicator once, at the first call, and again when ``panel`` has
        been replaced by another frame: a report's charts and tables ask for one indicator at
        a time, and comparing the whole panel's text column with the indicator's name for every
        chart cost a warm report about 0,1 s. Change the panel by replacing it, not in place.
        """
        if self._split is None or self._split[0] is not self.panel:
            parts = {str(name): rows for name, rows in self.panel.groupby("indicator", sort=False)}
            self._split = (self.panel, parts)
        rows = self._split[1].get(indicator)
        return rows if rows is not None else self.panel.iloc[:0]

    @property
    def province_label(self) -> str:
        """``provincie Groningen`` (how charts name the province)."""
        return f"provincie {self.region.province_name}" if self.region.province_name else ""

    def section_rows(self, section_id: str) -> list[ScoreRow]:
        """Scorecard rows of one section."""
        self.spec.section(section_id)
        return [r for r in self.rows if r.section == section_id]

    def row(self, indicator: str) -> ScoreRow | None:
        """Return the row of one indicator (scorecard or context), if the report has it."""
        for r in [*self.rows, *self.context]:
            if r.indicator == indicator:
                return r
        return None

    @property
    def tables(self) -> list[str]:
        """CBS table ids behind the report's figures (values present), sorted."""
        used = self.panel.loc[self.panel["value"].notna(), "source_table"].dropna()
        ids = {t for text in used.unique() for t in str(text).split("+") if t}
        return sorted(ids, key=str.lower)

    @property
    def catalogue_tables(self) -> list[str]:
        """Every CBS table the report's indicators may use (also those without values)."""
        ids: dict[str, None] = {}
        for ind in self.spec.indicators:
            ids.update(dict.fromkeys(self.catalogue[ind].tables))
        return sorted(ids, key=str.lower)


def report_regions(
    region: Any,
    benchmarks: pd.DataFrame,
    vergelijk: Sequence[Any] = (),
) -> pd.DataFrame:
    """Return the regions of a report: the municipality first, then its benchmarks.

    Parameters
    ----------
    region : Region
        The municipality.
    benchmarks : pandas.DataFrame
        :func:`westerkwartier.indicators.panel.benchmarks_for` (code, name, level, role); COROP
        areas
        are left out (the reports compare with province, Nederland and neighbours).
    vergelijk : sequence of Region
        Extra municipalities (role ``vergelijking``).

    Returns
    -------
    pandas.DataFrame
        code, name, level, role and ``label`` (name as shown in charts; the province as
        ``provincie <name>`` so that it never looks like a municipality of the same name).
    """
    rows = [{"code": region.code, "name": region.name, "level": "gemeente", "role": "gemeente"}]
    bench = benchmarks[benchmarks["role"] != "COROP-gebied"]
    rows += bench.to_dict("records")
    rows += [
        {"code": r.code, "name": r.name, "level": "gemeente", "role": "vergelijking"}
        for r in vergelijk
    ]
    frame = pd.DataFrame(rows, columns=["code", "name", "level", "role"])
    frame = frame.drop_duplicates("code").reset_index(drop=True)
    frame["label"] = [
        f"provincie {n}" if lvl == "provincie" else n
        for n, lvl in zip(frame["name"], frame["level"], strict=True)
    ]
    return frame


def _context_findings(data_rows: list[ScoreRow], context: list[ScoreRow], name: str) -> list:
    out = []
    for row in context:
        if row.own is None:
            continue
        text = f"{row.label} in {name}: {fmt(row.own.value, row.unit)} ({row.own.year})."
        if rules.trend_counts(row.trend) and row.trend.start is not None:
            verb = word_for("gestegen" if row.trend.word == "stijgt" else "gedaald", row.unit)
            text = text[:-1] + (
                f"; sinds {row.trend.start.year} ({fmt(row.trend.start.value, row.unit)}) {verb}."
            )
        out.append(Finding(text, "neutraal", 0.0, row.indicator))
    missing = missing_rows(data_rows)
    if missing:
        out.insert(
            0,
            Finding(
                f"Voor {len(missing)} van de {len(data_rows)} cijfers in dit rapport is voor "
                f"{name} geen waarde beschikbaar; zie 'Wat ontbreekt'.",
                "neutraal",
                0.0,
                None,
            ),
        )
    return out


def _positions(column: pd.Series, labels: Sequence[str] | pd.Series) -> np.ndarray:
    """Position of each value of ``column`` in ``labels`` (-1 where absent or missing).

    ``pd.Index(labels).get_indexer(column)``, but it hashes each distinct value of the long
    column once (:func:`pandas.factorize`) instead of every row: about four times faster on
    the national panel's string columns.
    """
    codes, uniques = pd.factorize(column)
    if not len(uniques):
        return np.full(len(codes), -1, dtype=np.intp)
    found = pd.Index(labels).get_indexer(uniques)
    return np.where(codes >= 0, found[codes], -1)


def _age_panel(
    cat: Any,
    indicators: Sequence[str],
    region: Any,
    regions: pd.DataFrame,
    shared: bool,
    loader: Callable[[str], Any] | None,
    registry: Any,
) -> pd.DataFrame | None:
    """Return the survey figures per age group of a municipality, its province and Nederland.

    Every survey indicator of the catalogue with age groups, and those groups
    (``<id>@18 tot 65 jaar``), for the rule *leeftijd*
    (:func:`westerkwartier.analysis.comparison.age_checked`): all of them, so the share of
    older adults read from them is the same in every report. None when the report shows no
    such indicator. ``shared``: read the national panel (the default data), else compute with
    ``loader`` and ``registry``.
    """
    if not cat.age_variants(indicators):
        return None
    survey = [i.id for i in cat if i.age_groups]
    ids = [*survey, *cat.age_variants(survey)]
    codes = [c for c in (region.code, region.province, COUNTRY) if c]
    if shared:
        national = national_panel(ids)
        return national[national["region_code"].isin(codes)].reset_index(drop=True)
    from westerkwartier.indicators.panel import panel

    where = regions[regions["code"].isin(codes)][["code", "name", "level"]]
    return panel(regions=where, indicators=ids, loader=loader, registry=registry)


def _regions_panel(
    national: pd.DataFrame, regions: pd.DataFrame, indicators: Sequence[str]
) -> pd.DataFrame | None:
    """Rows of ``regions`` in a national panel, ordered as ``panel(regions=...)`` orders them.

    That is per indicator (in the order given), per region (in the order of ``regions``), per
    year, with the names and levels of ``regions``. None if a region is not in the panel.
    """
    where = regions[["code", "name", "level"]].drop_duplicates("code").reset_index(drop=True)
    # vectorised throughout: the national panel has hundreds of thousands of rows
    at = _positions(national["region_code"], where["code"])
    keep = np.flatnonzero(at >= 0)
    if len(np.unique(at[keep])) < len(where):
        return None  # a region without rows in the panel
    rank = _positions(national["indicator"], list(dict.fromkeys(indicators)))
    keep = keep[rank[keep] >= 0]
    order = keep[np.lexsort((keep, at[keep], rank[keep]))]
    out = national.take(order).reset_index(drop=True)
    out["region_name"] = where["name"].take(at[order]).reset_index(drop=True)
    out["level"] = where["level"].take(at[order]).reset_index(drop=True)
    # the provinces without a municipality that dominates their figure, where the panel has them
    provinces = list(where.loc[where["level"] == "provincie", "code"])
    if provinces and "level" in national:
        candidates = national[national["level"] == "provincie zonder gemeente"]
        codes = candidates["region_code"].astype(str)
        without = codes.str.startswith(tuple(f"{p}-" for p in provinces))
        without &= candidates["indicator"].isin(list(indicators))
        if without.any():
            out = pd.concat([out, candidates[without]], ignore_index=True)
    return out


def all_report_indicators() -> list[str]:
    """Return the scorecard indicators of every report (for the reference year)."""
    ids: dict[str, None] = {}
    for spec in load_report_catalogue().values():
        for section in spec.secties:
            ids.update(dict.fromkeys(section.indicatoren))
    return list(ids)


def run_reference_year(
    panel: pd.DataFrame, code: str, indicators: Sequence[str], requested: int | None = None
) -> int | None:
    """Return the reference year of every report of a run (rule *peiljaar*).

    The upper median of the latest years with a value (up to ``requested``) of the scorecard
    indicators of all reports, for the municipality: so that both reports name one year.
    """
    found = observations(panel, code, indicators, requested or None).values()
    return rules.reference_year([obs.year for obs, _ in found if obs is not None], requested)


def peer_medians(
    panel: pd.DataFrame, codes: Sequence[str], indicators: Sequence[str]
) -> dict[tuple[str, int], PeerMedian]:
    """Return the peers' median per indicator and year, with how many peers have a value.

    Only where at least :data:`MIN_PEERS` of them have a value. Where CBS rounded some of the
    peers' figures (``afronding``), the median gets the extremes that rounding allows: the
    median of the peers' lower extremes and that of their upper ones (a figure without
    extremes counts as both), so that a municipality is "hoger" than its peers only when it
    stays so at the extremes, as against the province (rule *verschil*). A survey's interval
    gives the median none.

    Examples
    --------
    >>> p = pd.DataFrame({"region_code": ["A", "B", "C"], "indicator": "x", "year": 2023,
    ...                   "value": [10.0, 11.0, 12.0], "lower": [9.5, None, 11.5],
    ...                   "upper": [10.5, None, 12.5], "precision": ["afronding: tientallen",
    ...                   None, "afronding: tientallen"]})
    >>> peer_medians(p, ["A", "B", "C"], ["x"])[("x", 2023)]
    PeerMedian(value=11.0, peers=3, lower=11.0, upper=11.0, precision='afronding: tientallen')
    """
    rows = panel[
        panel["region_code"].isin(list(codes))
        & panel["indicator"].isin(list(indicators))
        & panel["value"].notna()
    ].drop_duplicates(["indicator", "year", "region_code"])
    bounded = (rows["lower"].notna() & rows["upper"].notna()).to_numpy(dtype=bool)
    kinds = [
        precision_kind(text) if has else None
        for text, has in zip(rows["precision"], bounded, strict=True)
    ]
    rounded = np.array([kind == ROUNDING for kind in kinds], dtype=bool)
    value = rows["value"].to_numpy(dtype=float)
    lower = rows["lower"].to_numpy(dtype=float, na_value=np.nan)
    upper = rows["upper"].to_numpy(dtype=float, na_value=np.nan)
    texts = rows["precision"].tolist()
    work = pd.DataFrame(
        {
            "indicator": rows["indicator"].to_numpy(dtype=object),
            "year": rows["year"].to_numpy(),
            "value": value,
            "low": np.where(rounded, lower, value),
            "high": np.where(rounded, upper, value),
            "rounded": rounded,
            "other": bounded & ~rounded,
            "precision": [t if r else None for t, r in zip(texts, rounded, strict=True)],
        }
    )
    stats = work.groupby(["indicator", "year"], sort=True).agg(
        median=("value", "median"),
        peers=("value", "count"),
        low=("low", "median"),
        high=("high", "median"),
        rounded=("rounded", "any"),
        other=("other", "any"),
        precision=("precision", "first"),
    )
    out: dict[tuple[str, int], PeerMedian] = {}
    for (ind, year), r in zip(stats.index, stats.itertuples(index=False), strict=True):
        if r.peers < MIN_PEERS:
            continue
        extremes = bool(r.rounded) and not bool(r.other)
        out[(str(ind), int(year))] = PeerMedian(
            float(r.median),
            int(r.peers),
            float(r.low) if extremes else None,
            float(r.high) if extremes else None,
            str(r.precision) if extremes else None,
        )
    return out


def load_report_data(
    rapport: str,
    gemeente: str = "GM1969",
    jaar: int | str = 0,
    vergelijk: Sequence[str] = (),
    peildatum: str | dt.date = "2026-11-27",
    gegevensmelding: str = "",
    ambities: str | Path = "",
    *,
    loader: Callable[[str], Any] | None = None,
    registry: Any | None = None,
    neighbours: Callable[[str], list[str]] | None = None,
) -> ReportData:
    """Compute everything one report shows for one municipality.

    Parameters
    ----------
    rapport : str
        Report id of the manifest (``talent``, ``aantrekkelijkheid``).
    gemeente : str
        CBS code or name of the municipality.
    jaar : int or str
        Reference year; 0 = per figure the latest year with data.
    vergelijk : sequence of str
        Extra municipalities to compare with (codes or names).
    peildatum : str or datetime.date
        Date printed on the report (``JJJJ-MM-DD``).
    gegevensmelding : str
        Notice about the data shown at the top of the report (empty: none).
    ambities : str or Path
        The partners' ambitions file (TOML); empty: no ambitions section. It is read and
        checked here, before any data, so a bad file stops the report with its line numbers.
    loader, registry, neighbours
        Injectable for tests (see :func:`westerkwartier.indicators.panel.panel`).

    Returns
    -------
    ReportData

    Raises
    ------
    RegionNotFound, RegionDissolved, InputError
        For a bad municipality, year, report or date; checked before any data are read.
    """
    from westerkwartier.indicators.panel import benchmarks_for, panel
    from westerkwartier.sources.regions import load_registry

    spec = report_spec(rapport)
    date = parse_peildatum(peildatum)
    year = parse_jaar(jaar, date)
    ambitions_path = check_ambitions_file(ambities, date)
    injected = registry is not None
    registry = registry or load_registry()
    region = registry.municipality(gemeente)
    extra = [registry.municipality(v) for v in (vergelijk or [])]
    bench = benchmarks_for(region.code, registry=registry, neighbours=neighbours)
    regions = report_regions(region, bench, extra)
    cat = load_catalogue()
    everything = list(dict.fromkeys([*spec.indicators, *all_report_indicators()]))
    frame = None
    peer_values = None
    spreads = None
    peer_codes: list[str] = []
    if loader is None and not injected:  # the default data: share the national panel
        national = national_panel(everything)
        frame = _regions_panel(national, regions, everything)
        peer_codes = _peer_codes(region.code)
        if peer_codes:
            peer_values = peer_medians(national, peer_codes, spec.indicators)
        spreads = report_spreads(spec)
    if frame is None:
        frame = panel(
            regions=regions[["code", "name", "level"]],
            indicators=everything,
            loader=loader,
            registry=registry,
        )
    shared = loader is None and not injected
    ages = _age_panel(cat, spec.indicators, region, regions, shared, loader, registry)
    peiljaar = run_reference_year(frame, region.code, all_report_indicators(), year)
    frame = frame[frame["indicator"].isin(list(spec.indicators))].reset_index(drop=True)
    section_of = {i: s.id for s in spec.secties for i in s.indicatoren}
    scored = [i for s in spec.secties for i in s.indicatoren]
    card = partial(
        scorecard,
        frame,
        focus=region.code,
        province=region.province,
        province_name=region.province_name,
        catalogue=cat,
        year=year,
        age_panel=ages,
        spreads=spreads,
    )
    rows = card(indicators=scored, section_of=section_of, peer_values=peer_values)
    context = card(indicators=list(spec.context))
    summary = findings(
        rows,
        subjects=spec.onderwerp,
        extra=_context_findings(rows, context, region.name),
        lead=spec.lead_indicators,
        reference=peiljaar,
        families={i.id: i.family for i in cat if i.family},
    )
    return ReportData(
        spec=spec,
        region=region,
        jaar=year,
        peiljaar=peiljaar,
        peildatum=date,
        regions=regions,
        panel=frame,
        rows=rows,
        context=context,
        findings=summary,
        gegevensmelding=str(gegevensmelding or "").strip(),
        catalogue=cat,
        peer_codes=peer_codes,
        ambities=ambitions_path,
        age_panel=ages,
    )


def check_ambitions_file(ambities: str | Path | None, peildatum: dt.date) -> Path | None:
    """Return the checked ambitions file of a report, or None when none is given.

    Parameters
    ----------
    ambities : str or Path or None
        Path of the file; empty or None: the report shows no ambitions.
    peildatum : datetime.date
        Report date; its year is "now" for the check that no target year is in the past.

    Returns
    -------
    Path or None
        The absolute path.

    Raises
    ------
    westerkwartier.analysis.ambitions.AmbitionFileError
        The file is missing or has errors (every problem with its line number).
    """
    from westerkwartier.analysis.ambitions import read_ambitions

    if ambities is None or not str(ambities).strip():
        return None
    path = Path(str(ambities).strip()).expanduser().absolute()
    read_ambitions(path, peiljaar=peildatum.year)
    return path


def _peer_codes(code: str) -> list[str]:
    """Return the municipality's statistical peers (empty when they cannot be determined)."""
    from westerkwartier.analysis.peers import peers
    from westerkwartier.errors import WesterkwartierError

    try:
        return [str(c) for c in peers(code)["code"]]
    except WesterkwartierError:
        return []


#: Where :func:`report_spreads` keeps the spreads in the cache folder, per data fingerprint.
SPREADS_DIR = "spreads"

#: The spreads of this process, per (data fingerprint, report).
_spreads: dict[tuple[str, str], dict[tuple[str, int], float]] = {}


def report_spreads(spec: ReportSpec) -> dict[tuple[str, int], float]:
    """Return the spread between municipalities of every indicator of a report (rule *klein*).

    :func:`~westerkwartier.analysis.comparison.municipal_spreads` of the national panel, worked
    out once per data fingerprint: kept in memory for the process and in the cache folder
    (``spreads/<fingerprint>/<report>``) for every later kernel on the same data, like the
    panel itself. New data give a new fingerprint, so spreads are never those of other data.

    Parameters
    ----------
    spec : ReportSpec
        The report; the spreads of all its indicators (:attr:`ReportSpec.indicators`).

    Returns
    -------
    dict
        (indicator, year) -> spread; a fresh dict the caller may change.
    """
    from westerkwartier.indicators import panel_cache

    fingerprint = panel_cache.data_fingerprint()
    key = (fingerprint, spec.id)
    if key not in _spreads:
        found = panel_cache.read_bundle(SPREADS_DIR, spec.id, fingerprint)
        if found is not None and "spreads" in found[0]:
            rows = found[0]["spreads"]
            spreads = {
                (str(ind), int(year)): float(value)
                for ind, year, value in zip(
                    rows["indicator"], rows["year"], rows["spread"], strict=True
                )
            }
        else:
            spreads = municipal_spreads(national_panel(spec.indicators), spec.indicators)
            rows = pd.DataFrame(
                [(ind, year, value) for (ind, year), value in spreads.items()],
                columns=["indicator", "year", "spread"],
            )
            panel_cache.write_bundle(SPREADS_DIR, spec.id, {"spreads": rows}, {}, fingerprint)
        if len(_spreads) >= 8:  # a process sees few data versions; forget the oldest
            del _spreads[next(iter(_spreads))]
        _spreads[key] = spreads
    return dict(_spreads[key])
