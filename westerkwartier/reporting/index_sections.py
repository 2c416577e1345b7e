"""The index, peer and ambitions sections of the reports: their words, numbers and charts.

The computation lives in :mod:`westerkwartier.analysis.composite`,
:mod:`westerkwartier.analysis.peers` and
:mod:`westerkwartier.analysis.ambitions`; this module puts their results into Dutch sentences,
tables
and one chart for the report notebooks:

* :func:`load_index_data` computes everything once per notebook, on ONE national panel (every
  municipality, the provinces and Nederland; the index's indicators, the peer characteristics
  and the ambitions' indicators) that it passes to every function;
* :func:`index_kern`, :func:`show_rank_intervals`, :func:`bijdragen`, :func:`invloed` and
  :func:`vergelijkingsgroep` return the parts of the section "Index en vergelijkbare
  gemeenten"; :func:`ambities` the section "Ambities".

The pure helpers (:func:`rank_text`, :func:`choose_from_year`, :func:`influence_rows`,
:func:`decomposition_rows`, :func:`sensitivity_sentence`, :func:`pulse_rows`, ...) work on
small frames and are tested without any data. Headings are ``h3`` (below the notebook's ``##``
section heading); the markup comes from Jinja2 templates (``templates/html/``) that escape every
text from data; numbers are Dutch.

Examples
--------
>>> from westerkwartier.reporting.report_data import load_report_data
>>> rapport = load_report_data("talent", "GM1969", peildatum="2026-11-27")
>>> index = load_index_data(rapport)
>>> index.rank["region_name"], bool(index.rank["rank_p05"] <= index.rank["median_rank"])
('Westerkwartier', True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from westerkwartier.errors import InputError
from westerkwartier.indicators.panel_cache import national_panel
from westerkwartier.indicators.precision import ROUNDING, precision_detail
from westerkwartier.reporting.formatting import (
    and_list,
    decimals_for,
    fmt,
    fmt_change,
    fmt_number,
    fmt_pct,
    fmt_signed,
    is_missing,
    unit_label,
)
from westerkwartier.reporting.html import render_template
from westerkwartier.reporting.report_data import ReportData
from westerkwartier.reporting.sections import Html, part
from westerkwartier.sources.regions import COUNTRY

#: The index shown in each report.
REPORT_INDEX: dict[str, str] = {"aantrekkelijkheid": "aantrekkelijkheid", "talent": "talent"}


#: Years looked back for the decomposition of the score change.
DECOMPOSE_SPAN: int = 5

#: A first year for the decomposition must share at least this fraction of the best
#: candidate's overlap in (nominally weighted) indicators with the index year.
OVERLAP_SHARE: float = 0.8

#: Rows of the decomposition table; smaller contributions are summed in one row.
DECOMPOSE_ROWS: int = 8

#: Columns of the national panel the composite functions need (the slim copy is faster).
_PANEL_COLUMNS = ["region_code", "region_name", "level", "year", "indicator", "value"]

#: Symbol and word per ambition status: never told by colour alone.
STATUS_LABELS: dict[str, str] = {
    "op koers": "✓ op koers",
    "twijfelachtig": "~ twijfelachtig",
    "niet op koers": "✗ niet op koers",
    "onbekend": "? onbekend",
}
#: CSS class (tone) per status.
STATUS_TONES: dict[str, str] = {
    "op koers": "gunstig",
    "twijfelachtig": "neutraal",
    "niet op koers": "ongunstig",
    "onbekend": "neutraal",
}

#: Dutch names of the comparison groups of :func:`westerkwartier.analysis.peers.peer_sensitivity`.
GROUP_NL: dict[str, str] = {
    "peers k=5": "de 5 meest vergelijkbare gemeenten",
    "peers k=10": "de 10 meest vergelijkbare gemeenten",
    "buurgemeenten": "de buurgemeenten",
    "buurgemeenten + peers": "buurgemeenten en vergelijkbare gemeenten samen",
}

#: Legend of the role abbreviations in the rank-interval chart.
LEGEND: str = "(buur) = buurgemeente; (peer) = statistisch vergelijkbare gemeente"

#: Dutch role names in the peer table.
ROLE_NL: dict[str, str] = {
    "buurgemeente": "buurgemeente",
    "statistische peer": "vergelijkbare gemeente",
    "buurgemeente en peer": "buurgemeente en vergelijkbaar",
    "vergelijking": "extra vergelijking",
}


# ----------------------------------------------------------------------------------------------
# Pure helpers (tested on small frames)
# ----------------------------------------------------------------------------------------------
def fmt_score(value: Any) -> str:
    """Format an index score (z-scale) with two decimals: ``0,08``, ``-1,55``.

    Examples
    --------
    >>> fmt_score(0.0831), fmt_score(-1.547)
    ('0,08', '-1,55')
    """
    return fmt_number(value, 2)


def rank_text(row: Mapping[str, Any]) -> str:
    """``148 (119–180)``: median rank and 5-95% interval, whole ranks.

    Examples
    --------
    >>> rank_text({"median_rank": 148.0, "rank_p05": 119.0, "rank_p95": 180.4})
    '148 (119–180)'
    """
    return (
        f"{fmt_number(row['median_rank'])} ({fmt_number(row['rank_p05'])}–"
        f"{fmt_number(row['rank_p95'])})"
    )


def choose_from_year(
    used: Mapping[int, set[str]],
    scored: Sequence[int],
    year: int,
    weights: Mapping[str, float],
    span: int = DECOMPOSE_SPAN,
) -> int | None:
    """Pick the first year of the decomposition of the score change.

    The earliest year of the last ``span`` years before ``year`` in which the municipality
    has a score and whose indicators carry (nearly, >= 80% of the best candidate) as much of
    the nominal weight of ``year``'s indicators as any candidate: a long enough span, without
    a change that is mostly a change in which indicators count.

    Parameters
    ----------
    used : mapping of int to set of str
        Indicators used per year.
    scored : sequence of int
        Years in which the municipality has a score.
    year : int
        The year of the index.
    weights : mapping of str to float
        Nominal weight of each indicator within the index.

    Returns
    -------
    int or None
        None when no earlier year qualifies.

    Examples
    --------
    >>> used = {2020: {"a"}, 2021: {"a", "b"}, 2022: {"a", "b"}}
    >>> choose_from_year(used, [2020, 2021, 2022], 2022, {"a": 0.5, "b": 0.5})
    2021
    """
    target = used.get(year, set())
    total = sum(weights.get(i, 0.0) for i in target) or 1.0
    overlap = {
        y: sum(weights.get(i, 0.0) for i in used.get(y, set()) & target) / total
        for y in range(year - span, year)
        if y in set(scored)
    }
    if not overlap:
        return None
    best = max(overlap.values())
    return min(y for y, share in overlap.items() if share >= OVERLAP_SHARE * best - 1e-12)


def nominal_weights(spec: Any, indicators: Sequence[str]) -> dict[str, float]:
    """Nominal weight within the index of each of ``indicators`` (re-normalised per sub-index).

    Examples
    --------
    >>> from types import SimpleNamespace as N
    >>> spec = N(subs=[N(weight=1.0, indicators=[N(id="a", weight=1.0), N(id="b", weight=3.0)]),
    ...                N(weight=1.0, indicators=[N(id="c", weight=1.0)])])
    >>> nominal_weights(spec, ["a", "b", "c"])
    {'a': 0.125, 'b': 0.375, 'c': 0.5}
    """
    chosen = set(indicators)
    subs = [s for s in spec.subs if any(i.id in chosen for i in s.indicators)]
    total = sum(s.weight for s in subs) or 1.0
    out: dict[str, float] = {}
    for sub in subs:
        inds = [i for i in sub.indicators if i.id in chosen]
        w = sum(i.weight for i in inds)
        for i in inds:
            out[i.id] = sub.weight / total * i.weight / w
    return out


def influence_word(ratio: float) -> str:
    """Say in words how the effective influence relates to the nominal weight.

    Examples
    --------
    >>> influence_word(2.0), influence_word(1.0), influence_word(0.2)
    ('weegt zwaarder dan bedoeld', 'ongeveer zoals bedoeld', 'weegt lichter dan bedoeld')
    """
    if is_missing(ratio):
        return "onbekend"
    if ratio >= 1.5:
        return "weegt zwaarder dan bedoeld"
    if ratio <= 0.5:
        return "weegt lichter dan bedoeld"
    return "ongeveer zoals bedoeld"


def influence_rows(
    influence: pd.DataFrame, labels: Mapping[str, str], sub_labels: Mapping[str, str]
) -> pd.DataFrame:
    """Return the table "gewicht en werkelijke invloed" as display text.

    Parameters
    ----------
    influence : pandas.DataFrame
        :func:`westerkwartier.analysis.composite.influence` (indicator, subindex, nominal_weight,
        influence, ratio).
    labels, sub_labels : mapping
        Dutch labels of indicators and sub-indices.

    Returns
    -------
    pandas.DataFrame
        Indicator, Onderdeel, Gewicht, Werkelijke invloed, Oordeel (weights as Dutch
        percentages with one decimal).
    """
    return pd.DataFrame(
        {
            "Indicator": [labels.get(i, i) for i in influence["indicator"]],
            "Onderdeel": [sub_labels.get(s, s) for s in influence["subindex"]],
            "Gewicht": [fmt_pct(100 * w) for w in influence["nominal_weight"]],
            "Werkelijke invloed": [fmt_pct(100 * w) for w in influence["influence"]],
            "Oordeel": [influence_word(r) for r in influence["ratio"]],
        }
    )


def decomposition_rows(
    frame: pd.DataFrame,
    labels: Mapping[str, str],
    units: Mapping[str, str],
    year_from: int,
    year_to: int,
    max_rows: int = DECOMPOSE_ROWS,
    years: Mapping[tuple[str, int], int] | None = None,
) -> pd.DataFrame:
    """Return the indicator contributions to the score change as a table, largest first.

    Parameters
    ----------
    frame : pandas.DataFrame
        :func:`westerkwartier.analysis.composite.decompose` (indicator, value_from, value_to,
        contribution).
    labels, units : mapping
        Dutch label and reader unit per indicator.
    max_rows : int
        Rows shown; the rest is summed in a last row "Overige ... indicatoren samen".
    years : mapping, optional
        (indicator, index year) -> the year the value is from. An index counts the latest
        value of the last few years; a value from another year than the column's says so
        (``72,1% (2023)``).

    Returns
    -------
    pandas.DataFrame
        Indicator, value in both years (``niet meegeteld`` where the indicator did not count
        that year), Bijdrage (signed, two decimals); sorted by absolute contribution.
    """
    order = frame.assign(_abs=frame["contribution"].abs()).sort_values(
        ["_abs", "indicator"], ascending=[False, True], kind="stable"
    )

    def value(v: Any, ind: str, column_year: int) -> str:
        if is_missing(v):
            return "niet meegeteld"
        text = fmt(v, units.get(ind, ""))
        actual = (years or {}).get((ind, column_year))
        return f"{text} ({actual})" if actual is not None and actual != column_year else text

    rest = order.iloc[max_rows:]
    order = order.iloc[:max_rows]
    out = pd.DataFrame(
        {
            "Indicator": [labels.get(i, i) for i in order["indicator"]],
            str(year_from): [
                value(v, i, year_from)
                for v, i in zip(order["value_from"], order["indicator"], strict=True)
            ],
            str(year_to): [
                value(v, i, year_to)
                for v, i in zip(order["value_to"], order["indicator"], strict=True)
            ],
            "Bijdrage aan de verandering": [fmt_signed(c) for c in order["contribution"]],
        }
    )
    if len(rest):
        out.loc[len(out)] = [
            f"Overige {len(rest)} indicatoren samen",
            "",
            "",
            fmt_signed(float(rest["contribution"].sum())),
        ]
    return out


def like_with_like(
    frame: pd.DataFrame, labels: Mapping[str, str], year_from: int, year_to: int
) -> str:
    """Say which figures entered or left the index between two years, and the change without them.

    Examples
    --------
    >>> f = pd.DataFrame({"indicator": ["a", "b", "c"], "value_from": [1.0, float("nan"), 2.0],
    ...                   "value_to": [1.5, 3.0, 2.0], "contribution": [0.1, 0.2, -0.05]})
    >>> like_with_like(f, {"b": "Banen"}, 2019, 2024)[:70]
    'Niet elk cijfer telt in beide jaren mee: in 2024 telde banen mee, in 2'
    """
    before = frame["value_from"].notna()
    after = frame["value_to"].notna()
    entered = frame[~before & after]
    left = frame[before & ~after]
    if entered.empty and left.empty:
        return f"In {year_from} en {year_to} telden dezelfde cijfers mee."
    both = frame[before & after]

    def names(rows: pd.DataFrame) -> str:
        items = [_lower(labels.get(i, i)) for i in rows["indicator"]]
        return and_list(items)

    parts = []
    if len(entered):
        parts.append(
            f"in {year_to} telde{'n' if len(entered) > 1 else ''} {names(entered)} mee, "
            f"in {year_from} nog niet"
        )
    if len(left):
        parts.append(
            f"in {year_from} telde{'n' if len(left) > 1 else ''} {names(left)} mee, "
            f"in {year_to} niet meer"
        )
    moved = float(entered["contribution"].sum() + left["contribution"].sum())
    same = float(both["contribution"].sum())
    return (
        f"Niet elk cijfer telt in beide jaren mee: {'; '.join(parts)}. Samen droegen die "
        f"{fmt_signed(moved)} bij; de cijfers die in beide jaren meetellen, samen "
        f"{fmt_signed(same)}."
    )


def coarse_note(
    data: IndexData,
    indicator: str,
    years: Mapping[tuple[str, int], int],
    units: Mapping[str, str],
) -> str:
    """Warn when the largest contribution rests on figures that CBS rounds coarsely.

    Returns `` Die cijfers zijn grof (aantallen afgerond op duizendtallen): 2019 tussen 40,0%
    en 54,5%, 2024 tussen 57,1% en 72,7%.`` or an empty string.
    """
    from westerkwartier.analysis.comparison import _obs
    from westerkwartier.reporting.formatting import interval_shown

    unit = units.get(indicator, "")
    cat = data.rapport.catalogue
    names = {indicator: unit_label(cat[indicator].label_nl)} if indicator in cat.indicators else {}
    label = _subject(data, indicator, names)
    own = data.panel[
        (data.panel["region_code"] == data.code)
        & (data.panel["indicator"] == indicator)
        & data.panel["value"].notna()
    ]
    parts, what = [], ""
    for column in (data.year_from, data.year):
        if column is None:  # no start year chosen: only the end year can be coarse
            continue
        year = years.get((indicator, column))
        hit = own[own["year"] == year] if year is not None else own.iloc[0:0]
        if hit.empty:
            continue
        obs = _obs(hit.iloc[0])
        if obs.kind != ROUNDING or not interval_shown(obs, unit):
            continue
        what = precision_detail(obs.precision)
        parts.append(f"{year} tussen {fmt(obs.lower, unit)} en {fmt(obs.upper, unit)}")
    if not parts:
        return ""
    return f" De cijfers van {label} zijn grof ({what}): {', '.join(parts)}."


def _lower(label: str) -> str:
    """Write a label inside a sentence: ``aandeel 15-24-jarigen`` (abbreviations keep capitals)."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def value_years(
    panel: pd.DataFrame, code: str, indicators: Sequence[str], years: Sequence[int], max_age: int
) -> dict[tuple[str, int], int]:
    """Map (indicator, index year) to the year of the value the index counts for that year.

    The index counts, per indicator, the latest value of ``year - max_age`` .. ``year``.
    """
    own = panel[
        (panel["region_code"] == code)
        & panel["indicator"].isin(list(indicators))
        & panel["value"].notna()
    ]
    out: dict[tuple[str, int], int] = {}
    for ind, rows in own.groupby("indicator"):
        have = rows["year"].astype(int)
        for year in years:
            ok = have[(have <= year) & (have >= year - max_age)]
            if len(ok):
                out[(str(ind), int(year))] = int(ok.max())
    return out


