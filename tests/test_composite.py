"""Tests of westerkwartier.composite: hand-computed toy, missing-data rule, Monte Carlo."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from westerkwartier.analysis import composite as c
from westerkwartier.errors import InputError

S = math.sqrt(1.5)  # z-score of the extremes of three equally spaced values (population sd)


def toy_spec(**over) -> c.IndexSpec:
    raw = {
        "defaults": {"reference_year": 2020, "max_age": 0, **over},
        "index": {
            "toy": {
                "label": "Toyindex",
                "sub": [
                    {
                        "id": "s1",
                        "label": "Eerste",
                        "weight": 1.0,
                        "indicator": [
                            {"id": "x1", "weight": 1.0, "direction": "higher_is_better"},
                            {"id": "x2", "weight": 1.0, "direction": "lower_is_better"},
                        ],
                    },
                    {
                        "id": "s2",
                        "label": "Tweede",
                        "weight": 1.0,
                        "indicator": [{"id": "x3", "weight": 1.0, "direction": "higher_is_better"}],
                    },
                ],
            }
        },
    }
    return c.parse_indices(raw, catalogue={})["toy"]


TOY = {
    "GM0001": ("A", "gemeente", {"x1": 1, "x2": 3, "x3": 2}),
    "GM0002": ("B", "gemeente", {"x1": 2, "x2": 2, "x3": 4}),
    "GM0003": ("C", "gemeente", {"x1": 3, "x2": 1, "x3": 0}),
    "PV01": ("P", "provincie", {"x1": 2, "x2": 2, "x3": 2}),
}


def toy_panel(regions=TOY, year: int = 2020, extra: list | None = None) -> pd.DataFrame:
    rows = [
        {
            "region_code": code,
            "region_name": name,
            "level": level,
            "year": year,
            "indicator": ind,
            "value": float(v) if v is not None else np.nan,
        }
        for code, (name, level, vals) in regions.items()
        for ind, v in vals.items()
    ]
    return pd.DataFrame(rows + (extra or []))


def test_toy_zscore_scores_and_ranks_by_hand():
    out = c.scores(toy_spec(), 2020, panel=toy_panel()).set_index("region_code")
    # A: s1 = (-S + -S)/2 = -S, s2 = 0  -> -S/2 ; B: (0 + S)/2 ; C: (S - S)/2 = 0
    assert out.loc["GM0001", "score"] == pytest.approx(-S / 2)
    assert out.loc["GM0002", "score"] == pytest.approx(S / 2)
    assert out.loc["GM0003", "score"] == pytest.approx(0.0, abs=1e-12)
    assert out.loc[["GM0001", "GM0002", "GM0003"], "rank"].tolist() == [3, 1, 2]
    assert out.loc["GM0001", "score_s1"] == pytest.approx(-S)
    # the province is scored on the municipal reference distribution, but not ranked
    assert out.loc["PV01", "score"] == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(out.loc["PV01", "rank"])


def test_toy_minmax_and_geometric_by_hand():
    spec = toy_spec()
    mm = c.scores(spec, 2020, panel=toy_panel(), normalisation="minmax").set_index("region_code")
    assert mm.loc[["GM0001", "GM0002", "GM0003"], "score"].tolist() == pytest.approx(
        [0.25, 0.75, 0.5]
    )
    geo = c.scores(spec, 2020, panel=toy_panel(), normalisation="minmax", aggregation="geometric")
    geo = geo.set_index("region_code")
    eps = spec.epsilon
    # B: s1 = sqrt(0.5' * 0.5') with 0.5' = eps + (1-eps)*0.5, s2 = 1 -> index sqrt(s1 * 1)
    half = eps + (1 - eps) * 0.5
    assert geo.loc["GM0002", "score"] == pytest.approx(math.sqrt(half))
    # C: x3 = 0 -> eps, s1 = 1: index sqrt(eps) (small, but not zero)
    assert geo.loc["GM0003", "score"] == pytest.approx(math.sqrt(eps))


def test_toy_rank_normalisation_by_hand():
    out = c.scores(toy_spec(), 2020, panel=toy_panel(), normalisation="rank")
    out = out.set_index("region_code")
    # x1 percentiles 1/6, 3/6, 5/6; B: s1 = 3/6, s2 = 5/6 -> 2/3
    assert out.loc["GM0002", "score"] == pytest.approx((0.5 + 5 / 6) / 2)
    assert out.loc["PV01", "score"] == pytest.approx((0.5 + 0.5) / 2)


def test_fixed_reference_year_makes_growth_visible():
    later = {k: (n, lvl, {i: v + 1 for i, v in vals.items()}) for k, (n, lvl, vals) in TOY.items()}
    panel = pd.concat([toy_panel(), toy_panel(later, 2021)])
    out = c.scores(toy_spec(), [2020, 2021], panel=panel, normalisation="minmax")
    a = out[out["region_code"] == "GM0001"].set_index("year")["score"]
    # x1 +1 -> +0.5, x2 +1 (lower is better) -> -0.5, x3 +1 -> +0.25: index +0.125
    assert a[2021] - a[2020] == pytest.approx(0.125)


def test_missing_data_rule_renormalises_and_refuses():
    regions = dict(TOY)
    regions["GM0004"] = ("D", "gemeente", {"x1": None, "x2": 2, "x3": 2})
    regions["GM0005"] = ("E", "gemeente", {"x1": None, "x2": None, "x3": 2})
    out = c.scores(toy_spec(), 2020, panel=toy_panel(regions), normalisation="minmax")
    out = out.set_index("region_code")
    # D: reference x2 values (3, 2, 1, 2, -) -> x2 = 2 gives 0.5; x3 range 0..4 -> 0.5
    assert out.loc["GM0004", "score_s1"] == pytest.approx(0.5)
    assert out.loc["GM0004", "score"] == pytest.approx(0.5)
    assert np.isnan(out.loc["GM0005", "score"])
    assert "Eerste: 0% van het gewicht" in out.loc["GM0005", "reason"]
    assert out.loc["GM0001", "n_ranked"] == 4


def test_indicator_absent_for_everyone_is_dropped_and_reported():
    regions = {k: (n, lvl, {**vals, "x1": None}) for k, (n, lvl, vals) in TOY.items()}
    inp = c.index_input(toy_spec(), 2020, toy_panel(regions))
    assert inp.indicators == ["x2", "x3"]
    assert "x1" in inp.dropped
    assert inp.published_share == pytest.approx(0.75)


def test_ranks_ties_and_nan():
    got = c._ranks(np.array([[3.0, 1.0, 3.0, np.nan, 2.0], [0.0, 1.0, 2.0, 3.0, 4.0]]))
    np.testing.assert_array_equal(got[0], [1, 4, 1, np.nan, 3])
    np.testing.assert_array_equal(got[1], [5, 4, 3, 2, 1])


def test_unknown_choice_and_context_indicator_are_refused():
    with pytest.raises(InputError, match="normalisatie"):
        toy_spec(normalisation="log")
    raw = {
        "defaults": {"reference_year": 2020},
        "index": {"x": {"sub": [{"id": "s", "indicator": [{"id": "woz_waarde"}]}]}},
    }
    with pytest.raises(InputError, match="richting"):
        c.parse_indices(raw)


# -- Monte Carlo ----------------------------------------------------------------------------------
def random_input(seed: int = 1, n: int = 40, k: int = 6) -> c.IndexInput:
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(n, k))
    values[rng.random((n, k)) < 0.05] = np.nan
    spec = toy_spec()
    group = np.array([0, 0, 0, 1, 1, 1][:k])
    return c.IndexInput(
        spec=spec,
        year=2020,
        codes=np.array([f"GM{i:04d}" for i in range(n)]),
        names=np.array([f"G{i}" for i in range(n)]),
        bench_codes=np.array(["PV01"]),
        bench_names=np.array(["P"]),
        bench_levels=np.array(["provincie"]),
        indicators=[f"i{j}" for j in range(k)],
        group=group,
        sign=np.ones(k),
        weights=np.full(k, 1 / 3),
        sub_weights=np.array([0.5, 0.5]),
        values=values,
        bench_values=np.zeros((1, k)),
        reference=values,
        dropped={},
    )


def test_monte_carlo_is_seeded():
    inp = random_input()
    a = c.monte_carlo(None, inputs=inp, draws=200, seed=7)
    b = c.monte_carlo(None, inputs=inp, draws=200, seed=7)
    d = c.monte_carlo(None, inputs=inp, draws=200, seed=8)
    np.testing.assert_array_equal(a.scores, b.scores)
    np.testing.assert_array_equal(a.ranks, b.ranks)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert not np.array_equal(a.ranks, d.ranks)
    assert a.scores.shape == (200, len(a.codes))
    assert set(np.unique(a.choice)) == set(range(len(a.choices)))


def test_monte_carlo_draws_match_direct_aggregation():
    inp = random_input()
    mc = c.monte_carlo(None, inputs=inp, draws=50, seed=3)
    d = 17
    norm_m, agg_m = mc.choices[mc.choice[d]]
    x = np.vstack([inp.values, inp.bench_values])
    _, sub_ok, _, ok = c.eligibility(~np.isnan(x), inp.group, inp.weights, inp.sub_weights, 0.5, 1)
    norm = c._normalised(inp, norm_m, agg_m, x)
    direct, _ = c.aggregate(norm, inp.group, mc.weights[d], mc.sub_weights[d], sub_ok, ok, agg_m)
    keep = np.flatnonzero(ok)
    np.testing.assert_allclose(mc.scores[d], direct[0][keep[keep < len(inp.codes)]])
    np.testing.assert_allclose(mc.bench_scores[d], direct[0][keep[keep >= len(inp.codes)]])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), conc=st.floats(1.0, 200.0))
def test_drawn_weights_sum_to_one(seed, conc):
    rng = np.random.default_rng(seed)
    group = np.array([0, 0, 1, 1, 1, 2])
    w, v = c.draw_weights(rng, group, np.array([1, 2, 1, 1, 1, 1.0]), np.ones(3) / 3, conc, 30)
    for s in range(3):
        np.testing.assert_allclose(w[:, group == s].sum(axis=1), 1.0)
    np.testing.assert_allclose(v.sum(axis=1), 1.0)
    assert (w >= 0).all() and (v >= 0).all()


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_rank_interval_contains_median(seed):
    mc = c.monte_carlo(None, inputs=random_input(seed), draws=100, seed=seed)
    s = mc.summary()
    assert (s["rank_p05"] <= s["median_rank"]).all()
    assert (s["median_rank"] <= s["rank_p95"]).all()
    assert s["median_rank"].between(1, len(mc.codes)).all()


@settings(max_examples=25, deadline=None)
@given(
    values=st.lists(st.floats(-100, 100, allow_nan=False), min_size=3, max_size=3),
    which=st.integers(0, 2),
)
def test_flipping_direction_reverses_contribution(values, which):
    rows = {
        f"GM000{i}": (f"G{i}", "gemeente", {"x1": i, "x2": 2 * i, "x3": i * i}) for i in range(4)
    }
    panel = toy_panel(rows)
    inp = c.index_input(toy_spec(), 2020, panel)
    row = np.array(values, dtype=float)
    terms, _ = c.contributions(inp, row, "zscore", "arithmetic")
    flipped = c.IndexInput(
        **{**inp.__dict__, "sign": inp.sign * np.where(np.arange(3) == which, -1, 1)}
    )
    terms_f, _ = c.contributions(flipped, row, "zscore", "arithmetic")
    assert terms_f[which] == pytest.approx(-terms[which], abs=1e-9)
    others = np.arange(3) != which
    np.testing.assert_allclose(terms_f[others], terms[others], atol=1e-9)


@pytest.mark.parametrize("aggregation", ["arithmetic", "geometric"])
@pytest.mark.parametrize("normalisation", ["zscore", "minmax", "rank"])
def test_decomposition_sums_to_change(normalisation, aggregation):
    later = {
        "GM0001": ("A", "gemeente", {"x1": 2.5, "x2": 1.5, "x3": 2.2}),
        "GM0002": ("B", "gemeente", {"x1": 1.0, "x2": 2.0, "x3": 3.0}),
        "GM0003": ("C", "gemeente", {"x1": 3.0, "x2": 1.0, "x3": None}),
    }
    panel = pd.concat([toy_panel(), toy_panel(later, 2021)])
    spec = toy_spec()
    d = c.decompose(spec, "GM0001", 2020, 2021, panel=panel, normalisation=normalisation,
                    aggregation=aggregation)  # fmt: skip
    s = c.scores(spec, [2020, 2021], panel=panel, normalisation=normalisation,
                 aggregation=aggregation)  # fmt: skip
    a = s[s["region_code"] == "GM0001"].set_index("year")["score"]
    assert d.attrs["change"] == pytest.approx(a[2021] - a[2020])
    assert d["contribution"].sum() == pytest.approx(d.attrs["change"], abs=1e-12)
    assert d["contribution"].abs().sum() > 0


def test_robustness_sentence_on_toy():
    inp = random_input(5)
    mc = c.monte_carlo(None, inputs=inp, draws=300, seed=1)
    best = mc.codes[np.argmin(mc.nominal_ranks)]
    r = c.robustness(None, best, "PV01", result=mc)
    assert 0.9 <= r.share <= 1.0
    assert r.sentence.startswith("In ")
    assert "varianten scoort" in r.sentence and "de provincie P" in r.sentence
    assert r.share == pytest.approx(
        np.mean(mc.scores[:, list(mc.codes).index(best)] > mc.bench_scores[:, 0])
    )


def test_robustness_sentence_near_the_line_shows_the_side_it_is_on():
    """20,2% better is "niet robuust"; shown as 20% a reader would read 80% worse: robust."""
    mc = c.monte_carlo(None, inputs=random_input(5), draws=1000, seed=1)
    code = mc.codes[0]
    for better, shown, robust in [(202, "20,2%", False), (200, "20%", True), (799, "79,9%", False)]:
        mc.scores[:, 0] = np.where(np.arange(1000) < better, 1.0, -1.0)
        mc.bench_scores[:, 0] = 0.0
        r = c.robustness(None, code, "PV01", result=mc)
        assert r.sentence.startswith(f"In {shown} van de 1.000 varianten"), r.sentence
        assert ("niet robuust" not in r.sentence) == robust, r.sentence


@pytest.mark.parametrize("draws", [300, 1000, 2000])
def test_the_share_as_shown_gives_the_reader_the_same_verdict(draws):
    for k in range(draws + 1):
        share = k / draws
        text = c.share_text(share)
        if text[0].isdigit():
            shown = float(text.rstrip("%").replace(",", ".")) / 100
            assert (0.2 < shown < 0.8) == (0.2 < share < 0.8), (k, text)


def test_influence_on_toy_sums_to_one():
    inp = random_input(2)
    out = c.influence(None, inputs=inp)
    assert out["influence"].sum() == pytest.approx(1.0)
    assert out["nominal_weight"].sum() == pytest.approx(1.0)
    assert (out["pearson_r"] > 0).all()  # every indicator points the same way as the index


# -- the real panel (committed snapshot, offline) -------------------------------------------------
@pytest.fixture(scope="module")
def real_panel():
    from westerkwartier import settings as wk_settings

    wk_settings.offline = True
    return c.index_panel()  # the snapshot is committed: a failure here is a real failure


@pytest.mark.parametrize("index", ["talent", "aantrekkelijkheid"])
def test_real_panel_index_for_westerkwartier(real_panel, index):
    year = c.latest_year(index, real_panel)
    mc = c.monte_carlo(index, year, panel=real_panel, draws=300)
    s = mc.summary().set_index("region_code")
    assert s["n_ranked"].iloc[0] > 300
    for code in ("GM1969", "GM0014"):
        row = s.loc[code]
        assert row["rank_p05"] <= row["median_rank"] <= row["rank_p95"]
    r = c.robustness(index, "GM1969", "NL01", result=mc)
    assert "Westerkwartier" in r.sentence and "Nederland" in r.sentence
    assert set(mc.bench_codes) >= {"NL01", "PV20"}
