"""A province's figure that one municipality dominates, and the province without it.

Some provincial figures mostly describe one municipality: every asylum seeker registers in the
municipality of the national application centre (Ter Apel, Westerwolde), which then holds most
of the immigrants of the province of Groningen while it has a few per cent of its inhabitants.
Comparing another municipality of that province with such a figure says little.

:func:`dominance_rows` finds such cases for every indicator whose formula is a ratio of counts:
a municipality dominates its province in a year when its share of the province's numerator is
at least :data:`MIN_SHARE` and at least :data:`RATIO` times its share of the denominator (the
population, the dwellings ...). A numerator that is a balance (arrivals minus departures) is
judged as a whole, since the balance is the figure: a municipality dominates when its balance
is at least :data:`MIN_SHARE` of the province's, with the same sign, and at least :data:`RATIO`
times its share of the denominator, and when its share of the moves (arrivals plus departures)
is at least :data:`RATIO` times its share of the denominator as well, or its share of one of
the two flows alone is (and at least :data:`MIN_SHARE`). In 2019 Westerwolde had 87% of the
province of Groningen's domestic balance and 16% of its moves with 4% of its inhabitants, while
no single count reached a quarter. A large part of both flows is not enough: in 2018 Maastricht
had 46% of the emigration and 39% of the immigration of the province of Limburg with 11% of its
inhabitants, but 10% of its balance, and the province's balance was 2,7 per 1.000 inhabitants
with and without it.

A balance that is the change of one stock (inhabitants on 1 January of the next year minus
those of this year: :func:`is_stock_change`) has no moves of its own; there the changes of all
municipalities of the province, each counted as positive, stand in for them, and the
municipality must hold at least :data:`MIN_SHARE` of those as well as :data:`RATIO` times its
share of the stock. In 2025 Westerwolde lost 2.154 inhabitants (27.421 to 25.267, after a gain
of 956 in 2024: the swings of a municipality with an asylum application centre) while the
province of Groningen lost 1.547: 139% of the province's change with 5% of its inhabitants;
the other municipalities together grew.

For each case it computes the province
**without** that municipality from the same counts (province minus municipality, exact for
counts) and returns it as extra panel rows: region code ``<province>-<municipality>``
(``PV20-GM1950``), level :data:`LEVEL`, named "provincie Groningen zonder Westerwolde", with a
note that gives both shares. Reports compare with that figure instead of the province's.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from westerkwartier.indicators.catalogue import Indicator
from westerkwartier.indicators.compute import OperandData, compute
from westerkwartier.indicators.extraction import OBS_COLUMNS
from westerkwartier.indicators.precision import COUNT_UNITS, is_missing

#: A municipality dominates a province's figure from this share of its numerator on ...
MIN_SHARE: float = 0.25

#: ... when that share is also at least this many times its share of the denominator.
RATIO: float = 3.0

#: How a note names the numerator when it is a balance judged as a whole.
BALANCE: str = "saldo"

#: How a note names a numerator (an operand, or :data:`BALANCE`) in the reports' words; an
#: operand not listed is named "de teller (<operand>)".
NUMERATOR_WORDS: dict[str, str] = {
    BALANCE: "het saldo",
    "immigratie": "de immigratie",
    "emigratie": "de emigratie",
    "vertrek": "het vertrek",
    "vestiging": "de vestiging",
}

#: How a note names the denominator, by the indicator's unit; otherwise "de noemer".
DENOMINATOR_WORDS: dict[str, str] = {"per 1 000 inwoners": "de inwoners"}

#: How a note names the numerator of the change of a stock (:func:`is_stock_change`).
CHANGE: str = "de verandering"

#: How a note names the stock whose change is judged, by the operand of its start.
STOCK_WORDS: dict[str, str] = {
    "inwoners_begin": "de inwoners",
    "banen_vorig_jaar": "de banen",
    "voorraad_begin": "de woningen",
}

#: ``level`` of the rows of a province without its dominant municipality.
LEVEL: str = "provincie zonder gemeente"


def without_code(province: str, municipality: str) -> str:
    """Region code of a province without one municipality (``PV20-GM1950``).

    Examples
    --------
    >>> without_code("PV20", "GM1950")
    'PV20-GM1950'
    """
    return f"{province}-{municipality}"


#: What joins the province's name and the municipality's in the name of such a region.
WITHOUT: str = " zonder "


def without_name(province: str, municipality: str) -> str:
    """Name of a province without one municipality, as the reports write it.

    Examples
    --------
    >>> without_name("provincie Groningen", "Westerwolde")
    'provincie Groningen zonder Westerwolde'
    """
    return f"{province}{WITHOUT}{municipality}"


def left_out(name: str | None) -> str | None:
    """Return the municipality a region's name leaves out (:func:`without_name`), or None.

    Examples
    --------
    >>> left_out("provincie Groningen zonder Westerwolde"), left_out("provincie Groningen")
    ('Westerwolde', None)
    """
    if not name or WITHOUT not in name:
        return None
    return name.split(WITHOUT, 1)[1]


def note_shares(note: object) -> str:
    """Return the shares in the note of a province without a municipality (after its name).

    Examples
    --------
    >>> note_shares("Midden-Groningen: 31% van de verandering van de provincie, 7% van de banen")
    '31% van de verandering van de provincie, 7% van de banen'
    >>> note_shares(None), note_shares(float("nan"))
    ('', '')
    """
    if not isinstance(note, str) or not note:
        return ""
    return note.split(": ", 1)[-1]


def _quotient(formula: str) -> ast.BinOp | None:
    """Return the formula's syntax tree when it is a quotient at the top, else None."""
    try:
        tree = ast.parse(formula.strip(), mode="eval").body
    except SyntaxError:
        return None
    if not (isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Div)):
        return None
    return tree