def sensitivity_sentence(frame: pd.DataFrame, name: str, what: str) -> str:
    """Say whether the conclusion "above/below the median" survives the comparison group.

    Parameters
    ----------
    frame : pandas.DataFrame
        :func:`westerkwartier.analysis.peers.peer_sensitivity` rows of one indicator (group, n,
        rank,
        position).
    name : str
        The municipality.
    what : str
        The figure, e.g. ``de talentindex (2024)``.

    Examples
    --------
    >>> f = pd.DataFrame({"group": ["peers k=5", "buurgemeenten"], "n": [6, 4],
    ...                   "rank": [2, 1], "position": ["boven de mediaan"] * 2})
    >>> sensitivity_sentence(f, "Ons", "de index")[:58]
    'De conclusie hangt niet af van de keuze van de vergelijkin'
    """
    known = frame[frame["position"] != "onbekend"]
    if known.empty:
        return (
            f"Voor {name} is niet na te gaan of de conclusie afhangt van de vergelijkingsgroep: "
            "geen van de groepen heeft genoeg gemeenten met een score."
        )
    parts = [
        f"{GROUP_NL.get(g, g)}: plaats {int(r)} van {int(n)}"
        for g, r, n in zip(known["group"], known["rank"], known["n"], strict=True)
    ]
    positions = list(dict.fromkeys(known["position"]))
    basis = " De plaatsen volgen uit de rangen in de tabel."
    if len(positions) == 1:
        return (
            f"De conclusie hangt niet af van de keuze van de vergelijkingsgroep: op {what} "
            f"staat {name} in elke groep {positions[0]} ({'; '.join(parts)}).{basis}"
        )
    detail = "; ".join(
        f"{p} van "
        + ", ".join(GROUP_NL.get(g, g) for g in known.loc[known["position"] == p, "group"])
        for p in positions
    )
    return (
        f"De conclusie hangt wel af van de keuze van de vergelijkingsgroep: op {what} staat "
        f"{name} {detail} ({'; '.join(parts)}).{basis}"
    )


