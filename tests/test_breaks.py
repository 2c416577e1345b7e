"""Series breaks at boundary changes, province sums, rounding per operand, the lead finding and
the flows chart: the machinery behind the retention indicators, on tiny hand-made frames."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from westerkwartier.analysis.comparison import Comparison, Observation, ScoreRow, Trend
from westerkwartier.indicators.aggregates import add_region_sums
from westerkwartier.indicators.catalogue import Operand, parse_catalogue
from westerkwartier.indicators.compute import OperandData, compute
from westerkwartier.indicators.mergers import (
    boundary_breaks,
    break_series,
    load_mergers,
    rebuild_mergers,
)
from westerkwartier.reporting import figures
from westerkwartier.reporting.findings import findings

NAN = float("nan")


def obs(rows, source="T"):
    return pd.DataFrame(
        [
            {
                "region_code": r,
                "year": y,
                "value": v,
                "lower": NAN,
                "upper": NAN,
                "status": "definitief",
                "source_table": source,
                "note": None,
            }
            for r, y, v in rows
        ]
    )


def value(frame, region, year):
    hit = frame[(frame["region_code"] == region) & (frame["year"] == year)]
    assert len(hit) == 1, (region, year, len(hit))
    return hit.iloc[0]


# Groningen-like: GM0014 continues and absorbs Haren (GM0017) and Ten Boer (GM0009) in 2019;
# Westerkwartier-like: GM1969 is new from GM0015 and 12% of GM0053 (shares known).
DISSOLVED = pd.DataFrame(
    {
        "code": ["GM0017", "GM0009", "GM0015", "GM0053", "GM0113", "GM0200"],
        "dissolved_in": [2019, 2019, 2019, 2019, 1998, 2018],
        "successor_codes": [
            "GM0014",
            "GM0014",
            "GM1969",
            "GM1966;GM1969",
            "GM0014;GM0080",
            "GM1900;GM0080",
        ],
    }
)


def test_boundary_breaks_name_every_changed_municipality_with_its_last_change(tmp_path):
    empty = tmp_path / "shares.toml"
    empty.write_text("", encoding="utf-8")
    breaks = boundary_breaks(DISSOLVED, shares_path=empty)
    assert breaks == {
        "GM0014": 2019,
        "GM1969": 2019,
        "GM1966": 2019,
        "GM0080": 2018,
        "GM1900": 2018,
    }


def test_an_old_split_without_share_does_not_block_later_rebuilds(tmp_path):
    shares = tmp_path / "shares.toml"
    shares.write_text(
        "[share.GM1969.GM0053]\naddresses_moved = 739\ntotal_addresses = 6026\n", encoding="utf-8"
    )
    m = load_mergers(DISSOLVED, shares_path=shares)
    groningen = m[m["successor"] == "GM0014"].set_index("predecessor")["share"]
    assert groningen["GM0017"] == 1.0 and np.isnan(groningen["GM0113"])  # 1998: no share
    assert "GM1966" not in set(m["successor"])  # its latest change is a split without share
    assert "GM1900" not in set(m["successor"])
    # a year after the 1998 split needs only the 2019 predecessors ...
    o = obs([("GM0017", 2018, 10.0), ("GM0009", 2018, 5.0), ("GM0017", 1997, 1.0)])
    rebuilt = rebuild_mergers(o, m, Operand("x", ("T",), additive=True))
    assert value(rebuilt, "GM0014", 2018)["value"] == 15.0
    # ... a year before it would also need GM0113's part, which has no share
    assert rebuilt[(rebuilt["region_code"] == "GM0014") & (rebuilt["year"] == 1997)].empty


def _groningen():
    m = pd.DataFrame(
        {
            "successor": ["GM0014", "GM0014"],
            "predecessor": ["GM0017", "GM0009"],
            "share": [1.0, 1.0],
            "start_year": [2019, 2019],
        }
    )
    o = obs(
        [
            ("GM0014", 2018, 100.0),  # the old, smaller Groningen
            ("GM0017", 2018, 30.0),
            ("GM0009", 2018, 10.0),
            ("GM0014", 2019, 150.0),
            ("GM1900", 2017, 7.0),  # before its 2018 split without share
            ("GM1900", 2018, 8.0),
        ]
    )
    return m, o


def test_break_series_rebuilds_a_continuing_code_with_its_own_old_figure():
    m, o = _groningen()
    breaks = {"GM0014": 2019, "GM1900": 2018}
    out, existed = break_series(o, breaks, m, Operand("x", ("T",), additive=True), {})
    row = value(out, "GM0014", 2018)
    assert row["value"] == 140.0 and row["status"] == "schatting"  # 100 + 30 + 10
    assert value(out, "GM0014", 2019)["value"] == 150.0
    assert out[(out["region_code"] == "GM1900") & (out["year"] == 2017)].empty
    assert value(out, "GM1900", 2018)["value"] == 8.0
    assert existed == {"GM0014", "GM1900"}
    assert not out["region_code"].str.endswith("~oud").any()


def test_break_series_drops_gross_flows_before_the_change():
    m, o = _groningen()
    out, _ = break_series(o, {"GM0014": 2019}, m, Operand("x", ("T",)), {})
    assert out[(out["region_code"] == "GM0014") & (out["year"] == 2018)].empty


def test_break_series_keeps_a_table_already_on_the_new_division():
    m, o = _groningen()
    out, _ = break_series(o, {"GM0014": 2019}, m, Operand("x", ("T",)), {"T": 2024})
    assert value(out, "GM0014", 2018)["value"] == 100.0  # the table is on the 2024 division


def test_break_series_rebuilds_rates_through_their_weights():
    m, o = _groningen()
    rate = o.assign(value=[10.0, 20.0, 40.0, 11.0, 1.0, 1.0])
    base = o.assign(value=[100.0, 50.0, 50.0, 200.0, 1.0, 1.0])
    out, _ = break_series(rate, {"GM0014": 2019}, m, Operand("r", ("T",), weight="b"), {}, base)
    # (10 x 100 + 20 x 50 + 40 x 50) / 200
    assert value(out, "GM0014", 2018)["value"] == pytest.approx(20.0)


# -- provinces as sums --------------------------------------------------------------------------
DIVISIONS = pd.DataFrame(
    {
        "year": [2020, 2020, 2020, 2024, 2024],
        "code": ["GM0001", "GM0002", "GM0003", "GM0001", "GM0004"],
        "province_code": ["PV20", "PV20", "PV21", "PV20", "PV20"],
    }
)


def test_province_is_summed_only_when_every_municipality_has_a_figure():
    o = obs([("GM0001", 2020, 10.0), ("GM0002", 2020, 5.0), ("GM0003", 2020, NAN)])
    o.loc[1, "status"] = "voorlopig"
    out = add_region_sums(o, DIVISIONS)
    pv = value(out, "PV20", 2020)
    assert pv["value"] == 15.0 and pv["note"] == "som van de gemeenten"
    assert pv["status"] == "voorlopig"
    assert out[out["region_code"] == "PV21"].empty  # GM0003 has no figure
    assert out[out["region_code"] == "NL01"].empty  # nor Nederland


def test_province_published_by_cbs_is_never_replaced():
    o = obs([("GM0001", 2020, 10.0), ("GM0002", 2020, 5.0), ("PV20", 2020, NAN)])
    out = add_region_sums(o, DIVISIONS)
    assert np.isnan(value(out, "PV20", 2020)["value"])


def test_province_sum_uses_the_tables_own_division_and_skips_unknown_years():
    o = obs([("GM0001", 2019, 1.0), ("GM0004", 2019, 2.0), ("GM0001", 2018, 3.0)])
    out = add_region_sums(o, DIVISIONS, division=2024)
    assert value(out, "PV20", 2019)["value"] == 3.0
    assert value(out, "NL01", 2019)["value"] == 3.0
    assert add_region_sums(o, DIVISIONS).equals(o)  # 2018, 2019: no division known


# -- rounding per operand -----------------------------------------------------------------------
def test_a_ratio_is_withheld_when_a_count_is_below_ten_times_its_rounding():
    raw = {
        "tables": {"T": {"title": "t", "offline": True}},
        "indicator": [
            {
                "id": "x",
                "label_nl": "x",
                "label_en": "x",
                "theme": "Vestigingsklimaat",
                "subtheme": "s",
                "unit": "per 1 000 inwoners",
                "direction": "higher_is_better",
                "formula": "1000 * banen / bevolking",
                "years": "2023",
                "caveats": "c",
                "description": "d",
                "operands": {
                    "banen": {
                        "tables": ["T"], "topic": "B", "cbs_unit": "x 1 000", "rounded_to": 100
                    },
                    "bevolking": {"tables": ["T"], "topic": "P", "cbs_unit": "aantal"},
                },
            }
        ],
    }  # fmt: skip
    ind = parse_catalogue(raw)["x"]
    data = {
        "banen": OperandData(obs([("GM1", 2023, 999.0), ("GM2", 2023, 1000.0)])),
        "bevolking": OperandData(obs([("GM1", 2023, 2000.0), ("GM2", 2023, 2000.0)])),
    }
    out = compute(ind, data, ["GM1", "GM2"]).set_index("region_code")
    assert np.isnan(out.loc["GM1", "value"])
    assert out.loc["GM1", "missing_reason"].endswith("af op honderdtallen")
    assert out.loc["GM2", "value"] == 500.0


# -- the lead finding ---------------------------------------------------------------------------
def _row(indicator, own, prov, nl, order, direction="higher_is_better"):
    def comp(name, other):
        word = "hoger" if own > other else "lager"
        good = (word == "hoger") == (direction == "higher_is_better")
        return Comparison(
            name, Observation(2023, other), word, None, "gunstig" if good else "ongunstig"
        )

    return ScoreRow(
        indicator, indicator, "s", "%", direction, False, Observation(2023, own), None,
        comp("de provincie", prov), comp("Nederland", nl), Trend("onbekend"), "T", order,
    )  # fmt: skip


def test_a_supported_retention_finding_opens_the_summary():
    rows = [
        _row("werkloosheid", 2.0, 6.0, 6.0, 0, "lower_is_better"),
        _row("binnenlands_migratiesaldo_per_1000", 51.0, 50.0, 50.0, 1),
    ]
    plain = findings(rows, minimum=0)
    assert [f.indicator for f in plain] == ["werkloosheid", "binnenlands_migratiesaldo_per_1000"]
    led = findings(rows, minimum=0, lead={"binnenlands_migratiesaldo_per_1000"})
    assert [f.indicator for f in led] == ["binnenlands_migratiesaldo_per_1000", "werkloosheid"]
    # without a benchmark comparison the data do not support a lead finding
    lone = ScoreRow(
        "binnenlands_migratiesaldo_per_1000", "x", "s", "%", "higher_is_better", False,
        Observation(2023, 5.0), None,
        Comparison("de provincie", None, "onbekend", None, "neutraal"),
        Comparison("Nederland", None, "onbekend", None, "neutraal"),
        Trend("stijgt", Observation(2018, 1.0), Observation(2023, 5.0), None, "gunstig"), "T", 1,
    )  # fmt: skip
    out = findings([rows[0], lone], minimum=0, lead={"binnenlands_migratiesaldo_per_1000"})
    assert out[0].indicator == "werkloosheid"


# -- the flows chart ----------------------------------------------------------------------------
def _flows_panel():
    rows = []
    for ind, base in zip(figures.FLOW_INDICATORS, (40.0, 35.0), strict=True):
        for year in (2018, 2019, 2020):
            own = NAN if year < 2019 else base + year - 2019
            reason = "gemeente bestond nog niet (ontstaan in 2019)" if year < 2019 else None
            rows.append(("GM1969", year, ind, own, reason, "definitief"))
            rows.append(("PV20", year, ind, base + 10, None, "definitief"))
            rows.append(("NL01", year, ind, base + 5, None, "definitief"))
            for i, peer in enumerate(("GM0001", "GM0002", "GM0003")):
                rows.append((peer, year, ind, base - i, None, "definitief"))
    frame = pd.DataFrame(
        rows, columns=["region_code", "year", "indicator", "value", "missing_reason", "status"]
    )
    frame["source_table"] = "37259eng"
    return frame


def test_flows_data_and_the_break_year():
    p = _flows_panel()
    labels = {"GM1969": "Westerkwartier", "PV20": "provincie Groningen", "NL01": "Nederland"}
    wide = figures.flows_data(p, figures.FLOW_INDICATORS[0], labels, ["GM0001", "GM0002", "GM0003"])
    assert list(wide.columns) == [*labels.values(), "mediaan van 3 vergelijkbare gemeenten"]
    assert wide.loc[2020, "mediaan van 3 vergelijkbare gemeenten"] == 39.0
    assert np.isnan(wide.loc[2018, "Westerkwartier"])
    too_few = figures.flows_data(p, figures.FLOW_INDICATORS[0], labels, ["GM0001", "GM0002"])
    assert too_few["mediaan van 2 vergelijkbare gemeenten"].isna().all()
    assert figures.boundary_year(p, figures.FLOW_INDICATORS[0], "GM1969") == 2019
    assert figures.boundary_year(p, figures.FLOW_INDICATORS[0], "PV20") is None


def test_flows_chart_draws_both_flows_with_the_break_and_alt_text():
    p = _flows_panel()
    labels = {"GM1969": "Westerkwartier", "PV20": "provincie Groningen", "NL01": "Nederland"}
    chart = figures.flows_chart(
        p, focus="GM1969", labels=labels, peers=["GM0001", "GM0002", "GM0003"]
    )
    axes = [a for a in chart.figure.axes if a.get_lines()]
    assert len(axes) == 2
    assert all(len(a.get_lines()) == 5 for a in axes)  # 4 series + the break line
    assert "Westerkwartier pas vanaf 2019" in chart.alt and "Bron: CBS, tabel 37259eng" in chart.alt
    assert "van 40,0 in 2019 naar 41,0 in 2020" in chart.alt
    empty = p.assign(value=np.where(p["region_code"] == "GM1969", NAN, p["value"]))
    assert figures.flows_chart(empty, focus="GM1969", labels=labels) is None


def test_flows_alt_text_of_a_municipality_formed_in_the_last_year():
    """Voorne aan Zee (2023) has one point: the alt text gives it, not "van 37,2 ... naar 37,2"."""
    p = _flows_panel()
    late = (p["region_code"] == "GM1969") & (p["year"] < 2020)
    p = p.assign(value=np.where(late, NAN, p["value"]))
    labels = {"GM1969": "Westerkwartier", "PV20": "provincie Groningen", "NL01": "Nederland"}
    chart = figures.flows_chart(p, focus="GM1969", labels=labels)
    assert "Vestiging uit andere gemeenten: Westerkwartier 41,0 in 2020; provincie" in chart.alt
    assert "Vertrek naar andere gemeenten: Westerkwartier 36,0 in 2020; provincie" in chart.alt
    assert "Westerkwartier van" not in chart.alt
    assert "provincie Groningen van 50,0 in 2018 naar 50,0 in 2020" in chart.alt


def _peers_panel(merged_from: int):
    """Flows of GM1969 (2018-2023) and four peers; GM0004 exists only from ``merged_from``."""
    rows = []
    values = {"GM0001": 50.0, "GM0002": 48.0, "GM0003": 46.0, "GM0004": 20.0}
    for year in range(2018, 2024):
        rows.append(("GM1969", year, figures.FLOW_INDICATORS[1], 40.0, None, "definitief"))
        for peer, value in values.items():
            late = peer == "GM0004" and year < merged_from
            reason = f"gemeente bestond nog niet (ontstaan in {merged_from})" if late else None
            rows.append((peer, year, figures.FLOW_INDICATORS[1], NAN if late else value, reason,
                         "definitief"))  # fmt: skip
    return pd.DataFrame(
        rows, columns=["region_code", "year", "indicator", "value", "missing_reason", "status"]
    )


def test_the_peers_median_counts_the_same_municipalities_every_year():
    """A peer formed by a merger in 2022 would pull the median from 48 to 47 in that year.

    With three peers that cover the municipality's years, the median is theirs in every year;
    the late peer is left out and named in the note. With only the late peer making a group of
    three, the line starts in its first year instead.
    """
    from westerkwartier.reporting.sections import retention_note

    ind = figures.FLOW_INDICATORS[1]
    peers = ["GM0001", "GM0002", "GM0003", "GM0004"]
    p = _peers_panel(2022)
    wide = figures.flows_data(p, ind, {"GM1969": "Westerkwartier"}, peers)
    assert list(wide.columns) == ["Westerkwartier", "mediaan van 3 vergelijkbare gemeenten"]
    assert wide["mediaan van 3 vergelijkbare gemeenten"].tolist() == [48.0] * 6  # no jump
    members, years = figures.peer_median(p, "GM1969", peers, [ind])
    assert members == ["GM0001", "GM0002", "GM0003"] and years == list(range(2018, 2024))

    three = ["GM0001", "GM0002", "GM0004"]  # without the late peer fewer than MIN_PEERS remain
    wide = figures.flows_data(p, ind, {"GM1969": "Westerkwartier"}, three)
    median = wide["mediaan van 3 vergelijkbare gemeenten"]
    assert median.dropna().index.tolist() == [2022, 2023] and median.dropna().eq(48.0).all()

    data = SimpleNamespace(region=SimpleNamespace(name="Westerkwartier"))
    codes = {"GM0001": "A", "GM0002": "B", "GM0003": "C", "GM0004": "D"}
    registry = SimpleNamespace(resolve=lambda c: SimpleNamespace(name=codes[c]))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("westerkwartier.sources.regions.load_registry", lambda: registry)
        left = str(retention_note(data, peers, (members, years), 2018))
        later = str(
            retention_note(data, three, figures.peer_median(p, "GM1969", three, [ind]), 2018)
        )
        none = str(retention_note(data, peers, ([], []), 2018))
    assert "mediaan van de statistisch vergelijkbare gemeenten (zie" in left
    assert "): A, B, C. Ze telt elk jaar dezelfde gemeenten" in left
    assert ": D telt niet mee, haar cijfers beginnen later" in left and "begint in" not in left
    assert "): A, B, D. Ze telt elk jaar dezelfde" in later and "ze begint in 2022, het" in later
    assert "ontbreekt: in geen enkel jaar" in none and "De grijze lijn is" not in none


def test_the_peers_median_keeps_the_longest_stretch_with_enough_steady_peers():
    """Two peers cover all years, one starts in 2020, one in 2022 (like Apeldoorn's peers).

    All four together would give a line of two years; the three that cover 2020-2023 give one
    of four years, always the same three.
    """
    ind = figures.FLOW_INDICATORS[1]
    starts = {"GM0001": 2018, "GM0002": 2018, "GM0003": 2020, "GM0004": 2022}
    rows = [("GM1969", y, ind, 40.0) for y in range(2018, 2024)]
    rows += [
        (c, y, ind, 30.0 + i) for i, (c, s) in enumerate(starts.items()) for y in range(s, 2024)
    ]
    p = pd.DataFrame(rows, columns=["region_code", "year", "indicator", "value"])
    members, years = figures.peer_median(p, "GM1969", list(starts), [ind])
    assert members == ["GM0001", "GM0002", "GM0003"] and years == [2020, 2021, 2022, 2023]
    wide = figures.flows_data(p, ind, {"GM1969": "W"}, list(starts))
    assert wide["mediaan van 3 vergelijkbare gemeenten"].dropna().eq(31.0).all()


def test_rebuilt_years_are_those_before_the_own_figures():
    p = pd.DataFrame(
        {
            "indicator": "x",
            "region_code": "GM1969",
            "year": [2017, 2018, 2019, 2030],
            "value": [1.0, 2.0, 3.0, 4.0],
            "status": ["schatting", "schatting", "definitief", "schatting"],
        }
    )
    assert figures.rebuilt_years(p, "x", "GM1969") == [2017, 2018]


def test_rebuilt_years_of_a_change_stop_at_the_merger():
    """Growth of jobs in Voorne aan Zee (formed 2023): every value is an estimate.

    2011-2022 compare two years of its predecessors; 2023 compares its own December 2023 with
    their sum of 2022. The grey band is for the first kind only; before, there was none.
    """
    years = list(range(2011, 2024))
    p = pd.DataFrame(
        {
            "indicator": "banengroei",
            "region_code": "GM1992",
            "year": years,
            "value": 1.0,
            "status": "schatting",
        }
    )
    assert figures.rebuilt_years(p, "banengroei", "GM1992") == []
    start = figures.boundary_start("GM1992")
    assert start == 2023
    assert figures.rebuilt_years(p, "banengroei", "GM1992", start) == years[:-1]


def test_a_merged_municipalitys_growth_chart_shows_the_rebuilt_years(monkeypatch):
    """The chart of Voorne aan Zee's growth of jobs says which years are its predecessors'."""
    from westerkwartier import settings
    from westerkwartier.reporting.report_data import load_report_data

    monkeypatch.setattr(settings, "offline", True)
    data = load_report_data("aantrekkelijkheid", "Voorne aan Zee", peildatum="2026-11-27")
    chart = figures.indicator_trend(data, "banengroei")
    assert chart is not None
    assert "Voorne aan Zee 2011 tot en met 2022: opgebouwd uit de gemeenten" in chart.alt
    (band,) = [
        p for p in chart.ax.patches if p.get_facecolor() == pytest.approx((14 / 15,) * 3 + (1,))
    ]
    assert band.get_x() == pytest.approx(2010.5)
    assert band.get_x() + band.get_width() == pytest.approx(2022.5)


# -- every municipality -------------------------------------------------------------------------
#: A year-on-year change of the population larger than this (%) needs a recorded boundary change.
JUMP = 10.0


def _unexplained_jumps(p, breaks, changes):
    """Municipalities whose population jumps by more than JUMP% without a boundary change."""
    gm = p[p["level"] == "gemeente"].sort_values(["region_code", "year"])
    prev = gm.groupby("region_code")["value"].shift()
    jump = 100 * (gm["value"] / prev - 1)
    out = []
    for code, year, size in zip(gm["region_code"], gm["year"], jump, strict=True):
        if np.isnan(size) or abs(size) <= JUMP:
            continue
        if year in changes.get(code, set()):
            continue
        out.append((code, int(year), round(float(size), 1)))
    return out


@pytest.mark.mirror
def test_no_population_jump_in_any_municipality_without_a_boundary_change(tmp_path):
    """All 342 municipalities: the series are on current boundaries, so no merger shows up."""
    from westerkwartier import settings
    from westerkwartier.indicators.catalogue import CATALOGUE_FILE
    from westerkwartier.indicators.panel import panel
    from westerkwartier.sources.regions import load_registry

    registry = load_registry()
    dissolved = registry.dissolved()
    rows = dissolved.dropna(subset=["dissolved_in", "successor_codes"])
    changes: dict[str, set[int]] = {}
    before: dict[str, set[str]] = {}
    for pred, year, successors in zip(
        rows["code"], rows["dissolved_in"], rows["successor_codes"], strict=True
    ):
        for code in str(successors).split(";"):
            changes.setdefault(code, set()).add(int(year))
            before.setdefault(code, set()).add(str(pred))

    def chain(code, seen=()):  # a change of a predecessor is a change of the area too
        years = set(changes.get(code, set()))
        for pred in before.get(code, set()) - set(seen):
            years |= chain(pred, (*seen, code))
        return years

    changes = {code: chain(code) for code in list(changes)}
    old = settings.offline
    settings.offline = True
    try:
        p = panel(indicators=["inwoners"])
        assert p.loc[p["level"] == "gemeente", "region_code"].nunique() == 342
        # Groningen grew by Haren and Ten Boer in 2019: 2018 is rebuilt, not the old area
        gr = p[(p["region_code"] == "GM0014") & (p["year"].isin([2018, 2019]))].set_index("year")
        assert gr.loc[2018, "status"] == "schatting"
        assert abs(gr.loc[2019, "value"] / gr.loc[2018, "value"] - 1) < 0.02
        assert _unexplained_jumps(p, boundary_breaks(dissolved), {}) == []
        # the check trips on the old behaviour: the old areas' figures kept as CBS gives them
        text = CATALOGUE_FILE.read_text(encoding="utf-8").replace(
            'id = "inwoners"\n', 'id = "inwoners"\nseries_break = "none"\n', 1
        )
        old_style = tmp_path / "indicators.toml"
        old_style.write_text(text, encoding="utf-8")
        q = panel(indicators=["inwoners"], catalogue_path=old_style)
    finally:
        settings.offline = old
    jumps = _unexplained_jumps(q, boundary_breaks(dissolved), {})
    assert ("GM0014", 2019, 14.0) in jumps
    # ... and every such jump is at a recorded boundary change of that municipality
    assert _unexplained_jumps(q, boundary_breaks(dissolved), changes) == []


@pytest.mark.parametrize(
    ("code", "left_out"),
    [("GM1992", []), ("GM0599", ["GM0363"]), ("GM1969", [])],  # Voorne aan Zee, Rotterdam
)
def test_the_peers_median_of_real_reports_has_one_group_in_every_year(monkeypatch, code, left_out):
    """On the snapshot: every year of the grey line is the median of the same peers.

    Voorne aan Zee's peers include Maashorst (formed 2022) and Hoeksche Waard (2019): the line
    used to fall from 40 to 29 departures per 1.000 in 2022, when Maashorst joined the median.
    Rotterdam's line leaves out Amsterdam, whose flows start with Weesp in 2022.
    """
    from westerkwartier import settings
    from westerkwartier.reporting.report_data import load_report_data
    from westerkwartier.reporting.sections import retention_panel, retention_peers

    monkeypatch.setattr(settings, "offline", True)
    data = load_report_data("talent", code, peildatum="2026-11-27")
    peers = retention_peers(data)
    p = retention_panel(data, peers)
    members, years = figures.peer_median(p, code, peers)
    assert len(members) >= figures.MIN_PEERS and set(left_out) <= set(peers) - set(members)
    for ind in figures.FLOW_INDICATORS:
        wide = figures.flows_data(p, ind, {code: data.region.name}, peers)
        drawn = wide.iloc[:, -1].dropna()
        assert wide.columns[-1] == figures.peer_label(len(members))
        values = p[(p["indicator"] == ind) & p["region_code"].isin(members)]
        group = values.pivot_table(index="year", columns="region_code", values="value")
        assert group.loc[drawn.index].notna().all().all()  # every member, every year drawn
        assert np.allclose(drawn, group.loc[drawn.index].median(axis=1))
        assert set(drawn.index) <= set(years)
