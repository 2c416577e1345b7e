"""What to ask CBS for: a :class:`Need` says it in catalogue terms, :func:`plan` in codes.

The indicator panel does not need whole CBS tables (03759ned alone has about 100 million
cells). For every table it states a :class:`Need`: the topics its indicators use, the categories
they select (by title), the dimensions they read completely (margins, a status dimension), the
region levels (code prefixes such as ``GM``) and the first year. The CBS clients turn a need,
once they have the table's code lists, into a :class:`Plan`: exact codes per dimension, the
"Totaal" category of every dimension nothing selects, the topic keys, and an estimate of the
rows the request brings (the product of the selected codes per dimension, known before any data
is downloaded). A plan above :data:`settings.max_rows <westerkwartier.settings.max_rows>` stops
with :class:`~westerkwartier.errors.CbsRequestTooLarge`.

The same planning serves the explicit selections of :func:`westerkwartier.sources.cbs.fetch_table`
(``regions=``, ``periods=``, ``topics=``, ``filters=``), where unknown topics and dimensions are
errors.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from westerkwartier import settings
from westerkwartier.errors import CbsRequestTooLarge, CbsSchemaError, TopicNotFound
from westerkwartier.sources.table import CbsTable, stem

_LOG = logging.getLogger(__name__)

#: Marker in :attr:`Need.select`: the dimension's total category ("Totaal ...").
TOTAL = "<totaal>"

#: Region levels the monitor reports: COROP areas, municipalities, Nederland, provinces.
DEFAULT_REGION_PREFIXES: tuple[str, ...] = ("CR", "GM", "NL", "PV")

#: Rows per page of the OData v3 feed (CBS's page size), for the progress bar.
PAGE_ROWS = 10_000


@dataclass(frozen=True)
class Need:
    """What the indicators need from one CBS table, in catalogue terms.

    Attributes
    ----------
    topics : tuple of str
        Topic key stems or full keys. A stem that matches several topics brings all of them
        (the indicator layer then says the stem is ambiguous); one the table lacks is skipped.
    select : mapping of str to tuple of str
        Per dimension the category titles (or codes) wanted; :data:`TOTAL` stands for the
        dimension's "Totaal" category. Dimensions not named here and not in :attr:`whole` get
        their "Totaal" category only.
    whole : tuple of str
        Dimensions read completely (``Marges`` of the Gezondheidsmonitor, a status dimension).
    region_prefixes : tuple of str
        Region codes starting with these are fetched (``GM`` = every municipality, also
        dissolved ones, which the rebuild of merged municipalities needs).
    since : int or None
        First year fetched (period codes from ``<since>`` on); ``None``: every period.
    region_dimension : str or None
        The dimension the prefixes apply to, for a table with two geographic dimensions
        (85481NED: ``WerkregioS``); ``None``: the first geographic one. Another geographic
        dimension is treated like any other: its selected categories, else its total.
    """

    topics: tuple[str, ...]
    select: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    whole: tuple[str, ...] = ()
    region_prefixes: tuple[str, ...] = DEFAULT_REGION_PREFIXES
    since: int | None = None
    region_dimension: str | None = None

    def as_query(self) -> dict[str, Any]:
        """Return the need as a canonical, JSON-ready dict (part of the cache key)."""
        query: dict[str, Any] = {
            "topics": sorted(set(self.topics)),
            "select": {d: sorted(set(v)) for d, v in sorted(self.select.items())},
            "whole": sorted(set(self.whole)),
            "region_prefixes": sorted({p.upper() for p in self.region_prefixes}),
            "since": self.since,
        }
        if self.region_dimension:
            query["region_dimension"] = self.region_dimension
        return query

    @classmethod
    def from_query(cls, query: Mapping[str, Any]) -> Need:
        """Inverse of :meth:`as_query`."""
        return cls(
            topics=tuple(query.get("topics") or ()),
            select={d: tuple(v) for d, v in (query.get("select") or {}).items()},
            whole=tuple(query.get("whole") or ()),
            region_prefixes=tuple(query.get("region_prefixes") or ()),
            since=query.get("since"),
            region_dimension=query.get("region_dimension"),
        )


@dataclass
class Plan:
    """A request in codes, ready to be written as an OData ``$filter``.

    Attributes
    ----------
    topics : list of str
        Full topic keys to fetch, in table order.
    codes : dict of str to list of str
        Exact codes (unpadded) per dimension.
    prefixes : dict of str to list of str
        Code prefixes per dimension (the region dimension of a need).
    since : dict of str to str
        Lowest period code per dimension (``"2013"``: every code from 2013 on).
    rows : int
        Estimated rows: the product, over the dimensions, of the codes the request selects.
    """

    topics: list[str]
    codes: dict[str, list[str]] = field(default_factory=dict)
    prefixes: dict[str, list[str]] = field(default_factory=dict)
    since: dict[str, str] = field(default_factory=dict)
    rows: int = 0

    @property
    def selective(self) -> bool:
        """Whether the plan narrows the table at all."""
        return bool(self.codes or self.prefixes or self.since)

    def check_limit(self, table_id: str, *, cells_per_row: int = 1) -> None:
        """Stop before downloading more than :data:`settings.max_rows` rows.

        Raises
        ------
        CbsRequestTooLarge
            With the estimate, the limit and what to do.
        """
        rows = self.rows * max(1, cells_per_row)
        limit = int(settings.max_rows)
        if rows > limit:
            raise CbsRequestTooLarge(
                f"De vraag aan CBS voor tabel {table_id} zou ongeveer {_nl(rows)} rijen "
                f"opleveren (ongeveer {_nl(math.ceil(rows / PAGE_ROWS))} pagina's), meer dan de "
                f"grens van {_nl(limit)}. Vraag minder: kies regio's, perioden (vanaf een later "
                "jaar, WESTERKWARTIER_FIRST_YEAR) of onderwerpen, of verhoog de grens met "
                "WESTERKWARTIER_MAX_ROWS als u de download echt wilt."
            )


def _nl(number: int) -> str:
    return f"{number:,}".replace(",", ".")


# -- finding dimensions and categories ---------------------------------------------------------
def region_dimension(dimension_types: Mapping[str, str]) -> str | None:
    """Return the dimension the indicator layer reads regions from (first geographic one)."""
    for name, kind in dimension_types.items():
        if kind == "GeoDimension":
            return name
    for name in dimension_types:
        if name.startswith("Regio") or name == "WijkenEnBuurten":
            return name
    return None


def period_dimension(dimension_types: Mapping[str, str]) -> str | None:
    """Return the time dimension, if any."""
    return next((n for n, k in dimension_types.items() if k == "TimeDimension"), None)


def total_code(codes: pd.DataFrame) -> str | None:
    """Return the "Totaal" category of a code list, chosen as the indicator layer chooses it.

    A title that is exactly "Totaal" wins, then the first title starting with "Totaal"; a
    dimension with a single category needs no choice. ``None`` when there is no such category.
    """
    if len(codes) == 1:
        return str(codes["key"].iloc[0])
    titles = codes["title"].astype(str).str.strip().str.lower()
    for mask in (titles == "totaal", titles.str.startswith("totaal")):
        hit = codes.loc[mask, "key"]
        if len(hit):
            return str(hit.iloc[0])
    return None


def category_code(codes: pd.DataFrame, value: str) -> str | None:
    """Return the code of a category given as code or title (case and outer spaces ignored)."""
    keys = codes["key"].astype(str)
    if value in set(keys):
        return value
    titles = codes["title"].astype(str).str.strip().str.lower()
    hit = keys[titles == value.strip().lower()]
    return str(hit.iloc[0]) if len(hit) else None


def _topics_lenient(topics: pd.DataFrame, wanted: Iterable[str], table_id: str) -> list[str]:
    keys = [str(k) for k in topics["key"]]
    chosen: set[str] = set()
    for name in wanted:
        if name in keys:
            chosen.add(name)
            continue
        chosen.update(k for k in keys if stem(k) == name)
    if not chosen:
        raise TopicNotFound(
            f"Tabel {table_id} heeft geen van de onderwerpen {', '.join(sorted(wanted))}; CBS "
            "heeft de tabel mogelijk gewijzigd. Controleer config/indicators.toml."
        )
    return [k for k in keys if k in chosen]


def _topics_strict(topics: pd.DataFrame, wanted: Iterable[str], table_id: str) -> list[str]:
    probe = CbsTable(table_id, pd.DataFrame(), topics, {})
    chosen = {probe.topic(s) for s in wanted}  # raises TopicNotFound naming table and stem
    return [k for k in topics["key"] if k in chosen]


# -- planning ------------------------------------------------------------------------------------
def plan(
    query: Mapping[str, Any],
    table_id: str,
    topics: pd.DataFrame,
    dimension_types: Mapping[str, str],
    dimensions: Mapping[str, pd.DataFrame],
) -> Plan:
    """Turn a normalised query into a :class:`Plan` for one table.

    Parameters
    ----------
    query : mapping
        From :func:`westerkwartier.sources.cache.normalise_query`: either ``{"need": ...}``
        (:meth:`Need.as_query`) or explicit ``regions``, ``periods``, ``topics``, ``filters``.
    table_id : str
        For messages.
    topics : pandas.DataFrame
        The table's topics (``key`` column), in table order.
    dimension_types : mapping of str to str
        Dimension kinds, in table order.
    dimensions : mapping of str to pandas.DataFrame
        Code lists (``key``, ``title``) per dimension, keys unpadded.

    Raises
    ------
    TopicNotFound
        An explicit topic is missing or ambiguous, or a need finds none of its topics.
    CbsSchemaError
        An explicit filter names a dimension the table lacks, or regions/periods are asked
        from a table without (or with more than one) such dimension.
    """
    if "need" in query:
        need = Need.from_query(query["need"])
        result = _plan_need(need, table_id, topics, dimension_types, dimensions)
    else:
        result = _plan_explicit(query, table_id, topics, dimension_types, dimensions)
    result.rows = estimate_rows(result, dimensions)
    return result


def _plan_need(  # noqa: C901 - over the limit; see tests/test_complexity.py
    need: Need,
    table_id: str,
    topics: pd.DataFrame,
    dimension_types: Mapping[str, str],
    dimensions: Mapping[str, pd.DataFrame],
) -> Plan:
    result = Plan(topics=_topics_lenient(topics, need.topics, table_id))
    regions = need.region_dimension
    if regions not in dimension_types:
        regions = region_dimension(dimension_types)
    periods = period_dimension(dimension_types)
    for dim in dimension_types:
        codes = dimensions[dim]
        if dim == regions:
            if need.region_prefixes:
                result.prefixes[dim] = sorted({p.upper() for p in need.region_prefixes})
            continue
        if dim == periods:
            if need.since is not None:
                result.since[dim] = str(int(need.since))
            continue
        if dim in need.whole:
            continue
        chosen: list[str] = []
        for value in need.select.get(dim, (TOTAL,)):
            code = total_code(codes) if value == TOTAL else category_code(codes, value)
            if code is None:
                if value == TOTAL:  # no total: the indicator layer will say so; fetch all
                    chosen = []
                    break
                continue  # unknown title: the indicator layer reports the missing category
            if code not in chosen:
                chosen.append(code)
        if chosen and len(chosen) < len(codes):
            result.codes[dim] = chosen
    return result


def _plan_explicit(
    query: Mapping[str, Any],
    table_id: str,
    topics: pd.DataFrame,
    dimension_types: Mapping[str, str],
    dimensions: Mapping[str, pd.DataFrame],
) -> Plan:
    wanted = query.get("topics")
    keys = _topics_strict(topics, wanted, table_id) if wanted else list(topics["key"])
    result = Plan(topics=keys)

    def only(kind: str, label: str) -> str:
        names = [d for d, t in dimension_types.items() if t == kind]
        if len(names) != 1:
            raise CbsSchemaError(
                f"Tabel {table_id} heeft {'geen' if not names else 'meer dan één'} "
                f"{label} ({', '.join(dimension_types)}); gebruik filters={{dimensie: codes}}."
            )
        return names[0]

    selection: dict[str, list[str]] = {}
    if "regions" in query:
        selection[only("GeoDimension", "regiodimensie")] = list(query["regions"])
    if "periods" in query:
        selection[only("TimeDimension", "periodedimensie")] = list(query["periods"])
    for dim, codes in (query.get("filters") or {}).items():
        if dim not in dimension_types:
            raise CbsSchemaError(
                f"Tabel {table_id} heeft geen dimensie {dim!r}; wel: {', '.join(dimension_types)}."
            )
        selection[dim] = sorted(set(selection.get(dim, [])) | set(codes))
    for dim, codes in selection.items():
        known = set(dimensions[dim]["key"])
        unknown = [c for c in codes if c not in known]
        if unknown:
            _LOG.warning(
                "Tabel %s, dimensie %s kent %s niet; daarvoor komen geen rijen terug. "
                "Controleer de codes (regio-indeling van deze tabelversie?).",
                table_id,
                dim,
                ", ".join(unknown),
            )
    result.codes = selection
    return result


def estimate_rows(result: Plan, dimensions: Mapping[str, pd.DataFrame]) -> int:
    """Rows a plan brings: the product over the dimensions of the codes it selects.

    An upper bound (CBS may lack some combinations); exact for tables that have a row for
    every combination, which is how CBS publishes them (missing figures are empty cells).
    """
    rows = 1
    for dim, codes in dimensions.items():
        keys = codes["key"].astype(str)
        if dim in result.codes:
            count = len(set(result.codes[dim]) & set(keys))
        elif dim in result.prefixes:
            prefixes = tuple(result.prefixes[dim])
            count = int(sum(1 for k in keys if k.upper().startswith(prefixes)))
        elif dim in result.since:
            count = int((keys >= result.since[dim]).sum())
        else:
            count = len(keys)
        rows *= count
    return rows


def quote(value: str) -> str:
    """Quote a string for OData (a quote inside is doubled)."""
    return "'" + value.replace("'", "''") + "'"


def filter_text(result: Plan, render_code: Any, *, extra: Sequence[str] = ()) -> str | None:
    """Write a plan as an OData ``$filter``.

    Parameters
    ----------
    result : Plan
        The plan.
    render_code : callable
        ``(dimension, code) -> str``: the literal of one code (v3 pads, v4 does not).
    extra : sequence of str
        More conditions joined with ``and`` (the v4 ``Measure`` condition).
    """
    parts: list[str] = []
    for dim, codes in result.codes.items():
        terms = [f"({dim} eq {render_code(dim, c)})" for c in codes]
        if terms:
            parts.append(terms[0] if len(terms) == 1 else f"({' or '.join(terms)})")
    for dim, prefixes in result.prefixes.items():
        terms = [f"startswith({dim},{quote(p)})" for p in prefixes]
        if terms:
            parts.append(terms[0] if len(terms) == 1 else f"({' or '.join(terms)})")
    for dim, lowest in result.since.items():
        parts.append(f"({dim} ge {quote(lowest)})")
    parts.extend(extra)
    return " and ".join(parts) or None