def split_formula(formula: str) -> tuple[set[str], set[str]] | None:
    """Return the names in the numerator and in the denominator of a ratio formula.

    The formula must be a (constant times a) quotient; None for anything else (a single
    operand, a difference of two ratios).

    Examples
    --------
    >>> top, bottom = split_formula("1000 * (vestiging - vertrek) / ((begin + eind) / 2)")
    >>> sorted(top), sorted(bottom)
    (['vertrek', 'vestiging'], ['begin', 'eind'])
    >>> split_formula("pct") is None
    True
    """
    tree = _quotient(formula)
    if tree is None:
        return None

    def names(node: ast.AST) -> set[str]:
        return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}

    top, bottom = names(tree.left), names(tree.right)
    if not top or not bottom:
        return None
    return top, bottom


def numerator_terms(formula: str) -> dict[str, int] | None:
    """Return the signed operands of a ratio's numerator when it is a balance of counts.

    The numerator, without a constant factor, must be a sum and difference of names with at
    least one subtracted (``vestiging - vertrek``); None for anything else.

    Examples
    --------
    >>> numerator_terms("1000 * (vestiging - vertrek) / ((begin + eind) / 2)")
    {'vestiging': 1, 'vertrek': -1}
    >>> numerator_terms("1000 * imm / pop") is None
    True
    """
    tree = _quotient(formula)
    if tree is None:
        return None
    node = tree.left
    while isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        if isinstance(node.left, ast.Constant):
            node = node.right
        elif isinstance(node.right, ast.Constant):
            node = node.left
        else:
            return None

    def terms(n: ast.AST, sign: int) -> dict[str, int] | None:
        if isinstance(n, ast.Name):
            return {n.id: sign}
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
            return terms(n.operand, -sign)
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add | ast.Sub):
            left = terms(n.left, sign)
            right = terms(n.right, sign if isinstance(n.op, ast.Add) else -sign)
            if left is None or right is None or set(left) & set(right):
                return None
            return left | right
        return None

    found = terms(node, 1)
    return found if found and min(found.values()) < 0 else None


def is_stock_change(indicator: Indicator, balance: Mapping[str, int]) -> bool:
    """Tell whether a balance is the change of one stock (inhabitants at the end minus start).

    Its operands then read the same topics of the same tables at different moments (each its
    own ``lag``), unlike a balance of two flows such as arrivals minus departures.

    Examples
    --------
    >>> from westerkwartier.indicators.catalogue import load_catalogue
    >>> cat = load_catalogue()
    >>> growth = cat["bevolkingsgroei"]
    >>> is_stock_change(growth, numerator_terms(growth.formula))
    True
    >>> moves = cat["binnenlands_migratiesaldo_per_1000"]
    >>> is_stock_change(moves, numerator_terms(moves.formula))
    False
    """
    ops = [indicator.operands[n] for n in balance]
    return (
        len({(op.tables, op.topics) for op in ops}) == 1
        and len({op.lag for op in ops}) == len(ops) > 1
    )


