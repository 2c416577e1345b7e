"""What the indicator catalogue needs from each CBS table, so CBS is asked for slices only.

:func:`table_needs` reads the catalogue and states, per table, a
:class:`~westerkwartier.sources.need.Need`: the topics its indicators use, the categories they
select (and the "Totaal" category where an operand selects nothing), the dimensions read
completely (``Marges`` of an operand with margins, a status dimension), the region levels the
monitor reports (COROP areas, municipalities, Nederland, provinces) and the first year (the
catalogue's first year of the indicators that use the table, less the operands' lag, or
:data:`settings.first_year <westerkwartier.settings.first_year>` when that is later).

The needs cover the whole catalogue, whatever indicators one panel asks for: every report,
panel and scheduled refresh then asks CBS the same question per table, so the cache answers
all of them after one download (:func:`refresh` is that download).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from westerkwartier import settings
from westerkwartier.errors import CbsError, CbsUnavailable
from westerkwartier.indicators.catalogue import Catalogue, load_catalogue
from westerkwartier.sources.need import DEFAULT_REGION_PREFIXES, TOTAL, Need

_LOG = logging.getLogger(__name__)

#: Name of the Gezondheidsmonitor's margins dimension (read whole for operands with margins).
MARGINS_DIMENSION = "Marges"


def region_prefixes(codes: Iterable[str] = ()) -> tuple[str, ...]:
    """Return the monitor's region levels plus the two-letter prefixes of ``codes``.

    Examples
    --------
    >>> region_prefixes(["GM1969", "GG0716"])
    ('CR', 'GG', 'GM', 'NL', 'PV')
    """
    prefixes = set(DEFAULT_REGION_PREFIXES)
    prefixes.update(str(c).strip()[:2].upper() for c in codes if len(str(c).strip()) >= 2)
    return tuple(sorted(prefixes))


def table_needs(
    catalogue: Catalogue | None = None,
    *,
    prefixes: Sequence[str] = DEFAULT_REGION_PREFIXES,
    first_year: int | None = None,
) -> dict[str, Need]:
    """Return, per table id of the catalogue, what its indicators need from it.

    Parameters
    ----------
    catalogue : Catalogue, optional
        Default :func:`~westerkwartier.indicators.catalogue.load_catalogue`.
    prefixes : sequence of str
        Region code prefixes to fetch (default: COROP, municipalities, Nederland, provinces).
    first_year : int, optional
        Fetch no period before this year (less the lag of an operand that looks back);
        default :data:`settings.first_year`, else the catalogue's years alone decide.

    Returns
    -------
    dict of str to Need
        Keyed by table id as the catalogue spells it.
    """
    cat = catalogue or load_catalogue()
    floor = first_year if first_year is not None else settings.first_year
    topics: dict[str, set[str]] = {}
    selects: dict[str, dict[str, set[str]]] = {}
    unselected: dict[str, list[set[str]]] = {}
    whole: dict[str, set[str]] = {}
    since: dict[str, int] = {}
    region_dims: dict[str, set[str | None]] = {}
    for indicator in [*cat, *(cat[v] for v in cat.age_variants())]:  # with the age groups
        start = indicator.years[0]
        if floor is not None:
            start = max(start, int(floor))
        for op in indicator.operands.values():
            for table_id in op.tables:
                stems = set(op.topics).union(*(set(group) for group in op.sum_topics))
                topics.setdefault(table_id, set()).update(stems)
                region_dims.setdefault(table_id, set()).add(op.region_dimension)
                dims = selects.setdefault(table_id, {})
                for dim, titles in op.select.items():
                    dims.setdefault(dim, set()).update(titles)
                unselected.setdefault(table_id, []).append(set(op.select))
                spec = cat.table(table_id)
                extra = whole.setdefault(table_id, set())
                if op.margins:
                    extra.add(MARGINS_DIMENSION)
                if spec.status_dimension:
                    extra.add(spec.status_dimension)
                since[table_id] = min(since.get(table_id, start - op.lag), start - op.lag)
    needs: dict[str, Need] = {}
    for table_id, wanted in topics.items():
        select: dict[str, tuple[str, ...]] = {}
        for dim, titles in selects[table_id].items():
            values = set(titles)
            if any(dim not in named for named in unselected[table_id]):
                values.add(TOTAL)  # an operand that selects nothing here wants the total
            select[dim] = tuple(sorted(values))
        named = {dim for dim in region_dims[table_id] if dim is not None}
        region_dim = next(iter(named)) if len(region_dims[table_id]) == 1 and named else None
        if len(named) > 1 or (named and None in region_dims[table_id]):
            whole[table_id].update(named)  # operands read regions from different dimensions
        needs[table_id] = Need(
            topics=tuple(sorted(wanted)),
            select=select,
            whole=tuple(sorted(whole[table_id])),
            region_prefixes=tuple(sorted({p.upper() for p in prefixes})),
            since=since[table_id],
            region_dimension=region_dim,
        )
    return needs


def refresh(table_ids: Iterable[str] | None = None) -> tuple[bool, list[str]]:
    """Download again into the cache what the catalogue needs from each table.

    The scheduled refresh of a batch: the same sized requests the panel makes, so the report
    kernels find every table in the cache. It stops at the first sign that CBS cannot be
    reached (the rest would fail the same way).

    Parameters
    ----------
    table_ids : iterable of str, optional
        Only these tables (default: every table of the catalogue).

    Returns
    -------
    reachable, refreshed : bool, list of str
        Whether CBS answered, and the tables downloaded again.
    """
    from westerkwartier.sources import cbs

    cat = load_catalogue()
    needs = table_needs(cat)
    wanted = list(needs) if table_ids is None else [t for t in table_ids if t in needs]
    refreshed: list[str] = []
    for table_id in wanted:
        try:
            api = cat.table(table_id).api
            cbs.fetch_table(table_id, need=needs[table_id], refresh=True, api=api)
        except CbsUnavailable as err:
            _LOG.warning("CBS niet bereikbaar (%s); de run gaat door met cache en snapshot.", err)
            return False, refreshed
        except CbsError as err:  # one table gone, changed shape or too large: the others count
            _LOG.warning("Tabel %s niet vernieuwd: %s", table_id, err)
            continue
        refreshed.append(table_id)
    return True, refreshed