def pulse_rows(pulse: pd.DataFrame) -> pd.DataFrame:
    """Return the ambitions table as display text (one row per target).

    Parameters
    ----------
    pulse : pandas.DataFrame
        :func:`westerkwartier.analysis.ambitions.pulse`.

    Returns
    -------
    pandas.DataFrame
        Doel (indicator label), Eigenaar, Nu (value and year), Doelwaarde (value and year),
        Trend en projectie (slope per year; projection in the target year with its 90% band),
        Verschil met doel (target minus current value), Status (symbol and word), and a hidden
        ``_status`` column with the plain status (for the CSS class).
    """
    rows = []
    for r in pulse.to_dict("records"):
        unit = r["unit"]
        now = (
            "geen cijfer"
            if is_missing(r["huidige_waarde"])
            else f"{fmt(r['huidige_waarde'], unit)} ({int(r['huidig_jaar'])})"
        )
        if is_missing(r["projectie"]):
            trend = f"te weinig jaren voor een trend ({_years(r['n_jaren'])}; minstens 3 nodig)"
        elif r.get("projectiebasis") == "niveau":
            trend = (
                f"niveau van de laatste {_years(r['n_jaren'])} doorgetrokken (die jaren "
                "volgen de eerdere trend niet): "
                f"in {int(r['doeljaar'])} {fmt(r['projectie'], unit)} (90%-band "
                f"{_bare(r['projectie_onder'], unit)} tot {_bare(r['projectie_boven'], unit)}"
                f"{'%' if unit == '%' else ''})"
            )
        else:
            trend = (
                f"rechte lijn door {_years(r['n_jaren'])}: "
                f"{fmt_change(r['trend_per_jaar'], unit)} per jaar; in {int(r['doeljaar'])} "
                f"{fmt(r['projectie'], unit)} (90%-band {_bare(r['projectie_onder'], unit)} tot "
                f"{_bare(r['projectie_boven'], unit)}{'%' if unit == '%' else ''})"
            )
        if is_missing(r["kloof"]):
            gap = "onbekend"
        else:
            gap = fmt_change(r["kloof"], unit)
        rows.append(
            {
                "Doel": unit_label(r["label"]),
                "Eigenaar": r["eigenaar"],
                "Nu": now,
                "Doelwaarde": f"{fmt(r['doel'], unit)} in {int(r['doeljaar'])}",
                "Trend en projectie": trend,
                "Verschil met doel": gap,
                "Status": STATUS_LABELS.get(r["status"], r["status"]),
                "_status": r["status"],
            }
        )
    return pd.DataFrame(rows)


