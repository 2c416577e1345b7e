"""The partners' ambitions: targets per indicator, tracked with an honest trend.

Partners write their targets in a TOML file (example: ``ambities/westerkwartier.toml``)::

    gemeente = "GM1969"                     # optional; pulse() can also be given a municipality

    [[ambitie]]
    indicator = "netto_arbeidsparticipatie" # id from the indicator catalogue
    doel = 74.0                             # target value, in the indicator's unit
    doeljaar = 2030
    basisjaar = 2022                        # optional (default: first year of the trend)
    basiswaarde = 73.3                      # optional (default: the CBS value of basisjaar)
    eigenaar = "Gemeente Westerkwartier"    # owner / partner
    toelichting = "..."                     # optional note

:func:`read_ambitions` validates the file and reports *every* problem with its line number.
:func:`track` fits a linear trend (ordinary least squares) to the municipality's values and
projects it to the target year with a 90% prediction interval; with fewer than
:data:`MIN_POINTS` years it says "te weinig gegevens" instead of drawing a line through two
points. :func:`pulse` gives the overview of all targets.

On-track rule (direction from the catalogue; for a context indicator, the direction from the
baseline to the target):

* **op koers** — the whole projection interval at the target year lies on the good side of the
  target (or the target has already been reached and the trend keeps it there);
* **niet op koers** — the whole interval lies on the wrong side;
* **twijfelachtig** — the interval contains the target;
* **onbekend** — no current value, or too few years for a trend.

The projection respects the recent level (rule *projectie* of
:mod:`westerkwartier.analysis.rules`): when the last three years do not follow the long trend
(a flat series after years of decline), the target is judged on the level of those years
(:func:`level_projection`) and the row says so (``projectiebasis = "niveau"``).
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from westerkwartier.analysis import rules
from westerkwartier.config import (
    ConfigError,
    TomlFile,
    check_fields,
    is_int,
    read_toml,
    suggest,
)
from westerkwartier.errors import InputError
from westerkwartier.indicators.breaks import BREAK_COLUMN, same_series
from westerkwartier.indicators.catalogue import load_catalogue

#: Fewest years with a value needed for a trend with an interval.
MIN_POINTS: int = 3
#: Years used for the trend: at most this many, the latest.
MAX_TREND_YEARS: int = 10
#: Coverage of the prediction interval.
INTERVAL: float = 0.90

#: Keys of one [[ambitie]] entry: name -> (required, allowed types, Dutch description).
FIELDS: dict[str, tuple[bool, tuple[type, ...], str]] = {
    "indicator": (True, (str,), "tekst (indicator-id uit de catalogus)"),
    "doel": (True, (int, float), "getal"),
    "doeljaar": (True, (int,), "jaartal (geheel getal)"),
    "basisjaar": (False, (int,), "jaartal (geheel getal)"),
    "basiswaarde": (False, (int, float), "getal"),
    "eigenaar": (True, (str,), "tekst"),
    "toelichting": (False, (str,), "tekst"),
}
TOP_FIELDS: dict[str, tuple[type, ...]] = {"gemeente": (str,), "titel": (str,), "ambitie": (list,)}

STATUSES: tuple[str, ...] = ("op koers", "twijfelachtig", "niet op koers", "onbekend")


class AmbitionFileError(ConfigError):
    """An ambitions file has errors; ``problems`` lists them as ``(line, message)``."""

    def __init__(self, path: Path | str, problems: list[tuple[int | None, str]]) -> None:
        super().__init__(path, problems, what="het ambitiebestand")


@dataclass(frozen=True)
class Ambition:
    """One validated target."""

    indicator: str
    doel: float
    doeljaar: int
    eigenaar: str
    basisjaar: int | None = None
    basiswaarde: float | None = None
    toelichting: str = ""
    line: int | None = None


# -- reading and validating ---------------------------------------------------------------------
def read_ambitions(
    path: Path | str, *, peiljaar: int | None = None, catalogue: Any | None = None
) -> tuple[dict[str, Any], list[Ambition]]:
    """Read and validate an ambitions file.

    Parameters
    ----------
    path : Path or str
        The TOML file.
    peiljaar : int, optional
        The year "now" for the check that a target year is not in the past; default the
        current calendar year (pass it from a report's ``peildatum`` for reproducible runs).
    catalogue : Catalogue, optional
        Default the package catalogue.

    Returns
    -------
    tuple
        The top-level settings (``gemeente``, ``titel``) and the list of :class:`Ambition`.

    Raises
    ------
    AmbitionFileError
        With every problem and its line: a missing file, another encoding, TOML syntax,
        unknown or missing keys, wrong types (``nan`` included), unknown indicators (with the
        closest ids), a target year in the past, a base year after the target year.
    """
    try:
        file = read_toml(
            path,
            what="het ambitiebestand",
            missing_hint="Een voorbeeld staat in ambities/westerkwartier.toml.",
        )
    except ConfigError as err:
        raise AmbitionFileError(err.path, err.problems) from None
    raw = file.data
    cat = catalogue or load_catalogue()
    now = int(peiljaar if peiljaar is not None else _dt.date.today().year)
    problems = check_fields(
        {k: v for k, v in raw.items() if k != "ambitie"},
        {k: (False, t, "tekst") for k, t in TOP_FIELDS.items() if k != "ambitie"},
        where="",
        line_of=file.line,
    )
    if "ambitie" in raw and not isinstance(raw["ambitie"], list):
        problems.append((file.line("ambitie"), "'ambitie' moet een lijst [[ambitie]] zijn."))
    entries = raw.get("ambitie", []) if isinstance(raw.get("ambitie"), list) else []
    if not entries:
        problems.append((None, "geen enkele [[ambitie]] gevonden."))
    out: list[Ambition] = []
    for i, entry in enumerate(entries):
        header = file.line("ambitie", i)
        found = _check_entry(entry, i, file, cat, now)
        problems += found
        if not found:
            out.append(
                Ambition(
                    indicator=entry["indicator"],
                    doel=float(entry["doel"]),
                    doeljaar=int(entry["doeljaar"]),
                    eigenaar=entry["eigenaar"],
                    basisjaar=entry.get("basisjaar"),
                    basiswaarde=(float(entry["basiswaarde"]) if "basiswaarde" in entry else None),
                    toelichting=entry.get("toelichting", ""),
                    line=header,
                )
            )
    if problems:
        problems.sort(key=lambda p: (p[0] is None, p[0] or 0))
        raise AmbitionFileError(file.path, problems)
    return {k: v for k, v in raw.items() if k != "ambitie"}, out


def _check_entry(
    entry: dict[str, Any], i: int, file: TomlFile, cat: Any, now: int
) -> list[tuple[int | None, str]]:
    """Return the problems of one ``[[ambitie]]`` entry (empty when it is right)."""
    where = f"ambitie {i + 1}"
    header = file.line("ambitie", i)

    def line_of(key: str) -> int | None:
        return file.line("ambitie", i, key) if key in entry else header

    problems = check_fields(entry, FIELDS, where=where, line_of=line_of, header=header)
    ind = entry.get("indicator")
    if isinstance(ind, str) and ind not in cat.indicators:
        hint = suggest(ind, sorted(cat.indicators), n=3, cutoff=0.5)
        problems.append((line_of("indicator"), f"{where}: onbekende indicator {ind!r}.{hint}"))
    elif (
        isinstance(ind, str)
        and cat[ind].direction == "context"
        and not ("basiswaarde" in entry or "basisjaar" in entry)
    ):
        problems.append(
            (
                line_of("indicator"),
                f"{where}: {ind!r} is een contextindicator zonder richting; geef basisjaar "
                "of basiswaarde zodat duidelijk is welke kant het doel op gaat.",
            )
        )
    year = entry.get("doeljaar")
    if is_int(year) and year < now:
        problems.append(
            (
                line_of("doeljaar"),
                f"{where}: doeljaar {year} ligt in het verleden (peiljaar {now}).",
            )
        )
    base = entry.get("basisjaar")
    if is_int(base) and is_int(year) and base >= year:
        problems.append(
            (line_of("basisjaar"), f"{where}: basisjaar {base} ligt niet vóór doeljaar {year}.")
        )
    return problems


# -- linear projection ------------------------------------------------------------------------
_T95 = [6.314, 2.920, 2.353, 2.132, 2.015, 1.943, 1.895, 1.860, 1.833, 1.812, 1.796, 1.782,
        1.771, 1.761, 1.753, 1.746, 1.740, 1.734, 1.729, 1.725]  # fmt: skip


def t_quantile_95(df: int) -> float:
    """One-sided 95% quantile of Student's t (two-sided 90% interval), without scipy."""
    if df < 1:
        return math.nan
    if df <= len(_T95):
        return _T95[df - 1]
    z = 1.6448536269514722
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


@dataclass(frozen=True)
class LinearProjection:
    """A straight line fitted to yearly values, projected to a target year.

    Attributes
    ----------
    n : int
        Years with a value used in the fit.
    slope : float
        Change per year (NaN with too few years).
    projection : float
        The fitted value in the target year.
    lower, upper : float
        The 90% prediction interval around ``projection``.
    first_year, last_year : int or None
        The years the fit covers.
    """

    n: int
    slope: float
    projection: float
    lower: float
    upper: float
    first_year: int | None
    last_year: int | None


def linear_projection(years: Any, values: Any, target_year: int) -> LinearProjection:
    """Fit value = a + b year by OLS and project it to ``target_year`` with a 90% interval.

    The interval is a *prediction* interval (the value that will be observed in the target
    year): yhat +/- t(0.95, n-2) s sqrt(1 + 1/n + (x0 - xbar)^2 / Sxx). With fewer than
    :data:`MIN_POINTS` years, the slope, projection and interval are NaN.

    Examples
    --------
    >>> t = linear_projection([2020, 2021, 2022], [1.0, 2.0, 3.0], 2025)
    >>> round(t.projection, 6), round(t.upper - t.lower, 6)
    (6.0, 0.0)
    """
    x = np.asarray(years, dtype=float)
    y = np.asarray(values, dtype=float)
    keep = ~np.isnan(y)
    x, y = x[keep], y[keep]
    n = len(x)
    first = int(x.min()) if n else None
    last = int(x.max()) if n else None
    if n < MIN_POINTS:
        return LinearProjection(n, math.nan, math.nan, math.nan, math.nan, first, last)
    xbar = x.mean()
    sxx = ((x - xbar) ** 2).sum()
    b = ((x - xbar) * (y - y.mean())).sum() / sxx
    a = y.mean() - b * xbar
    resid = y - (a + b * x)
    s = math.sqrt((resid**2).sum() / (n - 2))
    yhat = a + b * target_year
    half = t_quantile_95(n - 2) * s * math.sqrt(1 + 1 / n + (target_year - xbar) ** 2 / sxx)
    return LinearProjection(
        n, float(b), float(yhat), float(yhat - half), float(yhat + half), first, last
    )


def level_projection(years: Any, values: Any, target_year: int) -> LinearProjection:
    """Project the level of the last years, flat, with a 90% prediction interval.

    Used when the recent years do not follow the long trend
    (:func:`westerkwartier.analysis.rules.recent_level_respected`): the mean of the last
    :data:`~westerkwartier.analysis.rules.RECENT_YEARS` values, +/- t(0.95, n-1) s
    sqrt(1 + 1/n).

    Examples
    --------
    >>> p = level_projection([2022, 2023, 2024], [2.9, 3.0, 3.0], 2028)
    >>> round(p.projection, 2), p.slope
    (2.97, 0.0)
    """
    x = np.asarray(years, dtype=float)
    y = np.asarray(values, dtype=float)
    keep = ~np.isnan(y)
    order = np.argsort(x[keep])
    x, y = x[keep][order][-rules.RECENT_YEARS :], y[keep][order][-rules.RECENT_YEARS :]
    n = len(y)
    if n < 2:
        return LinearProjection(n, math.nan, math.nan, math.nan, math.nan, None, None)
    mean = float(y.mean())
    s = float(y.std(ddof=1))
    half = t_quantile_95(n - 1) * s * math.sqrt(1 + 1 / n)
    return LinearProjection(n, 0.0, mean, mean - half, mean + half, int(x[0]), int(x[-1]))


def classify(
    target: float, lower: float, upper: float, better: int, current: float | None = None
) -> str:
    """On-track status of a target from the projection interval (see module documentation).

    Parameters
    ----------
    target : float
        The target value.
    lower, upper : float
        The projection interval at the target year (NaN: no trend).
    better : int
        +1 when higher is better, -1 when lower is better.
    current : float, optional
        The current value; without one the status is "onbekend".
    """
    if current is None or (isinstance(current, float) and math.isnan(current)):
        return "onbekend"
    if math.isnan(lower) or math.isnan(upper):
        return "onbekend"
    lo, hi = (lower, upper) if better > 0 else (-upper, -lower)
    goal = target * better
    if lo >= goal:
        return "op koers"
    if hi < goal:
        return "niet op koers"
    return "twijfelachtig"


def track(ambition: Ambition, series: pd.DataFrame, direction: str) -> dict[str, Any]:  # noqa: C901 - over the limit; see tests/test_complexity.py
    """Assess one target on the municipality's series (year, value).

    With a panel column ``comparable_from`` (a declared definition break), only the years of
    the latest value's own series make the trend.

    Returns
    -------
    dict
        Row of :func:`pulse`.
    """
    s = series.dropna(subset=["value"]).sort_values("year")
    if len(s):
        s = same_series(s, int(s["year"].max()))
    s = s[s["year"] <= s["year"].max()].tail(MAX_TREND_YEARS) if len(s) else s
    current_year = int(s["year"].iloc[-1]) if len(s) else None
    current = float(s["value"].iloc[-1]) if len(s) else math.nan
    base_year = ambition.basisjaar
    base = ambition.basiswaarde
    if base is None and base_year is not None:
        hit = s[s["year"] == base_year]
        base = float(hit["value"].iloc[0]) if len(hit) else None
    if base_year is None and len(s):
        base_year = int(s["year"].iloc[0])
        if base is None:
            base = float(s["value"].iloc[0])
    if direction == "higher_is_better":
        better = 1
    elif direction == "lower_is_better":
        better = -1
    else:
        better = 1 if base is None or ambition.doel >= base else -1
    t = linear_projection(s["year"], s["value"], ambition.doeljaar)
    basis = "trend"
    if t.n >= MIN_POINTS and not rules.recent_level_respected(s["year"], s["value"], t.slope):
        # the last years do not follow the line: judge the recent level, not the old slope
        t = level_projection(s["year"], s["value"], ambition.doeljaar)
        basis = "niveau"
    status = classify(ambition.doel, t.lower, t.upper, better, current)
    needed = (
        (ambition.doel - current) / (ambition.doeljaar - current_year)
        if current_year is not None and ambition.doeljaar > current_year
        else math.nan
    )
    if not len(s):
        why = "geen waarde in het panel voor deze gemeente"
    elif t.n < MIN_POINTS:
        why = f"te weinig gegevens ({t.n} jaar; minstens {MIN_POINTS} nodig voor een trend)"
    elif status == "op koers":
        why = "de hele 90%-band van de projectie haalt het doel"
    elif status == "niet op koers":
        why = (
            "de hele 90%-band van de projectie blijft onder het doel"
            if better > 0
            else ("de hele 90%-band van de projectie blijft boven het doel")
        )
    else:
        why = "het doel ligt binnen de 90%-band van de projectie"
    if basis == "niveau" and len(s):
        why = (
            f"de laatste {rules.RECENT_YEARS} jaar volgen de trend van eerdere jaren niet; "
            f"beoordeeld op hun niveau: {why}"
        )
    return {
        "indicator": ambition.indicator,
        "eigenaar": ambition.eigenaar,
        "basisjaar": base_year,
        "basiswaarde": base,
        "huidig_jaar": current_year,
        "huidige_waarde": current,
        "doel": ambition.doel,
        "doeljaar": ambition.doeljaar,
        "kloof": (ambition.doel - current) if not math.isnan(current) else math.nan,
        "trend_per_jaar": t.slope,
        "nodig_per_jaar": needed,
        "n_jaren": t.n,
        "projectie": t.projection,
        "projectie_onder": t.lower,
        "projectie_boven": t.upper,
        "status": status,
        "uitleg": why,
        "toelichting": ambition.toelichting,
        "projectiebasis": basis,
    }


def pulse(
    gemeente: str | None,
    file: Path | str,
    *,
    panel: pd.DataFrame | None = None,
    peiljaar: int | None = None,
    registry: Any | None = None,
) -> pd.DataFrame:
    """Return the "finger on the pulse": every target of an ambitions file with its status.

    Parameters
    ----------
    gemeente : str or None
        Municipality code or name; ``None``: the file's ``gemeente``.
    file : Path or str
        The ambitions file.
    panel : pandas.DataFrame, optional
        Indicator panel; default the panel of the file's indicators for the municipality.
    peiljaar : int, optional
        See :func:`read_ambitions`.

    Returns
    -------
    pandas.DataFrame
        One row per target: indicator, label, unit, eigenaar, basisjaar, basiswaarde,
        huidig_jaar, huidige_waarde, doel, doeljaar, kloof (doel - huidige waarde),
        trend_per_jaar, nodig_per_jaar, n_jaren, projectie with projectie_onder/boven (90%
        prediction interval), status (op koers / twijfelachtig / niet op koers / onbekend),
        uitleg, toelichting.
    """
    settings_, targets = read_ambitions(file, peiljaar=peiljaar)
    code = gemeente or settings_.get("gemeente")
    if not code:
        raise InputError(
            'Geen gemeente: geef gemeente=... of zet gemeente = "GM...." bovenaan het bestand.'
        )
    if registry is None:
        from westerkwartier.sources.regions import load_registry

        registry = load_registry()
    code = registry.resolve(code).code
    cat = load_catalogue()
    if panel is None:
        from westerkwartier.indicators.panel import panel as build_panel

        panel = build_panel(regions=[code], indicators=sorted({t.indicator for t in targets}))
    own = panel[panel["region_code"] == code]
    rows = []
    for t in targets:
        columns = ["year", "value"] + ([BREAK_COLUMN] if BREAK_COLUMN in own else [])
        series = own.loc[own["indicator"] == t.indicator, columns]
        row = track(t, series, cat[t.indicator].direction)
        row["label"] = cat[t.indicator].label_nl
        row["unit"] = cat[t.indicator].unit
        rows.append(row)
    out = pd.DataFrame(rows)
    first = ["indicator", "label", "unit"]
    out = out[first + [c for c in out.columns if c not in first]]
    out.attrs["gemeente"] = code
    return out


__all__ = [
    "Ambition",
    "AmbitionFileError",
    "MIN_POINTS",
    "STATUSES",
    "LinearProjection",
    "classify",
    "linear_projection",
    "pulse",
    "read_ambitions",
    "t_quantile_95",
    "track",
]
