"""The findings at the top of a report: the most important facts in plain Dutch sentences.

:func:`findings` ranks the scorecard rows by :func:`importance` and writes 5-8 sentences, each
naming the value, its year and how it compares with the province, Nederland and its own past
(:func:`finding_text`). :func:`missing_rows` lists what a report cannot show and why.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from westerkwartier.analysis.comparison import (
    Comparison,
    ScoreRow,
)
from westerkwartier.reporting.formatting import fmt, fmt_short

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


def importance(row: ScoreRow) -> float:
    """Return how much a row matters for the summary (0 when it says nothing).

    The mean gap to the province and Nederland, scaled to the unit (percentage points against
    a binomial-like spread, other units relative), plus half the trend's size. Survey
    differences that are not significant count for a fifth; context figures for nothing.
    """
    if row.own is None or row.direction == "context":
        return 0.0
    gaps = []
    for comp in (row.province, row.nederland):
        if comp.other is None or comp.word == "onbekend":
            continue
        gap = abs(row.own.value - comp.other.value) / _scale(row.unit, comp.other.value)
        if row.survey and not comp.significant:
            gap *= 0.2
        gaps.append(min(gap, MAX_GAP))
    score = sum(gaps) / len(gaps) if gaps else 0.0
    if row.trend.word in ("stijgt", "daalt") and row.trend.start is not None:
        change = abs(row.trend.change or 0.0)
        score += 0.5 * min(change / _scale(row.unit, row.trend.start.value), MAX_GAP)
    return round(score, 9)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _versus(row: ScoreRow) -> str:
    """``is hoger dan in de provincie Groningen (71,2%) en in Nederland (73,2%)``."""
    parts = [c for c in (row.province, row.nederland) if c.word != "onbekend"]
    if not parts:
        return ""

    def where(c: Comparison) -> str:
        return f"in {c.name} ({fmt_short(c.other.value, row.unit) if c.other else ''})"

    def word(c: Comparison) -> str:
        if c.word == "gelijk":
            return "even hoog als"
        prefix = "significant " if c.significant else ""
        return f"{prefix}{c.word} dan"

    if row.survey:
        real = [c for c in parts if c.significant]
        loose = [c for c in parts if not c.significant]
        if not real:
            names = " en ".join(where(c) for c in loose)
            return f"verschilt niet significant van de waarde {names}"
        text = _joined(real, word, where)
        for c in loose:
            text += f"; het verschil met {c.name} ({fmt_short(c.other.value, row.unit)}) "
            text += "is niet significant" if c.other else ""
        return text
    return _joined(parts, word, where)


def _joined(parts: list[Comparison], word: Callable, where: Callable) -> str:
    if len(parts) == 2 and parts[0].word == parts[1].word:
        return f"is {word(parts[0])} {where(parts[0])} en {where(parts[1])}"
    text = f"is {word(parts[0])} {where(parts[0])}"
    for c in parts[1:]:
        text += f", maar {word(c)} {where(c)}"
    return text


def _trend_clause(row: ScoreRow) -> str:
    t = row.trend
    if t.start is None or t.end is None or t.word == "onbekend":
        return ""
    start = fmt(t.start.value, row.unit)
    if t.word == "stabiel":
        if row.survey:
            return (
                f" Ten opzichte van {t.start.year} ({start}) is er geen significante verandering."
            )
        return f" Sinds {t.start.year} ({start}) is dat vrijwel gelijk gebleven."
    verb = "gestegen" if t.word == "stijgt" else "gedaald"
    return f" Sinds {t.start.year} ({start}) is dat {verb}."


def finding_text(row: ScoreRow, subject: str | None = None) -> str:
    """Write the summary sentence of one scorecard row.

    Parameters
    ----------
    row : ScoreRow
        A row with a value.
    subject : str, optional
        How a sentence names the indicator (``de netto arbeidsparticipatie``); default
        ``<label>:``.

    Examples
    --------
    >>> row = ScoreRow("netto_arbeidsparticipatie", "Netto arbeidsparticipatie", "s", "%",
    ...     "higher_is_better", False, Observation(2023, 74.2), None,
    ...     Comparison("de provincie Groningen", Observation(2023, 70.6), "hoger", None,
    ...                "gunstig"),
    ...     Comparison("Nederland", Observation(2023, 73.1), "hoger", None, "gunstig"),
    ...     Trend("onbekend"), "86088NED")
    >>> finding_text(row, "de netto arbeidsparticipatie")
    'De netto arbeidsparticipatie (74,2% in 2023) is hoger dan in de provincie Groningen (70,6%) en in Nederland (73,1%).'
    """  # noqa: E501
    assert row.own is not None
    value = fmt(row.own.value, row.unit)
    versus = _versus(row)
    if subject:
        head = f"{_capital(subject)} ({value} in {row.own.year})"
        body = f"{head} {versus}." if versus else f"{head}."
    else:
        head = f"{row.label}: {value} in {row.own.year}"
        body = f"{head}; {versus.removeprefix('is ')}." if versus else f"{head}."
    return body + _trend_clause(row)


def findings(
    rows: Sequence[ScoreRow],
    *,
    subjects: Mapping[str, str] | None = None,
    extra: Sequence[Finding] = (),
    minimum: int = MIN_FINDINGS,
    maximum: int = MAX_FINDINGS,
    lead: Collection[str] = (),
) -> list[Finding]:
    """Choose and write the findings of the summary, most important first.

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
        value and a comparison with the province or Nederland.

    Returns
    -------
    list of Finding
        Sorted by importance (ties in report order), a supported lead finding first; at most
        ``maximum``.
    """
    scored = [(importance(r), r) for r in rows if r.own is not None and r.direction != "context"]
    scored = [(s, r) for s, r in scored if s > 0]
    scored.sort(key=lambda pair: (-pair[0], pair[1].order))
    first = next(
        (pair for pair in scored if pair[1].indicator in lead and _benchmarked(pair[1])), None
    )
    if first is not None:
        scored.remove(first)
        scored.insert(0, first)
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
    """Tell whether the row's value is compared with the province or Nederland."""
    return any(c.word != "onbekend" for c in (row.province, row.nederland))


def missing_rows(rows: Iterable[ScoreRow]) -> list[ScoreRow]:
    """Return the rows without a value for the municipality, in report order."""
    return [r for r in rows if r.own is None]