def _years(n: Any) -> str:
    """``1 jaar``, ``10 jaar`` (Dutch keeps ``jaar`` after a number)."""
    return f"{int(n)} jaar"


def _bare(value: float, unit: str) -> str:
    """Format a value without its unit, with the unit's decimals (``-0,7``)."""
    return fmt_number(value, decimals_for(unit))


def pulse_sentence(pulse: pd.DataFrame, name: str, peiljaar: int) -> str:
    """``Van de 8 doelen van Westerkwartier zijn er 5 op koers, ...``.

    Examples
    --------
    >>> pulse_sentence(pd.DataFrame({"status": ["op koers", "onbekend"]}), "Ons", 2026)
    'Van de 2 doelen van Ons is er 1 op koers en 1 onbekend (stand van de cijfers in 2026).'
    """
    counts = pulse["status"].value_counts()
    parts = [f"{counts[s]} {s}" for s in STATUS_LABELS if counts.get(s, 0)]
    text = and_list(parts)
    first = next(counts[s] for s in STATUS_LABELS if counts.get(s, 0))
    verb = "is er" if first == 1 else "zijn er"
    return (
        f"Van de {len(pulse)} doelen van {name} {verb} {text} (stand van de cijfers in {peiljaar})."
    )


def table_parts(
    frame: pd.DataFrame, caption: str, tones: Sequence[str] | None = None
) -> dict[str, Any]:
    """Return what the table template needs: columns, rows of text, caption and tones.

    Columns starting with ``_`` are left out; every cell becomes text (escaped by the
    template, never here).
    """
    cols = [c for c in frame.columns if not str(c).startswith("_")]
    rows = [[str(v) for v in values] for values in frame[cols].itertuples(index=False)]
    return {
        "columns": [str(c) for c in cols],
        "rows": rows,
        "caption": caption,
        "tones": list(tones) if tones is not None else None,
    }


def html_table(frame: pd.DataFrame, caption: str, tones: Sequence[str] | None = None) -> str:
    """Return an accessible table: caption, ``th scope=col``, first column ``th scope=row``.

    Every cell is escaped; columns starting with ``_`` are left out. ``tones`` gives a CSS
    class (``gunstig``/``ongunstig``/``neutraal``) for the last cell of each row.
    """
    return render_template("tabel.html.j2", **table_parts(frame, caption, tones))