def _wide(obs: pd.DataFrame) -> pd.DataFrame:
    """Region x year values of an operand (the first row of a cell)."""
    rows = obs[obs["value"].notna()].drop_duplicates(["region_code", "year"])
    at_row, regions = pd.factorize(rows["region_code"])
    at_column, years = pd.factorize(rows["year"])
    values = np.full((len(regions), len(years)), np.nan)
    values[at_row, at_column] = rows["value"].to_numpy(dtype=float)
    return pd.DataFrame(values, index=pd.Index(regions, dtype=object), columns=years)


def dominance_rows(
    indicator: Indicator,
    operands: Mapping[str, OperandData],
    provinces: Iterable[str],
    members: Mapping[str, str],
    names: Mapping[str, str],
    years: Iterable[int] | None = None,
) -> pd.DataFrame:
    """Panel rows of each province without the municipality that dominates its figure.

    Parameters
    ----------
    indicator : Indicator
        The catalogue entry; only ratios of counts are looked at (a province's count is the
        sum of its municipalities' counts, so the province minus one municipality is exact).
    operands : mapping of str to OperandData
        The operands as :func:`westerkwartier.indicators.compute.compute` gets them.
    provinces : iterable of str
        Province codes to look at.
    members : mapping of str to str
        Municipality code -> province code.
    names : mapping of str to str
        Names of the provinces and municipalities.
    years : iterable of int, optional
        Years to look at (default: every year of the operands).

    Returns
    -------
    pandas.DataFrame
        Columns of :func:`~westerkwartier.indicators.compute.compute` plus ``region_name`` and
        ``level``; one row per dominated province and year (none when nothing dominates).
        ``note`` reads "Westerwolde: 62% van de immigratie van de provincie, 4% van de
        inwoners" (:data:`NUMERATOR_WORDS`, :data:`DENOMINATOR_WORDS`).
    """
    parts = split_formula(indicator.formula)
    used = set(operands)
    if parts is None or not all(indicator.operands[n].cbs_unit in COUNT_UNITS for n in used):
        return pd.DataFrame()
    top, bottom = parts
    wide = {n: _wide(d.obs) for n, d in operands.items()}
    if any(w.empty for w in wide.values()):
        return pd.DataFrame()
    wanted = set(years) if years is not None else None
    common = [
        int(y)
        for y in sorted(set.intersection(*[set(w.columns) for w in wide.values()]))
        if wanted is None or y in wanted
    ]
    found: list[tuple[str, str, int, float, float, str]] = []
    provinces = list(provinces)
    looked_at = set(provinces)
    municipalities = [m for m, p in members.items() if p in looked_at]
    grid = {  # every operand as (municipalities x years, provinces x years) arrays
        n: (
            w.reindex(index=municipalities, columns=common).to_numpy(),
            w.reindex(index=provinces, columns=common).to_numpy(),
        )
        for n, w in wide.items()
    }
    balance = numerator_terms(indicator.formula)
    if balance is not None and not set(balance) <= used:
        balance = None
    stock = balance is not None and is_stock_change(indicator, balance)
    for k, province in enumerate(provinces):
        own = [i for i, m in enumerate(municipalities) if members[m] == province]
        found += _strongest(
            province,
            [municipalities[i] for i in own],
            common,
            {n: (own_rows[own], by_province[k]) for n, (own_rows, by_province) in grid.items()},
            sorted(top & used),
            bottom & used,
            balance,
            stock=stock,
        )
    if not found:
        return pd.DataFrame()
    return _without_rows(indicator, operands, found, names, stock=stock)


def _rest_of_balance(value: float, *, stock: bool = False) -> str:
    """Why a municipality can hold more than 100% of its province's balance.

    ``value`` is the province without it: the other municipalities together, whose balance
    (or change, ``stock``) then has the other sign.
    """
    if is_missing(value) or value == 0:
        return ""
    if stock:
        return "; de andere gemeenten van de provincie " + ("groeiden" if value > 0 else "krompen")
    sign = "positief" if value > 0 else "negatief"
    return f"; de andere gemeenten van de provincie hebben samen een {sign} saldo"


