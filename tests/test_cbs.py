"""Tests of the CBS client: pure parsing on committed payloads, HTTP against the stand-in."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import cbsodata
import pandas as pd
import pytest
from cbs_standin import parse_filter

from westerkwartier import settings
from westerkwartier.errors import (
    CbsSchemaError,
    CbsTableNotFound,
    CbsUnavailable,
    InputError,
    TopicNotFound,
)
from westerkwartier.sources import cbs

FIXTURES = Path(__file__).parent / "fixtures" / "odata"
WOZ = "90001TST"
KWB = "90002TST"
WOZ_STEM = "GemiddeldeWOZWaardeVanWoningen"


def rows(table: str, name: str) -> list[dict]:
    return json.loads((FIXTURES / table / f"{name}.json").read_text(encoding="utf-8"))["value"]


@pytest.fixture
def server(standin_server):
    return standin_server


# =========================================================================================
# Pure parsing on committed payloads
# =========================================================================================
def test_parse_data_properties_dimensions_and_topics():
    props = cbs.parse_data_properties(rows(WOZ, "DataProperties"), WOZ)
    assert props.dimension_types == {
        "Eigendom": "Dimension",
        "RegioS": "GeoDimension",
        "Perioden": "TimeDimension",
    }
    assert list(props.topics.columns) == ["key", "title", "unit", "decimals"]
    assert list(props.topics["key"]) == [
        "GemiddeldeWOZWaardeVanWoningen_1",
        "AantalWoningen_2",
        "AandeelInWoningvoorraad_3",
    ]  # the TopicGroup row (empty Key) is skipped
    woz = props.topics.iloc[0]
    assert (woz["unit"], woz["decimals"]) == ("x 1 000 euro", 0)
    assert props.topics.iloc[2]["decimals"] == 1
    assert props.datatypes["AandeelInWoningvoorraad_3"] == "Double"


def test_parse_data_properties_geodetail_is_a_geo_dimension():
    props = cbs.parse_data_properties(rows(KWB, "DataProperties"), KWB)
    assert props.dimension_types == {"WijkenEnBuurten": "GeoDimension"}
    assert props.datatypes["Gemeentenaam_1"] == "String"


def test_parse_data_properties_without_key_is_a_schema_error():
    broken = rows(WOZ, "DataProperties")
    del broken[4]["Key"]
    with pytest.raises(CbsSchemaError, match=f"{WOZ}.*Gemiddelde WOZ-waarde.*geen 'Key'"):
        cbs.parse_data_properties(broken, WOZ)


def test_parse_codes_strips_keys_and_maps_period_status():
    regions = cbs.parse_codes(rows(WOZ, "RegioS"), "RegioS", WOZ)
    assert list(regions.columns) == ["key", "title"]
    assert "GM1969" in set(regions["key"])
    periods = cbs.parse_codes(rows(WOZ, "Perioden"), "Perioden", WOZ, time=True)
    assert periods.set_index("key")["status"].to_dict() == {
        "2021JJ00": "definitief",
        "2022JJ00": "definitief",
        "2023JJ00": "voorlopig",
        "2024JJ00": "nader voorlopig",
    }
    assert list(periods["title"]) == ["2021", "2022", "2023", "2024"]  # '*' marks removed


def test_key_width_and_padding():
    assert cbs.key_width(rows(WOZ, "RegioS")) == 10  # 'BU19690000' sets the width
    assert cbs.key_width(rows(WOZ, "Perioden")) == 8
    assert cbs.pad_key("GM1969", 10) == "GM1969    "
    assert cbs.pad_key(" GM1969 ", 6) == "GM1969"


def test_build_filter_pads_and_groups():
    text = cbs.build_filter(
        {"RegioS": ["GM1969"], "Perioden": ["2022JJ00", "2023JJ00"]},
        {"RegioS": 10, "Perioden": 8},
    )
    assert text == (
        "(RegioS eq 'GM1969    ') and ((Perioden eq '2022JJ00') or (Perioden eq '2023JJ00'))"
    )
    assert cbs.build_filter({}, {}) is None
    assert cbs.build_filter({"X": ["a'b"]}, {"X": 4}) == "(X eq 'a''b ')"


def test_parse_typed_dataset_strips_codes_and_makes_floats():
    props = cbs.parse_data_properties(rows(KWB, "DataProperties"), KWB)
    data = cbs.parse_typed_dataset(
        rows(KWB, "TypedDataSet"), KWB, list(props.dimension_types), props.datatypes
    )
    assert list(data.columns) == [
        "WijkenEnBuurten",
        "Gemeentenaam_1",
        "AantalInwoners_5",
        "Bevolkingsdichtheid_34",
    ]
    assert list(data["WijkenEnBuurten"]) == ["NL00", "GM1969", "WK196900", "BU19690000"]
    assert data["Gemeentenaam_1"].iloc[1] == "Westerkwartier"
    assert data["AantalInwoners_5"].dtype == "float64"
    assert data["Bevolkingsdichtheid_34"].isna().tolist() == [False, False, True, False]


def test_parse_typed_dataset_missing_column_is_a_schema_error():
    data = [
        {k: v for k, v in r.items() if k != "AantalInwoners_5"} for r in rows(KWB, "TypedDataSet")
    ]
    with pytest.raises(CbsSchemaError, match=f"{KWB}.*'AantalInwoners_5'"):
        cbs.parse_typed_dataset(data, KWB, ["WijkenEnBuurten"], {"AantalInwoners_5": "Long"})


def test_parse_typed_dataset_text_in_numeric_topic_is_a_schema_error():
    data = [{"RegioS": "GM1969", "X_1": "veel"}]
    with pytest.raises(CbsSchemaError, match="X_1"):
        cbs.parse_typed_dataset(data, WOZ, ["RegioS"], {"X_1": "Long"})


def test_parse_typed_dataset_empty_keeps_columns_and_types():
    data = cbs.parse_typed_dataset([], WOZ, ["RegioS"], {"X_1": "Long", "Naam_2": "String"})
    assert list(data.columns) == ["RegioS", "X_1", "Naam_2"]
    assert data.empty and data["X_1"].dtype == "float64"


def test_parse_table_info():
    info = cbs.parse_table_info(rows(WOZ, "TableInfos"), WOZ)
    assert info["identifier"] == WOZ
    assert info["output_status"] == "Regulier"
    assert info["modified"] == "2025-02-28T02:00:00"
    assert info["period_description"] == "2021-2024"
    assert "id" not in info
    with pytest.raises(CbsSchemaError, match=WOZ):
        cbs.parse_table_info([], WOZ)


def test_standin_filter_is_exact_string_comparison():
    keep = parse_filter("(RegioS eq 'GM1969    ') and ((Perioden eq 'a') or (Perioden eq 'b'))")
    assert keep({"RegioS": "GM1969    ", "Perioden": "b"})
    assert not keep({"RegioS": "GM1969", "Perioden": "b"})
    with pytest.raises(ValueError):
        parse_filter("substringof('x', Title)")


# =========================================================================================
# Against the stand-in
# =========================================================================================
def test_paging_via_nextlink_brings_all_rows(server):
    table = cbs.fetch_table(WOZ)
    assert len(table.data) == 40
    assert server.counts["TypedDataSet"] == 6  # 40 rows in pages of 7
    assert not table.data.duplicated(["Eigendom", "RegioS", "Perioden"]).any()
    assert table.source == "cbs"
    assert table.region_dimension == "RegioS" and table.period_dimension == "Perioden"


def test_filter_is_padded_and_result_keys_stripped(server):
    table = cbs.fetch_table(WOZ, regions=["GM1969"], periods=[2023])
    assert server.filters() == ["(RegioS eq 'GM1969    ') and (Perioden eq '2023JJ00')"]
    assert set(table.data["RegioS"]) == {"GM1969"}
    assert set(table.data["Perioden"]) == {"2023JJ00"}
    assert len(table.data) == 2  # two Eigendom categories
    assert set(table.dimensions["RegioS"]["key"]) >= {"GM1969", "NL01"}


def test_unpadded_filter_returns_nothing_like_cbs(server):
    unpadded = cbs.get_set(WOZ, "TypedDataSet", filters="(RegioS eq 'GM1969')")
    padded = cbs.get_set(WOZ, "TypedDataSet", filters="(RegioS eq 'GM1969    ')")
    assert unpadded == []
    assert len(padded) == 8


def test_region_codes_as_typed_are_normalised(server):
    table = cbs.fetch_table(WOZ, regions=[" gm1969", "NL01"], periods="2022JJ00")
    assert "(RegioS eq 'GM1969    ') or (RegioS eq 'NL01      ')" in server.filters()[0]
    assert set(table.data["RegioS"]) == {"GM1969", "NL01"}


def test_topic_by_stem_selects_columns(server):
    table = cbs.fetch_table(WOZ, regions="GM1969", topics=[WOZ_STEM])
    select = server.requests[-1].params["$select"]
    assert select == "Eigendom,RegioS,Perioden,GemiddeldeWOZWaardeVanWoningen_1"
    assert list(table.data.columns) == [
        "Eigendom",
        "RegioS",
        "Perioden",
        "GemiddeldeWOZWaardeVanWoningen_1",
    ]
    assert list(table.topics["key"]) == ["GemiddeldeWOZWaardeVanWoningen_1"]
    assert table.topic(WOZ_STEM) == "GemiddeldeWOZWaardeVanWoningen_1"
    assert table.data["GemiddeldeWOZWaardeVanWoningen_1"].isna().sum() == 0
    assert table.data["GemiddeldeWOZWaardeVanWoningen_1"].dtype == "float64"


def test_null_values_become_nan(server):
    table = cbs.fetch_table(WOZ, regions="BU19690000", periods=2024)
    assert table.data["GemiddeldeWOZWaardeVanWoningen_1"].isna().all()


def test_unknown_topic_stem(server):
    with pytest.raises(TopicNotFound, match=f"{WOZ}.*'Inkomen'"):
        cbs.fetch_table(WOZ, topics=["Inkomen"])
    assert server.counts["TypedDataSet"] == 0


def test_other_dimension_filter_is_padded(server):
    table = cbs.fetch_table(WOZ, filters={"Eigendom": ["A047047"]}, periods=2021)
    assert "(Eigendom eq 'A047047')" in server.filters()[0]
    assert set(table.data["Eigendom"]) == {"A047047"}
    with pytest.raises(CbsSchemaError, match="Geslacht"):
        cbs.fetch_table(WOZ, filters={"Geslacht": ["T001038"]})


def test_geodetail_regions_and_missing_time_dimension(server):
    table = cbs.fetch_table(KWB, regions=["GM1969", "NL00"])
    assert server.filters()[0] == (
        "((WijkenEnBuurten eq 'GM1969    ') or (WijkenEnBuurten eq 'NL00      '))"
    )
    assert set(table.data["WijkenEnBuurten"]) == {"GM1969", "NL00"}
    with pytest.raises(CbsSchemaError, match="periodedimensie"):
        cbs.fetch_table(KWB, periods=2024)


def test_unknown_region_code_warns_and_gives_no_rows(server, caplog):
    with caplog.at_level(logging.WARNING, logger="westerkwartier.sources.cbs"):
        table = cbs.fetch_table(WOZ, regions=["GM0015"])
    assert table.data.empty
    assert "GM0015" in caplog.text


def test_period_status_and_table_info(server):
    table = cbs.fetch_table(WOZ, regions="GM1969")
    status = table.period_status.set_index("key")["status"]
    assert status["2023JJ00"] == "voorlopig"
    assert status["2024JJ00"] == "nader voorlopig"
    assert status["2021JJ00"] == "definitief"
    assert table.info["output_status"] == "Regulier"
    assert table.info["modified"] == "2025-02-28T02:00:00"
    assert table.title.startswith("Woningen; gemiddelde WOZ-waarde")
    assert table.info["retrieved"].endswith("+00:00")
    kwb = cbs.fetch_table(KWB)
    assert kwb.info["output_status"] == "Gediscontinueerd"
    assert kwb.period_dimension is None


def test_https_option_restored(server):
    assert cbsodata.options.use_https is True
    cbs.fetch_table(KWB)
    assert cbsodata.options.use_https is True


# -- errors and retries ------------------------------------------------------------------
def test_unknown_table_is_not_found_without_retry(server):
    with pytest.raises(CbsTableNotFound, match="99999NED bestaat niet bij CBS.*opendata.cbs.nl"):
        cbs.fetch_table("99999NED")
    assert server.counts["TableInfos"] == 1


def test_404_fault(server):
    server.fault("404", set_name="TableInfos")
    with pytest.raises(CbsTableNotFound):
        cbs.fetch_table(WOZ)


def test_invalid_table_id_makes_no_request(server):
    with pytest.raises(CbsTableNotFound, match="geen geldig CBS-tabelnummer"):
        cbs.fetch_table("85036NED/../x")
    assert server.total == 0


def test_500_then_success(server, waits):
    server.fault("500", set_name="TypedDataSet", times=1)
    table = cbs.fetch_table(WOZ, regions="GM1969", periods=2023)
    assert len(table.data) == 2
    assert server.counts["TypedDataSet"] == 2
    assert waits == [0.0]


def test_always_500_gives_up_after_retries(server, waits, monkeypatch):
    monkeypatch.setattr(settings, "retries", 4)
    monkeypatch.setattr(settings, "backoff", 0.5)
    server.fault("500", times=None)
    with pytest.raises(CbsUnavailable, match="HTTP-fout 500.*4 pogingen.*offline") as info:
        cbs.fetch_table(WOZ)
    assert server.counts["TableInfos"] == 4
    assert server.total == 4
    assert waits == [0.5, 1.0, 2.0]  # exponential, none after the last attempt
    assert not isinstance(info.value, CbsTableNotFound)


@pytest.mark.parametrize("status", ["503", "429"])
def test_retry_after_is_honoured(server, waits, status):
    server.fault(status, set_name="DataProperties", retry_after="2")
    table = cbs.fetch_table(KWB)
    assert len(table.data) == 4
    assert waits == [2.0]
    assert server.counts["DataProperties"] == 2


def test_400_is_not_retried(server, waits):
    server.fault("400", set_name="TypedDataSet")
    with pytest.raises(CbsSchemaError, match="HTTP 400"):
        cbs.fetch_table(KWB)
    assert server.counts["TypedDataSet"] == 1
    assert waits == []


def test_connection_reset_is_retried(server):
    server.fault("reset", set_name="TableInfos", times=2)
    table = cbs.fetch_table(KWB)
    assert len(table.data) == 4
    assert server.counts["TableInfos"] == 3


def test_connection_reset_always(server):
    server.fault("reset", times=None)
    with pytest.raises(CbsUnavailable, match="verbinding"):
        cbs.fetch_table(KWB)
    assert server.total == settings.retries


def test_timeout_is_retried(server, monkeypatch):
    monkeypatch.setattr(settings, "timeout", 0.3)
    server.fault("slow", set_name="TypedDataSet", delay=3.0, times=1)
    table = cbs.fetch_table(KWB)
    assert len(table.data) == 4
    assert server.counts["TypedDataSet"] == 2


def test_timeout_always_gives_up(server, monkeypatch):
    monkeypatch.setattr(settings, "timeout", 0.3)
    server.fault("slow", set_name="TableInfos", delay=3.0, times=None)
    start = time.monotonic()
    with pytest.raises(CbsUnavailable, match="geen antwoord binnen 0.3 s"):
        cbs.fetch_table(KWB)
    assert time.monotonic() - start < 2.5
    assert server.counts["TableInfos"] == 3


@pytest.mark.parametrize("mode", ["malformed", "truncated", "html"])
def test_unreadable_answer_is_retried(server, mode):
    server.fault(mode, set_name="TypedDataSet", times=1)
    table = cbs.fetch_table(WOZ, regions="GM1969", periods=2023)
    assert len(table.data) == 2
    assert server.counts["TypedDataSet"] == 2


def test_malformed_always_is_unavailable(server):
    server.fault("malformed", set_name="DataProperties", times=None)
    with pytest.raises(CbsUnavailable, match="onleesbaar antwoord"):
        cbs.fetch_table(KWB)
    assert server.counts["DataProperties"] == 3


def test_json_without_value_is_a_schema_error(server):
    server.fault("no-value", set_name="DataProperties")
    with pytest.raises(CbsSchemaError, match="OData-vorm"):
        cbs.fetch_table(KWB)
    assert server.counts["DataProperties"] == 1


def test_missing_selected_column_is_a_schema_error(server):
    server.fault("missing-column", set_name="TypedDataSet", column="AantalInwoners_5")
    with pytest.raises(CbsSchemaError, match="AantalInwoners_5"):
        cbs.fetch_table(KWB, topics=["AantalInwoners"])


def test_failing_second_page_is_retried_on_its_own(server):
    server.fault("500", set_name="TypedDataSet", page=2, times=1)
    table = cbs.fetch_table(WOZ)
    assert len(table.data) == 40
    assert not table.data.duplicated(["Eigendom", "RegioS", "Perioden"]).any()
    assert server.counts["TypedDataSet"] == 6 + 1  # six pages, page 2 asked twice
    pages = [r.page for r in server.requests if r.set_name == "TypedDataSet"]
    assert pages == [1, 2, 2, 3, 4, 5, 6]  # resumed at page 2, never back to page 1


def test_empty_result(server):
    server.fault("empty", set_name="TypedDataSet")
    table = cbs.fetch_table(WOZ, regions="GM1969", topics=WOZ_STEM)
    assert table.data.empty
    assert list(table.data.columns) == ["Eigendom", "RegioS", "Perioden", f"{WOZ_STEM}_1"]


def test_empty_selection_is_an_input_error(server):
    with pytest.raises(InputError, match="regions"):
        cbs.fetch_table(WOZ, regions=[])
    assert server.total == 0


# -- progress and search ----------------------------------------------------------------
def test_progress_bar_when_interactive(server, monkeypatch, capsys):
    monkeypatch.setattr(settings, "progress", True)
    monkeypatch.setattr(cbs, "_stderr_is_tty", lambda: True)
    cbs.fetch_table(KWB)
    assert "CBS 90002TST" in capsys.readouterr().err


def test_log_lines_when_not_interactive(server, caplog, capsys):
    with caplog.at_level(logging.INFO, logger="westerkwartier.sources.cbs"):
        cbs.fetch_table(KWB)
    assert "CBS 90002TST: TypedDataSet opgehaald (4 rijen)" in caplog.text
    assert "CBS 90002TST" not in capsys.readouterr().err


def test_search_tables(server):
    found = cbs.search_tables("WOZ")
    assert list(found["identifier"]) == [WOZ]
    assert found["output_status"].iloc[0] == "Regulier"
    assert cbs.search_tables("bestaat-niet").empty
    assert isinstance(found, pd.DataFrame)