# ----------------------------------------------------------------------------------------------
# Computing once per notebook
# ----------------------------------------------------------------------------------------------
@dataclass
class IndexData:
    """Everything the index and ambitions sections show, computed once.

    Attributes
    ----------
    rapport : ReportData
        The report (municipality, peildatum, regions).
    spec : westerkwartier.analysis.composite.IndexSpec
        The index of the report's theme.
    year : int
        Year of the index (latest well-covered year, up to the report's ``jaar``).
    panel : pandas.DataFrame
        The national panel shared by every computation.
    scores : pandas.DataFrame
        Nominal scores of ``year`` (every municipality, provinces, Nederland).
    mc : westerkwartier.analysis.composite.MonteCarloResult
        The uncertainty analysis of ``year``.
    summary : pandas.DataFrame
        Median rank and 5-95% interval per municipality.
    influence : pandas.DataFrame
        Effective influence beside the nominal weight.
    robustness : list
        :class:`westerkwartier.analysis.composite.Robustness` against province and Nederland.
    decomposition : pandas.DataFrame or None
        Contributions to the change since ``year_from``.
    year_from : int or None
    nederland_from : float or None
        Nederland's score in ``year_from`` (scored like the municipalities), so that the change
        of the municipality's score can be read beside the country's.
    group : pandas.DataFrame
        Comparison group (neighbours and peers) with reasons.
    sensitivity : pandas.DataFrame or None
        Rank of the municipality's index score in each comparison group.
    tables : list of str
        CBS tables behind the index in ``year``.
    """

    rapport: ReportData
    spec: Any
    year: int
    panel: pd.DataFrame
    scores: pd.DataFrame
    mc: Any
    summary: pd.DataFrame
    influence: pd.DataFrame
    robustness: list = field(default_factory=list)
    decomposition: pd.DataFrame | None = None
    year_from: int | None = None
    nederland_from: float | None = None
    group: pd.DataFrame = field(default_factory=pd.DataFrame)
    sensitivity: pd.DataFrame | None = None
    tables: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The municipality's name."""
        return str(self.rapport.region.name)

    @property
    def code(self) -> str:
        """The municipality's code."""
        return str(self.rapport.region.code)

    @property
    def own(self) -> dict[str, Any]:
        """The municipality's row of :attr:`scores`."""
        rows = self.scores[self.scores["region_code"] == self.code]
        return {str(k): v for k, v in rows.iloc[0].items()} if len(rows) else {}

    @property
    def scored(self) -> bool:
        """True when the municipality has an index score."""
        return not is_missing(self.own.get("score"))

    @property
    def rank(self) -> dict[str, Any] | None:
        """The municipality's row of :attr:`summary` (None without a score)."""
        rows = self.summary[self.summary["region_code"] == self.code]
        return {str(k): v for k, v in rows.iloc[0].items()} if len(rows) else None

    @property
    def what(self) -> str:
        """``de talentindex (2024)``."""
        return f"de {self.spec.label.lower()} ({self.year})"


def _neighbour_lookup(rapport: ReportData) -> Any:
    near = list(rapport.regions.loc[rapport.regions["role"] == "buurgemeente", "code"])

    def neighbours(code: str) -> list[str]:
        if code == rapport.region.code:
            return near
        from westerkwartier.sources.geo import neighbours as geo_neighbours

        return geo_neighbours(code)

    return neighbours


def load_index_data(
    rapport: ReportData, *, panel: pd.DataFrame | None = None, index: str | None = None
) -> IndexData:
    """Compute the index section of a report once: scores, Monte Carlo, peers, sensitivity.

    Parameters
    ----------
    rapport : ReportData
        From :func:`westerkwartier.reporting.report_data.load_report_data`.
    panel : pandas.DataFrame, optional
        A national panel with the index's indicators, the peer characteristics and the
        ambitions' indicators; default :func:`westerkwartier.indicators.panel_cache.national_panel`
        (every
        municipality, provinces and Nederland; built once per process, shared with the report).
    index : str, optional
        Default the index of the report's theme (:data:`REPORT_INDEX`).

    Returns
    -------
    IndexData
    """
    from westerkwartier.analysis import composite
    from westerkwartier.analysis import peers as peers_mod
    from westerkwartier.indicators.catalogue import load_catalogue

    spec = composite.get_index(index or REPORT_INDEX.get(rapport.spec.id, rapport.spec.id))
    cat = load_catalogue()
    from westerkwartier.analysis.index_cache import compute as compute_national
    from westerkwartier.analysis.index_cache import index_rows, national_index, year_inputs

    peer_cfg = peers_mod.load_peer_config()
    national = panel is None
    if panel is None:
        ids = {i for i in spec.indicator_ids if i in cat.indicators}
        ids |= {
            v.source.split(":", 1)[1] for v in peer_cfg.variables if v.source.startswith("panel:")
        }
        ids |= set(_ambition_indicators(rapport))
        panel = national_panel(sorted(ids))  # shares the indicators the report built
    if national:  # the same for every municipality: once per data version (memory, disk)
        shared = national_index(spec, rapport.jaar, DECOMPOSE_SPAN, panel, peer_cfg)
    else:
        shared = compute_national(spec, rapport.jaar, DECOMPOSE_SPAN, panel, peer_cfg)
    slim = index_rows(spec, rapport.jaar, panel)
    year, inputs, mc, all_scores = shared.year, shared.inputs, shared.mc, shared.scores
    scores = all_scores[all_scores["year"] == year].reset_index(drop=True)
    code = rapport.region.code
    data = IndexData(
        rapport=rapport,
        spec=spec,
        year=year,
        panel=panel,
        scores=scores,
        mc=mc,
        summary=mc.summary(),
        influence=composite.influence(spec, year, inputs=inputs),
        tables=_index_tables(slim, inputs),
    )
    if data.scored:
        data.robustness = [
            composite.robustness(spec, code, b, result=mc) for b in ("provincie", "Nederland")
        ]
        dropped = all_scores.attrs.get("dropped", {})
        used = {int(y): set(spec.indicator_ids) - set(d) for y, d in dropped.items()}
        own = all_scores[(all_scores["region_code"] == code) & all_scores["score"].notna()]
        weights = nominal_weights(spec, sorted(used.get(year, set())))
        data.year_from = choose_from_year(used, [int(y) for y in own["year"]], year, weights)
        if data.year_from is not None:
            both = (
                year_inputs(spec, rapport.jaar, (data.year_from, year), panel)
                if national  # the same for every municipality: once per data version
                else None
            )
            data.decomposition = composite.decompose(
                spec, code, data.year_from, year, panel=slim, inputs=both
            )
            then = all_scores.loc[
                (all_scores["region_code"] == COUNTRY) & (all_scores["year"] == data.year_from),
                "score",
            ]
            data.nederland_from = float(then.iloc[0]) if len(then) else None
    structural = shared.structural
    neighbours = _neighbour_lookup(rapport)
    try:
        data.group = peers_mod.comparison_group(
            code, data=structural, config=peer_cfg, neighbours=neighbours
        )
    except InputError:
        data.group = pd.DataFrame(columns=["code", "name", "role", "distance", "reason"])
    if data.scored:
        # ranks within each group from the numbers the peer table shows: the median ranks
        ranked = data.summary[["region_code", "median_rank"]].assign(
            indicator=spec.id, year=year, value=-data.summary["median_rank"].astype(float)
        )
        data.sensitivity = peers_mod.peer_sensitivity(
            code,
            [spec.id],
            year=year,
            panel=ranked[["region_code", "indicator", "year", "value"]],
            neighbours=neighbours,
            data=structural,
            config=peer_cfg,
            directions={spec.id: "higher_is_better"},
        )
    return data