def _without_rows(
    indicator: Indicator,
    operands: Mapping[str, OperandData],
    found: list[tuple[str, str, int, float, float, str]],
    names: Mapping[str, str],
    *,
    stock: bool = False,
) -> pd.DataFrame:
    """Compute each province without its dominant municipality, from the same counts.

    Every operand of a case is the province's count minus the municipality's (the first row
    of each in the year), bounds from both; a case that misses one of them is left out. All
    cases are computed in one call of :func:`compute` (each region and year is its own
    cell) and returned in the order of ``found``.
    """
    needed = {province for province, *_ in found} | {m for _, m, *_ in found}
    first: dict[str, dict[tuple[str, int], dict[str, Any]]] = {}
    for n, d in operands.items():
        first[n] = {}
        for row in d.obs[d.obs["region_code"].isin(needed)].to_dict("records"):
            first[n].setdefault((row["region_code"], row["year"]), row)  # a cell's first row
    rows: dict[str, list[dict[str, Any]]] = {n: [] for n in operands}
    cases = []
    for province, m, year, share, den_share, name in found:
        code = without_code(province, m)
        parts = {}
        for op_name, at in first.items():
            if (province, year) not in at or (m, year) not in at:
                break
            parts[op_name] = _difference(at[(province, year)], at[(m, year)], code, year)
        else:
            for op_name, row in parts.items():
                rows[op_name].append(row)
            top, bottom = _note_words(indicator, name, stock=stock)
            cases.append(
                (
                    code,
                    year,
                    share > 1 and name == BALANCE,
                    f"{names.get(m, m)}: {_pct(share)} van {top} van de provincie, "
                    f"{_pct(den_share)} van {bottom}",
                    without_name(names.get(province, province), names.get(m, m)),
                )
            )
    if not cases:
        return pd.DataFrame()
    pseudo = {
        n: OperandData(obs=pd.DataFrame(rows[n], columns=OBS_COLUMNS), precision=d.precision)
        for n, d in operands.items()
    }
    codes = list(dict.fromkeys(code for code, *_ in cases))
    out = compute(indicator, pseudo, codes, sorted({year for _, year, *_ in cases}))
    at = pd.MultiIndex.from_arrays([out["region_code"], out["year"]])
    positions = at.get_indexer([(code, year) for code, year, *_ in cases])
    assert (positions >= 0).all(), "compute gives every region x year of its grid"
    out = out.iloc[positions].reset_index(drop=True)
    out["note"] = [
        note + _rest_of_balance(value, stock=stock) if beyond else note
        for (*_, beyond, note, _), value in zip(cases, out["value"], strict=True)
    ]
    out["region_name"] = [name for *_, name in cases]
    out["level"] = LEVEL
    return out


def _note_words(indicator: Indicator, name: str, *, stock: bool) -> tuple[str, str]:
    """Return how a note names the numerator ``name`` and the denominator of ``indicator``."""
    if stock and name == BALANCE:
        starts = [n for n in STOCK_WORDS if n in indicator.operands]
        return CHANGE, STOCK_WORDS[starts[0]] if starts else "de noemer"
    label = indicator.operands[name].name if name in indicator.operands else name
    return (
        NUMERATOR_WORDS.get(label, f"de teller ({label})"),
        DENOMINATOR_WORDS.get(indicator.unit, "de noemer"),
    )


def _difference(p: Mapping[str, Any], q: Mapping[str, Any], code: str, year: int) -> dict[str, Any]:
    """Return an operand's row for a province without a municipality: ``p`` minus ``q``."""

    def bound(row: Mapping[str, Any], col: str) -> float:
        v = row[col]
        return float(row["value"] if pd.isna(v) else v)

    rounded = not (pd.isna(p["lower"]) and pd.isna(q["lower"]))
    return {
        "region_code": code,
        "year": year,
        "value": float(p["value"] - q["value"]),
        "lower": bound(p, "lower") - bound(q, "upper") if rounded else np.nan,
        "upper": bound(p, "upper") - bound(q, "lower") if rounded else np.nan,
        "status": p["status"],
        "source_table": p["source_table"],
        "note": None,
    }


