"""The findings at the top of a report: the most important facts in plain Dutch sentences.

:func:`findings` ranks the scorecard rows by :func:`importance` and writes 5-8 sentences, each
naming the value, its year and how it compares with the province, Nederland and its own past
(:func:`finding_text`). :func:`missing_rows` lists what a report cannot show and why.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from westerkwartier.analysis import rules
from westerkwartier.analysis.comparison import (
    Comparison,
    Observation,
    ScoreRow,
)
from westerkwartier.indicators.precision import ROUNDING, SURVEY, THRESHOLD
from westerkwartier.reporting.formatting import (
    and_list,
    fmt,
    fmt_benchmark,
    fmt_interval,
    fmt_margin,
    fmt_other_margin,
    fmt_short,
    unit_label,
    word_for,
)

#: How the statistical peers' median is named in a comparison.
PEERS: str = "vergelijkbare gemeenten"

#: Cap on one scaled gap in :func:`importance`, so that one odd figure cannot crowd out the
#: rest of the summary.
MAX_GAP: float = 3.0


#: Findings in the summary.
MIN_FINDINGS: int = 5


MAX_FINDINGS: int = 8


# ----------------------------------------------------------------------------------------------
# Findings
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    """One sentence of the summary.

    Attributes
    ----------
    text : str
        The sentence, in plain Dutch (not escaped; escape when writing HTML).
    tone : str
        ``gunstig``, ``ongunstig`` or ``neutraal``.
    score : float
        Importance; higher comes first.
    indicator : str or None
        The indicator it is about.
    """

    text: str
    tone: str
    score: float
    indicator: str | None = None


def _scale(unit: str, reference: float) -> float:
    """Size of a "notable" difference: binomial-like for percentages, relative otherwise."""
    if unit == "%":
        p = min(max(abs(reference), 0.5), 99.5)
        return math.sqrt(p * (100 - p)) / 10
    return max(abs(reference), 1e-9) / 3


def moved_like_nederland(
    start: Observation, span: tuple[float, float] | None, unit: str
) -> Observation:
    """Return where ``start`` would have gone had it moved as Nederland did.

    Percentages and rates (``per 1 000 inwoners``) move by Nederland's difference in points;
    other units (euro, persons, km) by its ratio. Without Nederland's two values, or with a
    ratio from a start at or below zero, ``start`` itself (the plain change counts).

    Examples
    --------
    >>> round(moved_like_nederland(Observation(2018, 34.8), (34.0, 29.6), "%").value, 1)
    30.4
    >>> moved_like_nederland(Observation(2018, 300.0, 280.0, 320.0), (400.0, 440.0), "euro").upper
    352.0
    """
    if span is None:
        return start
    then, now = span
    if unit == "%" or unit.startswith("per "):
        shift = now - then

        def move(v: float) -> float:
            return v + shift
    elif then > 0:
        ratio = now / then

        def move(v: float) -> float:
            return v * ratio
    else:
        return start
    return replace(
        start,
        value=move(start.value),
        lower=None if start.lower is None else move(start.lower),
        upper=None if start.upper is None else move(start.upper),
    )


def importance(row: ScoreRow) -> float:
    """Return how much a row matters for the summary (0 when it says nothing).

    The mean of the smallest gaps to the benchmarks that the intervals still allow
    (:func:`westerkwartier.analysis.rules.gap`; a difference within the margins counts for
    nothing), scaled to the unit (percentage points against a binomial-like spread, other
    units relative), plus half the smallest change the intervals allow beyond Nederland's change
    in the same years (:func:`moved_like_nederland`; a change the whole country made does not
    make a figure more important). Context figures count for nothing.
    """
    if row.own is None or row.direction == "context":
        return 0.0
    gaps = []
    for comp in row.comparisons:
        if comp.other is None or comp.word == "onbekend":
            continue
        size = rules.gap(row.own, comp.other) if comp.counts else 0.0
        gaps.append(min(size / _scale(row.unit, comp.other.value), MAX_GAP))
    score = sum(gaps) / len(gaps) if gaps else 0.0
    if rules.trend_counts(row.trend) and row.trend.start is not None and row.trend.end:
        start = moved_like_nederland(row.trend.start, row.nederland_span, row.unit)
        change = rules.gap(row.trend.end, start)
        score += 0.5 * min(change / _scale(row.unit, row.trend.start.value), MAX_GAP)
    return round(score, 9)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


#: What a margin is called in a sentence, per kind of interval.
_MARGIN = {
    SURVEY: "de marge van de enquête",
    ROUNDING: "de marge van de afronding",
    THRESHOLD: "de marge van de EBB",
}


def _where(c: Comparison, unit: str, own: Observation | None = None) -> str:
    value = _benchmark(c, unit, own)
    if c.name == PEERS:
        return f"bij vergelijkbare gemeenten (mediaan {value})"
    return f"in {c.name} ({value})"


def _benchmark(c: Comparison, unit: str, own: Observation | None) -> str:
    """Write a benchmark's value, with its own margin when that keeps a difference small.

    ``47,5%``, or ``47,5%; 95%-interval 46,5–48,6%`` (see
    :func:`~westerkwartier.reporting.formatting.fmt_other_margin`): for a difference within
    the margins, and for one gone at the same age structure (``own`` is then the moved figure).
    """
    value = fmt_benchmark(c.other.value, unit) if c.other else ""
    small = c.significant is False and c.basis not in (rules.SPREAD, rules.BALANCE)
    small = small or c.age_holds is False
    margin = fmt_other_margin(own, c.other, unit) if small else ""
    return f"{value}; {margin}" if margin else value


def _named(c: Comparison, unit: str, own: Observation | None = None) -> str:
    value = _benchmark(c, unit, own)
    if c.name == PEERS:
        return f"vergelijkbare gemeenten (mediaan {value})"
    return f"{c.name} ({value})"


def _basis(c: Comparison, row: ScoreRow) -> str | None:
    return c.basis or (SURVEY if row.survey and c.significant is not None else None)


def _word(c: Comparison, row: ScoreRow) -> str:
    if c.word == "gelijk":
        return word_for("even hoog als", row.unit)
    prefix = "significant " if _basis(c, row) == SURVEY and c.significant else ""
    return f"{prefix}{word_for(c.word, row.unit)} dan"


def _versus(row: ScoreRow) -> str:
    """``is hoger dan in de provincie Groningen (71,2%) en in Nederland (73,2%)``."""
    parts = [c for c in row.comparisons if c.word != "onbekend"]
    if not parts:
        return ""
    aged = [c for c in parts if c.age_holds is False]  # rule leeftijd: gone at the same ages
    parts = [c for c in parts if c.age_holds is not False]
    clear = [c for c in parts if c.counts or c.word == "gelijk"]
    loose = [c for c in parts if not (c.counts or c.word == "gelijk")]
    text = ""
    if clear:
        by_word: dict[str, list[Comparison]] = {}
        for c in clear:  # one clause per word, in the order the words first appear
            by_word.setdefault(c.word, []).append(c)
        groups = list(by_word.values())
        pieces = [
            f"{_word(g[0], row)} " + and_list([_where(c, row.unit) for c in g]) for g in groups
        ]
        text = "is " + ", maar ".join(pieces) + _age_holds(clear)
    if aged:
        clause = _age_gone(aged, row.unit)
        text = f"{text}; {clause}" if text else f"is {clause}"
    text = _small(row, [c for c in loose if c.basis == rules.SPREAD], text)
    text = _per_balance(row, [c for c in loose if c.basis == rules.BALANCE], text)
    loose = [c for c in loose if c.basis not in (rules.SPREAD, rules.BALANCE)]
    if loose:
        kinds = {_basis(c, row) for c in loose} - {None}
        kind = kinds.pop() if len(kinds) == 1 else None
        margin = _MARGIN.get(kind or "", "de marges")
        if text:
            names = and_list([_named(c, row.unit, row.own) for c in loose])
            if kind == SURVEY:
                text += f"; het verschil met {names} is niet significant"
            else:
                text += f"; het verschil met {names} valt binnen {margin}"
        else:
            names = and_list([_where(c, row.unit, row.own) for c in loose])
            if kind == SURVEY:
                text = f"verschilt niet significant van de waarde {names}"
            else:
                text = f"verschilt niet van de waarde {names}: het verschil valt binnen {margin}"
    return text


def _small(row: ScoreRow, small: Sequence[Comparison], text: str) -> str:
    """Add the differences that rule *klein* leaves uncounted to the sentence ``text``.

    ``is lager dan in Nederland (12,2%); het verschil met vergelijkbare gemeenten (mediaan
    11,1%) is klein``, or on its own ``verschilt weinig van de waarde in Nederland (45,8)``.
    """
    if not small:
        return text
    if text:
        return f"{text}; het verschil met {and_list([_named(c, row.unit) for c in small])} is klein"
    return f"verschilt weinig van de waarde {and_list([_where(c, row.unit) for c in small])}"


#: How a finding names the balance of a flow (rule *saldo*).
BALANCE_NAMES = {
    "migratiesaldo_buitenland_per_1000": "het buitenlands migratiesaldo",
    "binnenlands_migratiesaldo_per_1000": "het binnenlands verhuissaldo",
}


def _per_balance(row: ScoreRow, against: Sequence[Comparison], text: str) -> str:
    """Add the differences that rule *saldo* leaves uncounted to the sentence ``text``.

    ``is hoger dan in Nederland (18,8), maar het buitenlands migratiesaldo is lager dan
    daar``; after other clauses ``; hoger dan ...``, and ``; ook hoger dan ...`` after one
    that says ``hoger dan`` too.
    """
    groups: dict[tuple[str, str | None], list[Comparison]] = {}
    for c in against:
        groups.setdefault((c.word, c.balance), []).append(c)
    name = BALANCE_NAMES.get(rules.BALANCES.get(row.indicator, ""), "het saldo")
    for (word, balance), comps in groups.items():
        where = and_list([_where(c, row.unit) for c in comps])
        than = f"{word_for(word, row.unit)} dan"
        clause = f"{than} {where}, maar {name} is {balance} dan daar"
        if not text:
            text = f"is {clause}"
        else:  # "ook" only after a clause with the same word
            text = f"{text}; {'ook ' if f'{than} ' in text else ''}{clause}"
    return text


def _age_holds(clear: Sequence[Comparison]) -> str:
    """Say that the differences hold at the same age structure (rule *leeftijd*), if checked.

    ``, ook bij gelijke leeftijdsopbouw`` when every difference said holds so; when only some
    were checked: ``; het verschil met Nederland blijft ook bij gelijke leeftijdsopbouw``.
    """
    held = [c for c in clear if c.age_holds]
    if not held:
        return ""
    if len(held) == len(clear):
        return ", ook bij gelijke leeftijdsopbouw"
    names = and_list([c.name for c in held])
    return f"; het verschil met {names} blijft ook bij gelijke leeftijdsopbouw"


def _age_gone(aged: Sequence[Comparison], unit: str) -> str:
    """Say that differences are gone at the same age structure, with the figure they compare.

    ``lager dan in de provincie Groningen (34,3%) en in Nederland (33,0%), maar bij gelijke
    leeftijdsopbouw niet significant (dan 32,1%)``. Where a benchmark's value lies outside
    the moved figure's interval, the reader sees why only with the intervals: the moved
    figure's (``dan 32,1%; 95%-interval 30,2–34,0%``) and the benchmark's when that is what
    reaches it (:func:`~westerkwartier.reporting.formatting.fmt_other_margin`).
    """
    by_word: dict[str, list[tuple[Comparison, Observation, Observation]]] = {}
    for c in aged:
        if c.at_age is not None and c.other is not None:
            by_word.setdefault(c.word, []).append((c, c.at_age, c.other))
    clauses = []
    for word, group in by_word.items():
        where = [_where(c, unit, moved) for c, moved, _ in group]
        then = and_list(list(dict.fromkeys(fmt(m.value, unit) for _, m, _ in group)))
        if any(not (m.low <= o.value <= m.high) for _, m, o in group):
            intervals = list(dict.fromkeys(fmt_interval(m, unit) for _, m, _ in group))
            kind = "95%-interval" if len(intervals) == 1 else "95%-intervallen"
            then = f"{then}; {kind} {and_list(intervals)}"
        clauses.append(
            f"{word_for(word, unit)} dan {and_list(where)}, maar bij gelijke leeftijdsopbouw "
            f"niet significant (dan {then})"
        )
    return "; ".join(clauses)


def _trend_clause(row: ScoreRow) -> str:
    t = row.trend
    if t.start is None or t.end is None or t.word == "onbekend":
        return ""
    start = fmt(t.start.value, row.unit)
    since = row.year_text(t.start.year)
    if t.word == "stabiel":
        basis = t.basis or (SURVEY if row.survey else None)
        if basis == SURVEY:
            return f" Ten opzichte van {since} ({start}) is er geen significante verandering."
        if t.significant is False and basis:
            return (
                f" Ten opzichte van {since} ({start}) is er geen verandering die buiten "
                f"{_MARGIN.get(basis, 'de marge')} valt."
            )
        return f" Sinds {since} ({start}) is dat vrijwel gelijk gebleven."
    verb = word_for("gestegen" if t.word == "stijgt" else "gedaald", row.unit)
    return f" Sinds {since} ({start}) is dat {verb}{_like_nederland(row)}."


def _like_nederland(row: ScoreRow) -> str:
    """Say that Nederland moved the same way, if it did: ``, net als in Nederland (van ...)``.

    A change the whole country made reads differently from one of the municipality alone;
    Nederland's movement follows rule *ontwikkeling* too. Not for numbers of persons or
    dwellings (rule *schaal*: the country's total is no benchmark for them).
    """
    t, span = row.trend, row.nederland_span
    if span is None or t.start is None or t.end is None or rules.is_count(row.unit):
        return ""
    then, now = Observation(t.start.year, span[0]), Observation(t.end.year, span[1])
    if rules.movement(then, now, row.unit)[0] != t.word:
        return ""
    return (
        f", net als in Nederland (van {fmt_short(span[0], row.unit)} naar {fmt(span[1], row.unit)})"
    )


def finding_text(row: ScoreRow, subject: str | None = None, *, trend: bool = True) -> str:
    """Write the summary sentence of one scorecard row.

    The value comes with its year and, when it is wide enough to matter, its interval; each
    benchmark is named with its value, a difference within the margins is said to be so.

    Parameters
    ----------
    row : ScoreRow
        A row with a value.
    subject : str, optional
        How a sentence names the indicator (``de netto arbeidsparticipatie``); default
        ``<label>:``.
    trend : bool
        Add the sentence on the change over the years (default); without it the finding is
        one sentence (page 1 of a report).

    Examples
    --------
    >>> from westerkwartier.analysis.comparison import Comparison, Observation, ScoreRow, Trend
    >>> row = ScoreRow("netto_arbeidsparticipatie", "Netto arbeidsparticipatie", "s", "%",
    ...     "higher_is_better", False, Observation(2023, 74.2), None,
    ...     Comparison("de provincie Groningen", Observation(2023, 70.6), "hoger", None,
    ...                "gunstig"),
    ...     Comparison("Nederland", Observation(2023, 73.1), "hoger", None, "gunstig"),
    ...     Trend("onbekend"), "86088NED")
    >>> print(finding_text(row, "de netto arbeidsparticipatie"))
    De netto arbeidsparticipatie (74,2% in 2023) is hoger dan in de provincie Groningen (70,6%)
    en in Nederland (73,1%).
    """
    assert row.own is not None
    named = subject or row.label
    # "het binnenlands verhuissaldo per 1.000 inwoners (-2,8 in 2023)": the unit once
    said = unit_label(row.unit) in unit_label(named)
    value = fmt_short(row.own.value, row.unit) if said else fmt(row.own.value, row.unit)
    margin = fmt_margin(row.own, row.unit) if row.own.kind == ROUNDING else ""
    year = row.year_text(row.own.year)
    versus = _versus(row)
    if subject:
        extra = f"; {margin}" if margin else ""
        head = f"{_capital(subject)} ({value} in {year}{extra})"
        body = f"{head} {versus}." if versus else f"{head}."
    else:
        extra = f" ({margin})" if margin else ""
        head = f"{row.label}: {value} in {year}{extra}"
        body = f"{head}; {versus.removeprefix('is ')}." if versus else f"{head}."
    return body + (_trend_clause(row) if trend else "")


def findings(
    rows: Sequence[ScoreRow],
    *,
    subjects: Mapping[str, str] | None = None,
    extra: Sequence[Finding] = (),
    minimum: int = MIN_FINDINGS,
    maximum: int = MAX_FINDINGS,
    lead: Collection[str] = (),
    reference: int | None = None,
    families: Mapping[str, str] | None = None,
) -> list[Finding]:
    """Choose and write the findings of the summary, most important first.

    Only rows that pass the headline rule (:func:`westerkwartier.analysis.rules.headline`: a
    benchmark comparison or a change that counts, no context figure, a figure at most
    :data:`~westerkwartier.analysis.rules.MAX_AGE` years older than ``reference``) become
    findings.

    Parameters
    ----------
    rows : sequence of ScoreRow
        The report's scorecard rows.
    subjects : mapping, optional
        Indicator id -> how a sentence names it.
    extra : sequence of Finding
        Context findings (population, missing figures) used to reach ``minimum`` when too few
        indicators have something to say.
    minimum, maximum : int
        Bounds on the number of findings.
    lead : collection of str
        Indicators of the theme the report leads with (the talent report: retention). The
        strongest finding among them opens the summary when the data support one: it has a
        value and a comparison with a benchmark that counts.
    reference : int, optional
        The reference year of the run.
    families : mapping, optional
        Indicator id -> its catalogue family: indicators that measure the same thing in
        another way (:func:`westerkwartier.analysis.rules.one_per_family`).

    Returns
    -------
    list of Finding
        Findings with a verdict (``gunstig``, ``ongunstig``) before the others, each group
        sorted by importance (ties in report order), a supported lead finding first, a second
        finding of a family with the same verdict after all other messages; at most
        ``maximum``.
    """
    scored = [(importance(r), r) for r in rows if rules.headline(r, reference)[0]]
    scored = [(s, r) for s, r in scored if s > 0]
    scored.sort(key=lambda pair: rules.summary_order(pair[1].tone, pair[0], pair[1].order))
    first = next(
        (pair for pair in scored if pair[1].indicator in lead and _benchmarked(pair[1])), None
    )
    if first is not None:
        scored.remove(first)
        scored.insert(0, first)
    family = families or {}
    said = [(family[r.indicator], r.tone) if r.indicator in family else None for _, r in scored]
    scored = [scored[i] for i in rules.one_per_family(said)]
    out = [
        Finding(
            finding_text(r, (subjects or {}).get(r.indicator)),
            r.tone,
            s,
            r.indicator,
        )
        for s, r in scored[:maximum]
    ]
    for item in extra:
        if len(out) >= max(minimum, 0) and item.score <= 0:
            break
        if len(out) >= maximum:
            break
        out.append(item)
    return out


def _benchmarked(row: ScoreRow) -> bool:
    """Tell whether the row's value differs from a benchmark in a way that counts."""
    return any(c.counts for c in row.comparisons)


def missing_rows(rows: Iterable[ScoreRow]) -> list[ScoreRow]:
    """Return the rows without a value for the municipality, in report order."""
    return [r for r in rows if r.own is None]