def _index_tables(panel: pd.DataFrame, inputs: Any) -> list[str]:
    from westerkwartier.indicators.catalogue import load_catalogue

    cat = load_catalogue()
    ids: dict[str, None] = {}
    for ind in inputs.indicators:
        if ind in cat.indicators:
            ids.update(dict.fromkeys(cat[ind].tables[:1]))
    return sorted(ids, key=str.lower)


def _ambition_indicators(rapport: ReportData) -> list[str]:
    """Return the indicators of the report's ambitions file (none without one)."""
    if rapport.ambities is None:
        return []
    from westerkwartier.analysis.ambitions import read_ambitions

    _, targets = read_ambitions(rapport.ambities, peiljaar=rapport.peildatum.year)
    return [a.indicator for a in targets]


# ----------------------------------------------------------------------------------------------
# HTML parts of the section "Index en vergelijkbare gemeenten"
# ----------------------------------------------------------------------------------------------
def _no_score_text(data: IndexData) -> str:
    reason = str(data.own.get("reason") or "").removeprefix("geen score: ")
    why = f" Per onderdeel: {reason}." if reason else ""
    return (
        f"{data.name} heeft geen score op {data.what}: voor deze gemeente publiceert het CBS "
        f"te weinig van de cijfers waaruit de index bestaat.{why} Zonder score is er ook geen "
        "rangorde, ranginterval of verandering van de score. Ontbrekende cijfers worden nooit "
        "als nul geteld of geschat."
    )


def _subject(data: IndexData, indicator: str, labels: Mapping[str, str]) -> str:
    """How a sentence names an indicator: the manifest's ``onderwerp`` or its label."""
    subject = data.rapport.spec.onderwerp.get(indicator)
    if subject:
        return subject
    label = labels.get(indicator, indicator)
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def pool_text(data: IndexData) -> str:
    """Say why the ranking has fewer municipalities than the country (``van 335, niet 342``).

    The municipalities without a score are those for which CBS publishes too few of the
    index's figures; up to ten are named.
    """
    towns = data.scores[data.scores["level"] == "gemeente"]
    unscored = towns[towns["score"].isna()]
    ranked = len(data.summary)
    total = len(towns)
    if not len(unscored) or total <= ranked:
        return f"Alle {fmt_number(total)} gemeenten van {data.year} hebben een score."
    names = sorted(str(n) for n in unscored["region_name"])
    named = f": {', '.join(names)}" if len(names) <= 10 else ""
    return (
        f"De rangorde telt {fmt_number(ranked)} van de {fmt_number(total)} gemeenten van "
        f"{data.year}. {fmt_number(len(unscored))} gemeenten hebben geen score, omdat het CBS "
        f"voor hen te weinig van de cijfers van de index publiceert (bij kleine gemeenten "
        f"blijven cijfers vaak geheim){named}."
    )


def index_kern(data: IndexData) -> Html:
    """Score, median rank with 5-95% interval, why the pool has its size, and robustness."""
    spec = data.spec
    how = (
        f"Hoe de index werkt: de {spec.label.lower()} combineert "
        f"{len(data.mc.indicators)} CBS-cijfers in {len(spec.subs)} onderdelen "
        f"({', '.join(s.label for s in spec.subs)}). Elk cijfer is omgerekend naar een "
        f"z-score ten opzichte van alle gemeenten in {spec.reference_year} (0 = gemiddelde "
        "gemeente; hoger is altijd beter). Een variant trekt andere gewichten rond de "
        "gekozen gewichten en een andere normalisatie (z-score, min-max of rangorde) en "
        "aggregatie (rekenkundig of meetkundig); het ranginterval laat zien hoe zeker de "
        "plaats is. Een verschil dat in minder dan 80% van de varianten dezelfde kant op "
        "valt, noemen we niet robuust."
    )
    if not data.scored:
        return part("index_kern.html.j2", scored=False, no_score=_no_score_text(data), how=how)
    rank = data.rank
    assert rank is not None
    bench = data.scores[data.scores["level"] != "gemeente"].set_index("region_code")
    prov = data.rapport.region.province
    parts = []
    if prov in bench.index and not is_missing(bench.loc[prov, "score"]):
        parts.append(f"{data.rapport.province_label} {fmt_score(bench.loc[prov, 'score'])}")
    if COUNTRY in bench.index and not is_missing(bench.loc[COUNTRY, "score"]):
        parts.append(f"Nederland {fmt_score(bench.loc[COUNTRY, 'score'])}")
    return part(
        "index_kern.html.j2",
        scored=True,
        score=fmt_score(data.own["score"]),
        name=data.name,
        what=data.what,
        draws=fmt_number(data.mc.draws),
        median_rank=fmt_number(rank["median_rank"]),
        n=fmt_number(len(data.summary)),
        pool=pool_text(data),
        rank_p05=fmt_number(rank["rank_p05"]),
        rank_p95=fmt_number(rank["rank_p95"]),
        benchmarks="; ".join(parts),
        robustness=[r.sentence for r in data.robustness],
        how=how,
    )


def components(spec: Any) -> list[dict[str, str]]:
    """Describe each component of the index: what it measures, its indicators and weights.

    Parameters
    ----------
    spec : westerkwartier.analysis.composite.IndexSpec
        The index.

    Returns
    -------
    list of dict
        Per component ``term`` (its label and weight share in the index) and ``text`` (the
        sentence from ``config/indices.toml`` and the indicators with their weight within the
        component).
    """
    from westerkwartier.indicators.catalogue import load_catalogue

    cat = load_catalogue()
    total = sum(sub.weight for sub in spec.subs) or 1.0
    out = []
    for sub in spec.subs:
        inner = sum(ind.weight for ind in sub.indicators) or 1.0
        names = [
            f"{unit_label(cat[ind.id].label_nl) if ind.id in cat.indicators else ind.id} "
            f"({fmt_number(100 * ind.weight / inner, 0)}%)"
            for ind in sub.indicators
        ]
        text = " ".join(p for p in (sub.description, f"Cijfers: {'; '.join(names)}.") if p)
        term = f"{sub.label} ({fmt_number(100 * sub.weight / total, 0)}% van de index)"
        out.append({"term": term, "text": text})
    return out


