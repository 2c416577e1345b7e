"""Tests of westerkwartier.peers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from westerkwartier.analysis import peers as pe
from westerkwartier.errors import InputError

CFG = pe.PeerConfig(
    k=2,
    variables=(
        pe.PeerVariable("size", "inwonertal", "registry:population", "log", 1.0, "groter", "klein"),
        pe.PeerVariable("old", "vergrijzing", "panel:a", "none", 1.0, "meer oud", "minder oud"),
        pe.PeerVariable("inc", "inkomen", "panel:b", "none", 1.0, "hoger inkomen", "lager inkomen"),
    ),
)  # fmt: skip


def toy_data() -> pd.DataFrame:
    # two clusters: small & old (A, B, C) and big & young (X, Y); C is rich
    return pd.DataFrame(
        {
            "name": ["A", "B", "C", "X", "Y"],
            "size": [10_000, 11_000, 10_500, 200_000, 220_000],
            "old": [25.0, 24.0, 25.5, 15.0, 14.0],
            "inc": [30.0, 30.5, 45.0, 32.0, 31.0],
        },
        index=["GM0001", "GM0002", "GM0003", "GM0004", "GM0005"],
    )


def test_obvious_nearest_neighbours():
    out = pe.peers("GM0001", data=toy_data(), config=CFG)
    assert out["code"].tolist() == ["GM0002", "GM0003"]
    assert out["distance"].is_monotonic_increasing
    assert pe.peers("GM0004", k=1, data=toy_data(), config=CFG)["code"].tolist() == ["GM0005"]


def test_peers_are_computed_once_per_values_and_each_call_gets_its_own_copy(monkeypatch):
    calls = []
    real = pe.standardise
    monkeypatch.setattr(
        pe, "standardise", lambda data, config: calls.append(1) or real(data, config)
    )
    monkeypatch.setattr(pe, "_peers_memo", {})
    data = toy_data()
    first = pe.peers("GM0001", data=data, config=CFG)
    first.loc[0, "code"] = "veranderd"  # the caller's copy, not the kept table
    again = pe.peers("GM0001", data=data.copy(), config=CFG)  # equal values, another object
    assert again["code"].tolist() == ["GM0002", "GM0003"]
    again.loc[0, "code"] = "veranderd"  # a copy of the kept table, too
    assert pe.peers("GM0001", data=data, config=CFG)["code"].tolist() == ["GM0002", "GM0003"]
    assert len(calls) == 1
    pe.peers("GM0001", k=1, data=data, config=CFG)  # another k: computed
    assert len(calls) == 2
    # values changed in place: computed again, and the answer follows the new values
    data.loc["GM0002", ["size", "old", "inc"]] = [200_000, 15.0, 32.0]
    changed = pe.peers("GM0001", data=data, config=CFG)
    assert len(calls) == 3
    assert changed["code"].tolist() == ["GM0003", "GM0002"]


def test_peers_of_values_pandas_cannot_hash_are_computed_every_time(monkeypatch):
    monkeypatch.setattr(pe, "_peers_memo", {})
    data = toy_data().assign(extra=[[1], [2], [3], [4], [5]])  # lists: no digest
    for _ in range(2):
        assert pe.peers("GM0001", data=data, config=CFG)["code"].tolist() == ["GM0002", "GM0003"]
    assert pe._peers_memo == {}


def test_reason_names_similar_and_different_characteristics():
    out = pe.peers("GM0001", data=toy_data(), config=CFG).set_index("code")
    assert out.loc["GM0002", "reason"].startswith("vergelijkbaar in ")
    assert "inwonertal" in out.loc["GM0002", "reason"]
    assert out.loc["GM0003", "reason"].endswith("wel hoger inkomen")


def test_distance_is_symmetric_and_zero_to_self():
    z = pe.standardise(toy_data(), CFG)
    d1 = pe.distances(z, "GM0001", CFG)
    d2 = pe.distances(z, "GM0002", CFG)
    assert d1["GM0001"] == 0
    assert d1["GM0002"] == pytest.approx(d2["GM0001"])


def test_missing_variable_is_left_out_of_the_distance():
    data = toy_data()
    data.loc["GM0002", "inc"] = np.nan
    out = pe.peers("GM0001", data=data, config=CFG)
    assert out["code"].iloc[0] == "GM0002"
    assert np.isfinite(out["distance"]).all()


def test_unknown_municipality_is_an_input_error():
    with pytest.raises(InputError, match="geen gemeente"):
        pe.peers("GM9999", data=toy_data(), config=CFG, registry=_NoRegistry())


class _NoRegistry:
    def resolve(self, code):
        from westerkwartier.errors import RegionNotFound

        raise RegionNotFound(code)


def test_comparison_group_roles():
    group = pe.comparison_group(
        "GM0001", data=toy_data(), config=CFG, neighbours=lambda c: ["GM0002", "GM0004"]
    ).set_index("code")
    assert group.loc["GM0002", "role"] == "buurgemeente en peer"
    assert group.loc["GM0004", "role"] == "buurgemeente"
    assert group.loc["GM0003", "role"] == "statistische peer"
    assert group.loc["GM0004", "reason"] == "grenst aan A"


def test_rank_in_group_respects_direction():
    values = pd.Series({"a": 1.0, "b": 2.0, "c": 3.0})
    assert pe.rank_in_group(values, "a", "higher_is_better") == (3, 3, "onder de mediaan")
    assert pe.rank_in_group(values, "a", "lower_is_better") == (1, 3, "boven de mediaan")


def test_peer_sensitivity_shows_a_changing_conclusion():
    panel = pd.DataFrame(
        {
            "region_code": ["GM0001", "GM0002", "GM0003", "GM0004", "GM0005"],
            "indicator": "netto_arbeidsparticipatie",
            "year": 2024,
            "value": [70.0, 60.0, 65.0, 80.0, 75.0],
        }
    )
    out = pe.peer_sensitivity(
        "GM0001", ["netto_arbeidsparticipatie"], ks=(2, 4), panel=panel, data=toy_data(),
        config=CFG, neighbours=lambda c: ["GM0004"],
    )  # fmt: skip
    by = out.set_index("group")
    assert (
        by.loc["peers k=2", "rank"] == 1 and by.loc["peers k=2", "position"] == "boven de mediaan"
    )
    assert by.loc["buurgemeenten", "position"] == "onder de mediaan"
    assert not out["stable"].any()


def test_config_file_loads():
    cfg = pe.load_peer_config()
    assert cfg.k >= 1 and {v.id for v in cfg.variables} >= {"inwoners", "vergrijzing", "inkomen"}


def test_real_westerkwartier_peers():
    from westerkwartier import settings

    settings.offline = True
    data = pe.structural_data()  # from the committed snapshot
    out = pe.peers("Westerkwartier", k=5, data=data)
    assert len(out) == 5 and "GM1969" not in set(out["code"])
    assert out["reason"].str.len().gt(10).all()
    ten = pe.peers("GM1969", k=10, data=data)
    assert ten["code"].head(5).tolist() == out["code"].tolist()
