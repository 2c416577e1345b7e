"""Municipalities that only changed their name: a new CBS code, the same area.

De Friese Meren (GM1921) was formed on 1 January 2014 and is De Fryske Marren (GM1940) since
1 July 2015; CBS files its figures of 2014 and 2015 under GM1921. Groesbeek (GM0241) took in
Millingen aan de Rijn and Ubbergen on 1 January 2015 and is Berg en Dal (GM1945) since 1 January
2016. Before, De Fryske Marren's reports said it was formed "op 1 januari 2015 uit De Friese
Meren", most of its 2015 figures were "niet gepubliceerd", and 2014 was an estimate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from westerkwartier import settings
from westerkwartier.indicators.mergers import (
    boundary_breaks,
    load_mergers,
    relabel_renamed,
    rename_spans,
)
from westerkwartier.sources.regions import load_registry

FLOWS = "37259eng_bevolkingsontwikkeling_2012_2023.csv"


@pytest.fixture(scope="module")
def dissolved():
    return load_registry().dissolved()


def test_a_rename_is_no_boundary_change_and_the_old_codes_mergers_count(dissolved):
    spans = {old: (new, since) for old, new, since in rename_spans(dissolved)}
    assert spans["GM1921"] == ("GM1940", 2014)  # formed in 2014: all its figures
    assert spans["GM0241"] == ("GM1945", 2015)  # Groesbeek's area is Berg en Dal's from 2015
    assert spans["GM0065"] == ("GM1891", None)  # Dantumadeel: never changed its area
    breaks = boundary_breaks(dissolved)
    assert breaks["GM1940"] == 2014 and breaks["GM1945"] == 2015
    assert "GM1921" not in breaks and "GM0241" not in breaks
    mergers = load_mergers(dissolved)
    fryske = mergers[mergers["successor"] == "GM1940"].set_index("predecessor")
    assert set(fryske.index) == {"GM1921", "GM0653", "GM0082", "GM0051", "GM0055"}
    assert fryske.loc["GM1921", "start_year"] == 2015 and fryske.loc["GM0653", "start_year"] == 2014
    assert fryske.loc[["GM0051", "GM0055"], "share"].isna().all()  # split, share unknown
    berg = mergers[mergers["successor"] == "GM1945"].set_index("predecessor")
    assert set(berg.index) == {"GM0241", "GM0265", "GM0282"} and (berg["share"] == 1).all()


def test_relabel_keeps_the_own_figures_and_the_old_area_out():
    rows = pd.DataFrame(
        {
            "region_code": ["GM0241", "GM0241", "GM1945", "GM1945", "GM1945"],
            "year": [2014, 2015, 2015, 2016, 2017],
            "value": [1.0, 2.0, np.nan, 3.0, 4.0],
            "status": ["definitief"] * 5,
        }
    )
    out = relabel_renamed(rows, [("GM0241", "GM1945", 2015)])
    own = out[out["region_code"] == "GM1945"].set_index("year")["value"]
    assert own.to_dict() == {2015: 2.0, 2016: 3.0, 2017: 4.0}  # the empty 2015 row replaced
    assert out.loc[out["region_code"] == "GM0241", "year"].tolist() == [2014]  # old area stays
    assert (out["status"] == "definitief").all()  # the same area: no estimate


def _raw_year(mirror, codes, year):
    raw = pd.read_csv(mirror / "coded" / FLOWS)
    raw = raw[(raw["Sex"] == "T001038") & (raw["Periods"] == f"{year}JJ00")]
    raw = raw.assign(code=raw["Regions"].str.strip()).set_index("code")
    counts = raw.loc[codes].select_dtypes("number").sum()
    mean = (counts["PopulationOn1January_1"] + counts["PopulationOn31December_20"]) / 2
    return 1000 * counts["DueToImmigration_10"] / mean


@pytest.mark.mirror
def test_figures_under_the_old_code_are_the_municipalitys_own(mirror, monkeypatch):
    from westerkwartier.indicators.panel import panel

    monkeypatch.setattr(settings, "offline", True)
    p = panel(regions=["GM1940", "GM1945"], indicators=["immigratie_per_1000"])
    cell = p.set_index(["region_code", "year"])
    # De Fryske Marren 2015 and 2014: CBS's figures of GM1921, not an estimate, not missing
    for year in (2014, 2015):
        row = cell.loc[("GM1940", year)]
        assert row["status"] == "definitief"
        assert row["value"] == pytest.approx(_raw_year(mirror, ["GM1921"], year), rel=1e-12)
    assert cell.loc[("GM1940", 2013), "missing_reason"].startswith(
        "gemeente bestond nog niet (ontstaan in 2014)"
    )
    # Berg en Dal 2014: Groesbeek, Millingen aan de Rijn and Ubbergen summed (all whole)
    row = cell.loc[("GM1945", 2014)]
    assert row["status"] == "schatting"
    expected = _raw_year(mirror, ["GM0241", "GM0265", "GM0282"], 2014)
    assert row["value"] == pytest.approx(expected, rel=1e-12)
    assert cell.loc[("GM1945", 2015), "status"] == "definitief"


def test_the_report_says_the_old_name_and_when_the_area_began():
    from westerkwartier.reporting.sections import merger_text

    registry = load_registry()
    fryske = merger_text(registry, "GM1940", "De Fryske Marren")
    assert fryske.startswith(
        "De Fryske Marren ontstond op 1 januari 2014 uit Gaasterlân-Sleat, Lemsterland, een deel "
        "van Boarnsterhim en een deel van Skarsterlân."
    )
    assert "Tot 1 juli 2015 heette de gemeente De Friese Meren" in fryske
    assert "opgeteld uit de voorgangers" not in fryske  # two splits without a known share
    berg = merger_text(registry, "GM1945", "Berg en Dal")
    assert berg.startswith("Berg en Dal kreeg op 1 januari 2015 Millingen aan de Rijn en Ubbergen")
    assert "De cijfers die CBS vanaf 2015 onder de oude code geeft" in berg


def test_a_new_name_alone_is_called_so(monkeypatch):
    """Dantumadiel was Dantumadeel until 2009 and has had no boundary change since."""
    from westerkwartier.reporting.report_data import load_report_data
    from westerkwartier.reporting.sections import merger_caveats

    monkeypatch.setattr(settings, "offline", True)
    data = load_report_data("talent", "Dantumadiel", peildatum="2026-11-27")
    [(title, text)] = merger_caveats(data)
    assert title == "Naamswijziging van Dantumadiel"
    assert text.startswith("Tot 1 januari 2009 heette de gemeente Dantumadeel;")
    fryske = load_report_data("talent", "De Fryske Marren", peildatum="2026-11-27")
    assert merger_caveats(fryske)[0][0] == "Herindeling van De Fryske Marren"


def test_a_change_in_the_course_of_a_year_has_its_own_date():
    """Weesp went into Amsterdam on 24 March 2022; the report said "op 1 januari 2022"."""
    from westerkwartier.reporting.sections import merger_text

    registry = load_registry()
    assert merger_text(registry, "GM0363", "Amsterdam").startswith(
        "Amsterdam kreeg op 24 maart 2022 Weesp erbij."
    )
    assert merger_text(registry, "GM0599", "Rotterdam").startswith(
        "Rotterdam kreeg op 18 maart 2010 Rozenburg erbij."
    )