def rank_frame(data: IndexData) -> pd.DataFrame:
    """Rows of the rank-interval chart: the municipality, its comparison group, extra ones.

    Sorted by median rank; ``label`` names the role (``Groningen (buur)``, ``Ameland (peer)``;
    a neighbour that is also a peer keeps the longer role).
    Municipalities without a score are left out (:func:`rank_chart_missing` names them).
    """
    roles = {data.code: "deze gemeente"}
    for code, role in zip(data.group["code"], data.group["role"], strict=True):
        roles.setdefault(code, ROLE_NL.get(role, role))
    extra = data.rapport.regions
    for code in extra.loc[extra["role"] == "vergelijking", "code"]:
        roles.setdefault(code, "extra vergelijking")
    frame = data.summary[data.summary["region_code"].isin(list(roles))].copy()
    frame = frame.rename(columns={"region_code": "code"})
    short = {"buurgemeente": "buur", "vergelijkbare gemeente": "peer"}
    frame["label"] = [
        name if code == data.code else f"{name} ({short.get(roles[code], roles[code])})"
        for code, name in zip(frame["code"], frame["region_name"], strict=True)
    ]
    return frame.sort_values(["median_rank", "code"], kind="stable").reset_index(drop=True)


def rank_chart_missing(data: IndexData) -> list[str]:
    """Names of comparison-group members without a score (not in the chart)."""
    have = set(data.summary["region_code"])
    return [n for c, n in zip(data.group["code"], data.group["name"], strict=True) if c not in have]


def rank_chart(data: IndexData) -> Any:
    """Return the rank-interval chart (:class:`~westerkwartier.reporting.charts.Chart`) or None."""
    from westerkwartier.reporting.figures import rank_interval_chart

    if not data.scored:
        return None
    chart = rank_interval_chart(
        rank_frame(data),
        focus=data.code,
        title=(f"{data.spec.label} {data.year}: rang van {data.name} en vergelijkbare gemeenten"),
        n_ranked=len(data.summary),
        draws=data.mc.draws,
        tables=data.tables,
    )
    chart.alt = chart.alt.replace(". Bron: CBS", f". {LEGEND}. Bron: CBS", 1)
    return chart


def show_rank_intervals(data: IndexData) -> None:
    """Show the rank-interval chart under an h3 (in a notebook)."""
    from IPython.display import display

    from westerkwartier.reporting.charts import show_figure

    chart = rank_chart(data)
    if chart is None:
        return
    display(part("kop3.html.j2", text="Rangorde met onzekerheid"))
    show_figure(chart)
    note = LEGEND + "."
    missing = rank_chart_missing(data)
    if missing:
        note += f" Zonder score en dus niet in de grafiek: {', '.join(missing)}."
    display(part("voetnoot.html.j2", text=note))


def bijdragen(data: IndexData) -> Html:
    """Sub-index scores and the decomposition of the score change into indicator contributions."""
    from westerkwartier.indicators.catalogue import load_catalogue

    cat = load_catalogue()
    spec = data.spec
    bench = data.scores.set_index("region_code")
    cols = [(data.code, data.name)]
    prov = data.rapport.region.province
    if prov in bench.index:
        cols.append((prov, data.rapport.province_label))
    if COUNTRY in bench.index:
        cols.append((COUNTRY, "Nederland"))
    rows = []
    for sub in spec.subs:
        row = {"Onderdeel": sub.label}
        for code, label in cols:
            value = bench.loc[code, f"score_{sub.id}"] if code in bench.index else None
            row[label[:1].upper() + label[1:]] = (
                "geen score" if is_missing(value) else fmt_score(value)
            )
        rows.append(row)
    subs = table_parts(
        pd.DataFrame(rows),
        f"Score per onderdeel van de {spec.label.lower()} in {data.year} (0 = gemiddelde "
        f"gemeente in {spec.reference_year}; hoger is beter).",
    )
    context: dict[str, Any] = {
        "subs": subs,
        "components": components(spec),
        "scored": data.scored,
        "name": data.name,
        "span": DECOMPOSE_SPAN,
        "year": data.year,
        "decomposition": None,
        "change": "",
    }
    d = data.decomposition
    if data.scored and d is not None and data.year_from is not None:
        labels = {i: unit_label(cat[i].label_nl) for i in d["indicator"] if i in cat.indicators}
        units = {i: cat[i].unit for i in d["indicator"] if i in cat.indicators}
        # the largest contribution among the figures that count in both years (like with like)
        common = d[d["value_from"].notna() & d["value_to"].notna()]
        pool = common if len(common) else d
        top = pool.iloc[int(np.nanargmax(pool["contribution"].abs().to_numpy(dtype=float)))]
        context["change"] = (
            f"De score van {data.name} ging van {fmt_score(d.attrs['score_from'])} in "
            f"{data.year_from} naar {fmt_score(d.attrs['score_to'])} in {data.year} "
            f"({fmt_signed(d.attrs['change'])}). "
            + _nederland_change(data, bench)
            + "De grootste bijdrage van een cijfer dat in "
            "beide jaren meetelt, kwam van "
            f"{_subject(data, top['indicator'], labels)} "
            f"({fmt_signed(top['contribution'])}). De bijdragen tellen precies op tot de "
            "verandering. " + like_with_like(d, labels, data.year_from, data.year)
        )
        years = value_years(
            data.panel,
            data.code,
            list(d["indicator"]),
            [data.year_from, data.year],
            data.spec.max_age,
        )
        context["change"] += coarse_note(data, str(top["indicator"]), years, units)
        context["decomposition"] = table_parts(
            decomposition_rows(d, labels, units, data.year_from, data.year, years=years),
            f"Bijdrage per indicator aan de verandering van de score van {data.name} "
            f"tussen {data.year_from} en {data.year}, grootste eerst.",
        )
    return part("bijdragen.html.j2", **context)