def _strongest(
    province: str,
    own: list[str],
    years: list[int],
    values_of: Mapping[str, tuple[np.ndarray, np.ndarray]],
    numerators: list[str],
    denominators: set[str],
    balance: Mapping[str, int] | None = None,
    *,
    stock: bool = False,
) -> list[tuple[str, str, int, float, float, str]]:
    """Return, per year, the municipality that dominates ``province``'s figure most, if any.

    A municipality dominates when its share of the numerator is at least :data:`MIN_SHARE`
    and :data:`RATIO` times its share of the denominator. With ``balance`` (the signed
    operands of a numerator such as ``vestiging - vertrek``) the balance itself is the only
    numerator judged, named :data:`BALANCE`: its share counts when the province's balance
    is not zero and has the same sign, and the municipality must then also move enough
    (:func:`_busy`), so that a small province balance does not make an ordinary municipality
    dominant. With ``stock`` the balance is the change of one stock and :func:`_busy` judges
    the changes of ``own`` instead of the moves. Of
    those, a year's choice is the one with the largest ratio of the two shares: the first in
    ``own`` order, and over the numerators in order only a strictly larger one replaces it.
    Computed for every municipality and year at once; one ``(province, municipality, year,
    share, denominator share, numerator)`` per year with a dominant municipality, in year
    order.

    ``values_of`` holds per operand its values for ``own`` x ``years`` and for the province
    per year.
    """
    if not own or not years:
        return []
    den_own = np.asarray(sum(values_of[d][0] for d in denominators), dtype=float)
    den_total = np.asarray(sum(values_of[d][1] for d in sorted(denominators)), dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        den_share = den_own / den_total
    candidates: list[tuple[str, np.ndarray, np.ndarray, np.ndarray | None]]
    if balance:  # judged as a whole only (see the module's docstring)
        net = [
            np.asarray(sum(sign * values_of[n][i] for n, sign in balance.items()), dtype=float)
            for i in (0, 1)
        ]
        busy = _busy(balance, values_of, net[0], den_share, stock=stock)
        candidates = [(BALANCE, net[0], net[1], busy)]
    else:
        candidates = [(name, *values_of[name], None) for name in numerators]
    best: dict[int, tuple[float, tuple[str, str, int, float, float, str]]] = {}
    for name, values, total, extra in candidates:
        with np.errstate(divide="ignore", invalid="ignore"):
            share = values / total
            sign = (total != 0) if extra is not None else (total > 0)
            dominant = (
                (sign & (den_total != 0) & ~np.isnan(den_total))
                & ~np.isnan(values)
                & ~np.isnan(share)
                & ~np.isnan(den_share)
                & _large_share(share, den_share)
            )
            if extra is not None:
                dominant &= extra
            strength = np.where(dominant, share / np.maximum(den_share, 1e-12), -np.inf)
        first = strength.argmax(axis=0)  # the first of the strongest, as in ``own`` order
        for j in np.flatnonzero(dominant.any(axis=0)).tolist():
            i = int(first[j])
            if j not in best or strength[i, j] > best[j][0]:
                found = (
                    province,
                    str(own[i]),
                    years[j],
                    float(share[i, j]),
                    float(den_share[i, j]),
                    name,
                )
                best[j] = (float(strength[i, j]), found)
    return [best[j][1] for j in sorted(best)]


def _busy(
    balance: Mapping[str, int],
    values_of: Mapping[str, tuple[np.ndarray, np.ndarray]],
    net: np.ndarray,
    den_share: np.ndarray,
    *,
    stock: bool,
) -> np.ndarray:
    """Tell per municipality and year whether it moves enough to dominate a balance.

    For flows its share of the province's moves (the operands added up) must be :data:`RATIO`
    times its share of the denominator, or its share of one flow must be, and at least
    :data:`MIN_SHARE` (Arnhem in 2023: 26% of the immigration of the province of Gelderland,
    20% of all moves, 51% of the balance, 8% of the inhabitants). A change of one stock has
    no moves: the changes of all municipalities of the province (``net``, one row each), each
    counted as positive, stand in for them, and since a year's changes are small beside the
    stock (and rounded counts make them noisy) the municipality must hold at least
    :data:`MIN_SHARE` of them too.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        if not stock:
            own, total = (sum(values_of[n][i] for n in balance) for i in (0, 1))
            busy = np.asarray(own / total >= RATIO * den_share)
            for name in balance:  # or one flow alone
                share = values_of[name][0] / values_of[name][1]
                busy |= _large_share(share, den_share)
            return busy
        return _large_share(np.abs(net) / np.nansum(np.abs(net), axis=0), den_share)


def _large_share(share: np.ndarray, den_share: np.ndarray) -> np.ndarray:
    """Whether a share is at least :data:`MIN_SHARE` and :data:`RATIO` times ``den_share``.

    Examples
    --------
    >>> _large_share(np.array([0.3, 0.3, 0.2]), np.array([0.05, 0.2, 0.01])).tolist()
    [True, False, False]
    """
    return np.asarray((share >= MIN_SHARE) & (share >= RATIO * den_share))


def _pct(share: float) -> str:
    return f"{round(100 * share):d}%"