def _nederland_change(data: IndexData, bench: pd.DataFrame) -> str:
    """Return ``Nederland ging in dezelfde jaren van -0,53 naar -0,04 (+0,50). `` (or "").

    The scores are normalised against one fixed year, so a change of the whole country moves
    every municipality's score; the country's own change is the benchmark for it.
    """
    then = data.nederland_from
    now = bench.loc[COUNTRY, "score"] if COUNTRY in bench.index else None
    if then is None or is_missing(then) or now is None or is_missing(now):
        return ""
    return (
        f"Nederland ging in dezelfde jaren van {fmt_score(then)} naar {fmt_score(now)} "
        f"({fmt_signed(float(now) - float(then))}). "
    )


def invloed(data: IndexData) -> Html:
    """Each indicator's effective influence beside its nominal weight."""
    from westerkwartier.indicators.catalogue import load_catalogue

    cat = load_catalogue()
    spec = data.spec
    labels = {
        i: unit_label(cat[i].label_nl) for i in data.influence["indicator"] if i in cat.indicators
    }
    subs = {s.id: s.label for s in spec.subs}
    table = table_parts(
        influence_rows(data.influence, labels, subs),
        f"Gewicht en werkelijke invloed per indicator, {spec.label.lower()} {data.year}.",
    )
    dropped = data.mc.indicators
    missing = [i for i in spec.indicator_ids if i not in dropped]
    names = ", ".join(unit_label(cat[i].label_nl) if i in cat.indicators else i for i in missing)
    return part("invloed.html.j2", table=table, year=data.year, missing=names)


def group_rows(data: IndexData) -> pd.DataFrame:
    """Return the peer table: Gemeente, Soort, Waarom vergelijkbaar, Rang op de index."""
    ranks = data.summary.set_index("region_code")
    rows = []
    for r in data.group.to_dict("records"):
        rank = (
            rank_text(ranks.loc[r["code"]].to_dict()) if r["code"] in ranks.index else "geen score"
        )
        rows.append(
            {
                "Gemeente": r["name"],
                "Soort": ROLE_NL.get(r["role"], r["role"]),
                "Waarom vergelijkbaar": r["reason"],
                f"Rang op de index (5–95%), {data.year}": rank,
            }
        )
    return pd.DataFrame(rows)


def vergelijkingsgroep(data: IndexData) -> Html:
    """Return the comparison group with reasons and the peer-sensitivity sentence."""
    if data.group.empty:
        return part("vergelijkingsgroep.html.j2", table=None, name=data.name)
    table = table_parts(
        group_rows(data),
        f"Vergelijkingsgroep van {data.name}: buurgemeenten en statistisch vergelijkbare "
        "gemeenten, met de reden.",
    )
    sentence = ""
    if data.sensitivity is not None and len(data.sensitivity):
        sentence = sensitivity_sentence(data.sensitivity, data.name, data.what)
    return part(
        "vergelijkingsgroep.html.j2",
        table=table,
        name=data.name,
        sensitivity=sentence,
        scored=data.scored,
    )


# ----------------------------------------------------------------------------------------------
# The section "Ambities"
# ----------------------------------------------------------------------------------------------
def ambities(rapport: ReportData, data: IndexData | None = None) -> Html | None:
    """Return the section "Ambities" for the ambitions file the partners gave, else nothing.

    A report shows ambitions only when its run was given a file (``--ambities`` of
    ``westerkwartier report``, ``ambities`` in the batch manifest or the notebook parameter);
    there is no default file, so an example never ends up in a published report.
    ``peiljaar`` is the year of the report's ``peildatum`` so that the output is the same on
    every run.
    """
    from westerkwartier.analysis.ambitions import pulse, read_ambitions

    file = rapport.ambities
    if file is None:
        return None
    name = rapport.region.name
    shown = file.name
    peiljaar = rapport.peildatum.year
    table = pulse(rapport.region.code, file, panel=data.panel if data else None, peiljaar=peiljaar)
    settings_, _ = read_ambitions(file, peiljaar=peiljaar)
    rows = pulse_rows(table)
    note = (
        "Status: ✓ op koers = de hele 90%-band van de projectie haalt het doel; ~ twijfelachtig "
        "= het doel ligt binnen de band; ✗ niet op koers = de hele band mist het doel; "
        "? onbekend = te weinig jaren (minder dan 3) of geen cijfer. De projectie is een "
        "rechte lijn door de cijfers van hoogstens de laatste tien jaar; de band is de marge "
        "waarbinnen de uitkomst met 90% zekerheid valt als de lijn doorgaat. Een lijn door "
        "twee punten trekken we niet. Volgen de laatste drie jaar die lijn niet (een vlakke "
        "reeks na een lange daling), dan wordt het doel beoordeeld op het niveau van die drie "
        "jaar. Elke regel noemt zijn methode en het aantal jaren waarop hij rust."
    )
    if any(
        not is_missing(v) and v < 0 and not (not is_missing(c) and c < 0)
        for v, c in zip(table["projectie_onder"], table["huidige_waarde"], strict=True)
    ):
        note += (
            " Een ondergrens onder nul bij een cijfer dat niet negatief kan zijn, betekent "
            "alleen dat de band breed is."
        )
    return part(
        "ambities.html.j2",
        shown=shown,
        titel=settings_.get("titel") or "",
        sentence=pulse_sentence(table, name, peiljaar),
        table=table_parts(
            rows,
            f"Doelen uit {shown}: huidige waarde, doel, trend met projectie naar het doeljaar "
            "(90%-band) en status.",
            tones=[STATUS_TONES.get(s, "neutraal") for s in rows["_status"]],
        ),
        note=note,
    )


__all__ = [
    "IndexData",
    "STATUS_LABELS",
    "ambities",
    "bijdragen",
    "choose_from_year",
    "decomposition_rows",
    "fmt_score",
    "fmt_signed",
    "group_rows",
    "html_table",
    "index_kern",
    "influence_rows",
    "influence_word",
    "invloed",
    "load_index_data",
    "nominal_weights",
    "pulse_rows",
    "pulse_sentence",
    "rank_chart",
    "rank_frame",
    "rank_text",
    "sensitivity_sentence",
    "show_rank_intervals",
    "table_parts",
    "vergelijkingsgroep",
]
