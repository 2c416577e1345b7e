"""The live CBS path at real scale, against the loopback stand-in serving real CBS shapes.

* Requests sized to the need: the plan of a need (codes, totals, prefixes, first year, topics),
  the row estimate and the row limit, checked before any data is asked for.
* OData v4: the mirror's real captures served as captured; paging through ``@odata.nextLink``
  with a failed page retried on its own; v4 as the fallback of v3 and the other way round.
* Online equals offline: the stand-in serves the tables the snapshot is built from (the CBS
  mirror's real exports, read by the project's own readers) in the exact v3 shape (and the
  captures in v4 shape), the online panel is computed from what it answers, and it must equal
  the panel computed from the same tables offline, value for value; the requests and rows it
  took are counted.
* An unreachable CBS: one quick check, a batch passes the outcome to its kernels.
"""

from __future__ import annotations

import json
import math
import socket
from pathlib import Path

import pandas as pd
import pytest
from cbs_standin import CbsStandin, parse_filter

from westerkwartier import settings
from westerkwartier.errors import (
    CbsRequestTooLarge,
    CbsSchemaError,
    CbsTableNotFound,
    OfflineDataMissing,
)
from westerkwartier.indicators import needs as catalogue_needs
from westerkwartier.indicators.catalogue import MISSING, Operand, load_catalogue
from westerkwartier.indicators.extraction import extract
from westerkwartier.indicators.panel import cut_by_region, panel
from westerkwartier.pipeline import batch
from westerkwartier.pipeline.jobs import kernel_env
from westerkwartier.sources import cbs, data, odata4, regions, snapshot, transport
from westerkwartier.sources.need import TOTAL, Need, filter_text, plan, quote
from westerkwartier.sources.table import CbsTable

PAGE = 2_000  # rows per page of the stand-in here: several pages for the larger slices


# -- the tables the snapshot is built from ----------------------------------------------------
@pytest.fixture(scope="module")
def mirror_tables(mirror) -> dict[str, tuple[CbsTable, dict]]:
    """Every snapshot table, read from the mirror by the project's readers, with its entry."""
    config = snapshot.load_config()
    out = {}
    for entry in config["table"]:
        table = snapshot.READERS[entry["reader"]](mirror, entry)
        table = snapshot.keep_regions(table, config["keep_region_prefixes"])
        if entry.get("title") and table.info.get("title") in (None, "", table.table_id):
            table.info["title"] = entry["title"]
        out[table.table_id] = (table, entry)
    return out


def _serve(standin: CbsStandin, tables, mirror: Path, *, v4_only: bool) -> None:
    for table, entry in tables.values():
        if entry["reader"] == "odata-v4":
            standin.add_v4_capture(mirror / entry["path"])  # the real v4 answers, as captured
        else:
            standin.add_table(table, v3=not v4_only, v4=v4_only)


@pytest.fixture
def point_at(monkeypatch, tmp_path):
    """Point both CBS clients at a stand-in, online, with an empty cache."""

    def apply(standin: CbsStandin) -> None:
        monkeypatch.setattr(settings, "cbs_host", standin.host)
        monkeypatch.setattr(settings, "odata4_host", standin.host)
        monkeypatch.setattr(settings, "cbs_https", False)
        monkeypatch.setattr(settings, "offline", False)
        monkeypatch.setattr(settings, "progress", False)
        monkeypatch.setattr(settings, "retries", 3)
        monkeypatch.setattr(settings, "cache_dir", tmp_path / "cache")

    return apply


# -- an independent reading of a need, to count the rows CBS should send ------------------------
def _total(codes: pd.DataFrame) -> str | None:
    if len(codes) == 1:
        return str(codes["key"].iloc[0])
    titles = codes["title"].astype(str).str.strip().str.lower()
    exact = codes.loc[titles == "totaal", "key"]
    if len(exact):
        return str(exact.iloc[0])
    starts = codes.loc[titles.str.startswith("totaal"), "key"]
    return str(starts.iloc[0]) if len(starts) else None


def _slice_mask(frame: pd.DataFrame, table: CbsTable, need: Need) -> pd.Series:
    """Rows of ``frame`` (wide data or long observations) that ``need`` asks for."""
    kinds = table.dimension_types
    region = need.region_dimension or next(
        (d for d, k in kinds.items() if k == "GeoDimension"), None
    )
    period = next((d for d, k in kinds.items() if k == "TimeDimension"), None)
    mask = pd.Series(True, index=frame.index)
    for dim in kinds:
        values = frame[dim].astype(str).str.strip()
        if dim == region:
            mask &= values.str[:2].isin(need.region_prefixes)
        elif dim == period:
            mask &= values >= str(need.since)
        elif dim not in need.whole:
            codes = table.dimensions[dim]
            wanted = set()
            for value in need.select.get(dim, (TOTAL,)):
                if value == TOTAL:
                    wanted.add(_total(codes))
                else:
                    hit = codes.loc[codes["title"].str.strip().str.lower() == value.lower(), "key"]
                    wanted.update(hit)
            if None not in wanted:
                mask &= values.isin(wanted)
    return mask


def _expected(tables, mirror: Path, needs: dict[str, Need], *, v4_only: bool) -> dict[str, int]:
    """Data rows per served table that the panel's needs select (independent of the client)."""
    rows: dict[str, int] = {}
    for table_id, (table, entry) in tables.items():
        need = next((n for t, n in needs.items() if t.lower() == table_id.lower()), None)
        if need is None:
            continue
        if entry["reader"] == "odata-v4" or v4_only:
            folder = mirror / entry["path"] if entry["reader"] == "odata-v4" else None
            if folder is not None:
                pages = json.loads((folder / "index.json").read_text())["observationPages"]
                obs = pd.DataFrame(
                    [r for p in pages for r in json.loads((folder / p).read_text())["value"]]
                )
                topics = odata4.topics_frame(
                    json.loads((folder / "measure-codes.json").read_text())["value"]
                )
            else:
                long = table.data.melt(id_vars=list(table.dimension_types), var_name="key")
                obs, topics = long, table.topics.assign(measure=table.topics["key"])
                topics = topics[topics["key"].isin(table.data.columns)]
                topics = topics.assign(
                    key=[f"{odata4.camel_key(t)}_{i}" for i, t in enumerate(topics["title"], 1)]
                )
                obs = obs.rename(columns={"key": "Measure"})
            keys = odata4.align_keys(topics, list(need.topics))
            asked = set(
                plan(
                    {"need": need.as_query()},
                    table_id,
                    keys,
                    table.dimension_types,
                    table.dimensions,
                ).topics
            )
            measures = set(keys.loc[keys["key"].isin(asked), "measure"])
            frame = obs[obs["Measure"].isin(measures)]
            rows[table_id] = int(_slice_mask(frame, table, need).sum())
        else:
            rows[table_id] = int(_slice_mask(table.data, table, need).sum())
    return rows


# =============================================================================================
# Online equals offline
# =============================================================================================
@pytest.mark.parametrize("v4_only", [False, True], ids=["v3-feed", "v4-fallback"])
def test_online_panel_equals_offline_panel(mirror, mirror_tables, point_at, v4_only):
    registry = regions.load_registry()

    def offline(table_id: str) -> CbsTable:
        for key, (table, _entry) in mirror_tables.items():
            if key.lower() == table_id.lower():
                return table
        raise OfflineDataMissing(f"{table_id} niet in de spiegel")

    expected = panel(loader=offline, registry=registry)
    cat = load_catalogue()
    needs = catalogue_needs.table_needs(cat)
    with CbsStandin(page_size=PAGE) as standin:
        _serve(standin, mirror_tables, mirror, v4_only=v4_only)
        point_at(standin)
        online = panel(registry=registry)
        requests = list(standin.requests)
        rows_sent, counts = standin.rows_sent, dict(standin.counts)

    # value for value: the same rows, values, intervals, status and source tables
    key = ["indicator", "region_code", "year"]
    a = expected.sort_values(key).reset_index(drop=True)
    b = online.sort_values(key).reset_index(drop=True)
    assert len(a) == len(b) > 200_000
    columns = ["region_code", "region_name", "level", "year", "indicator", "status"]
    pd.testing.assert_frame_equal(a[columns + ["source_table"]], b[columns + ["source_table"]])
    for column in ("value", "lower", "upper"):
        pd.testing.assert_series_equal(a[column], b[column], check_exact=False, rtol=1e-12)
    assert a["value"].notna().sum() > 100_000
    # a reason may differ only where offline the table is "online only": online it says why
    differ = a["missing_reason"].fillna("") != b["missing_reason"].fillna("")
    assert set(a.loc[differ, "missing_reason"]) <= {MISSING["online_only"]}
    # the stand-in serves the mirror's copies cut off partway through their regions (80305ned
    # ends at Zwijndrecht) as whole tables, so it lacks those rows where CBS has them
    cut = {t.lower() for t, (table, _) in mirror_tables.items() if cut_by_region(table)}
    from_cut = {i.id for i in cat if {t.lower() for t in i.tables} & cut}
    unpublished = differ & (b["missing_reason"] == MISSING["not_published"])
    assert "80305ned" in cut and set(b.loc[unpublished, "indicator"]) <= from_cut
    assert set(b.loc[unpublished, "region_code"]) == {"GM0193", "GM0642"}  # Zwolle, Zwijndrecht
    assert set(b.loc[differ & ~unpublished, "missing_reason"]) <= {
        MISSING["not_found"],  # a table the stand-in does not have
        MISSING["topic_missing"],  # ages: the 03759ned capture holds totals only
    }

    # what was asked: every data request filtered and selected, never a whole table
    data_requests = [r for r in requests if r.set_name in ("TypedDataSet", "Observations")]
    assert data_requests and all(
        "$filter" in r.params or r.params.get("$skip")
        for r in requests
        if r.set_name in ("TypedDataSet", "Observations")
    )
    assert all("$select" in r.params for r in data_requests)
    first_pages = [r for r in data_requests if not r.params.get("$skip")]
    assert all("startswith(" in r.params["$filter"] for r in first_pages)  # region levels

    # how much: rows as an independent reading of the needs says, pages and requests to match
    want = _expected(mirror_tables, mirror, needs, v4_only=v4_only)
    assert rows_sent == sum(want.values())
    whole = sum(len(t.data) * (len(t.topics) if v4_only else 1) for t, _ in mirror_tables.values())
    assert rows_sent < whole
    pages = sum(max(1, math.ceil(n / PAGE)) for n in want.values())
    assert len(data_requests) == pages
    meta = 0  # metadata requests: per table the service asked first, then its fallback
    by_id = {t.lower(): (table, entry) for t, (table, entry) in mirror_tables.items()}
    for table_id in needs:
        table, entry = by_id.get(table_id.lower(), (None, None))
        v4_served = entry is not None and (entry["reader"] == "odata-v4" or v4_only)
        v3_served = entry is not None and not v4_served
        order = ["v4", "v3"] if cat.table(table_id).api == "v4" else ["v3", "v4"]
        for api in order:
            if (api == "v4" and v4_served) or (api == "v3" and v3_served):
                # v3: TableInfos, DataProperties; v4: Properties, Dimensions, MeasureCodes;
                # then one code list per dimension
                meta += (3 if api == "v4" else 2) + len(table.dimension_types)
                break
            meta += 1  # TableInfos (v3) or Properties (v4) answered 404
    assert sum(counts.values()) == meta + pages
    print(
        f"\nonline panel ({'v4' if v4_only else 'v3'}): {sum(counts.values())} requests, "
        f"{rows_sent} rows of {whole} in the whole tables"
    )


# =============================================================================================
# Requests sized to the need
# =============================================================================================
def _codes(pairs) -> pd.DataFrame:
    return pd.DataFrame(pairs, columns=["key", "title"])


DIMS = {
    "Geslacht": "Dimension",
    "Leeftijd": "Dimension",
    "Marges": "Dimension",
    "RegioS": "GeoDimension",
    "Perioden": "TimeDimension",
}
CODES = {
    "Geslacht": _codes([("T001038", "Totaal mannen en vrouwen"), ("3000", "Mannen")]),
    "Leeftijd": _codes(
        [("10000", "Totaal"), ("11500", "15 jaar"), ("11600", "16 jaar"), ("11700", "17 jaar")]
    ),
    "Marges": _codes([("MW00000", "Waarde"), ("MOG0095", "Ondergrens"), ("MBG0095", "Bovengr")]),
    "RegioS": _codes(
        [
            ("NL01", "Nederland"),
            ("PV20", "Groningen"),
            ("GM1969", "W"),
            ("WK196900", "wijk"),
            ("LD01", "Noord"),
        ]
    ),
    "Perioden": _codes([("2018JJ00", "2018"), ("2019JJ00", "2019"), ("2020JJ00", "2020")]),
}
TOPICS = pd.DataFrame({"key": ["Bevolking_1", "Aandeel_2", "Aandeel_3"]})


def test_plan_of_a_need_selects_totals_titles_prefixes_and_years():
    need = Need(
        topics=("Bevolking", "Onbekend"),
        select={"Leeftijd": ("15 jaar", "16 jaar", TOTAL)},
        whole=("Marges",),
        region_prefixes=("GM", "NL", "PV"),
        since=2019,
    )
    result = plan({"need": need.as_query()}, "T", TOPICS, DIMS, CODES)
    assert result.topics == ["Bevolking_1"]  # an unknown stem is skipped, not an error
    assert result.codes == {"Geslacht": ["T001038"], "Leeftijd": ["11500", "11600", "10000"]}
    assert result.prefixes == {"RegioS": ["GM", "NL", "PV"]}
    assert result.since == {"Perioden": "2019"}
    assert result.rows == 1 * 3 * 3 * 3 * 2  # 3 ages, Marges whole, 3 regions, 2 years
    every_age = Need(
        topics=("Bevolking",), select={"Leeftijd": ("15 jaar", "16 jaar", "17 jaar", TOTAL)}
    )
    assert "Leeftijd" not in plan({"need": every_age.as_query()}, "T", TOPICS, DIMS, CODES).codes
    text = filter_text(result, lambda dim, code: quote(code.ljust(7)))
    assert "(Geslacht eq 'T001038')" in text and "(Leeftijd eq '11500  ')" in text
    assert "(startswith(RegioS,'GM') or startswith(RegioS,'NL') or startswith(RegioS,'PV'))" in text
    assert "(Perioden ge '2019')" in text
    keep = parse_filter(text)  # the stand-in understands it
    assert keep(
        {"Geslacht": "T001038", "Leeftijd": "10000  ", "RegioS": "GM1969", "Perioden": "2020JJ00"}
    )
    assert not keep(
        {"Geslacht": "T001038", "Leeftijd": "10000  ", "RegioS": "WK196900", "Perioden": "2020JJ00"}
    )


def test_ambiguous_stem_brings_every_candidate_and_no_topic_is_an_error():
    topics = pd.DataFrame({"key": ["AfstandTotSchool_56", "AfstandTotSchool_60", "X_1"]})
    result = plan(
        {"need": Need(topics=("AfstandTotSchool",)).as_query()},
        "T",
        topics,
        {"RegioS": "GeoDimension"},
        {"RegioS": CODES["RegioS"]},
    )
    assert result.topics == ["AfstandTotSchool_56", "AfstandTotSchool_60"]
    full = plan(
        {"need": Need(topics=("AfstandTotSchool_60",)).as_query()},
        "T",
        topics,
        {"RegioS": "GeoDimension"},
        {"RegioS": CODES["RegioS"]},
    )
    assert full.topics == ["AfstandTotSchool_60"]
    from westerkwartier.errors import TopicNotFound

    with pytest.raises(TopicNotFound, match="T heeft geen van de onderwerpen Weg"):
        plan(
            {"need": Need(topics=("Weg",)).as_query()},
            "T",
            topics,
            {"RegioS": "GeoDimension"},
            {"RegioS": CODES["RegioS"]},
        )


def test_catalogue_needs_cover_every_operand():
    cat = load_catalogue()
    needs = catalogue_needs.table_needs(cat)
    cohort = needs["03759ned"]
    ages = [f"{a} jaar" for a in range(15, 35)]
    assert set(cohort.select["Leeftijd"]) == set(ages) | {TOTAL}  # other indicators: total
    assert cohort.since == 2010 - 10  # cohort retention looks back ten years
    assert needs["85563NED"].whole == ("Marges",)
    assert needs["85383NED"].whole == ("StatusCijfer",)
    assert set(needs["84547NED"].select["Leeftijd31December"]) == {
        "15 tot 20 jaar",
        "20 tot 25 jaar",
        "25 tot 30 jaar",
        "30 tot 40 jaar",
    }
    assert all(n.region_prefixes == ("CR", "GM", "NL", "PV") for n in needs.values())
    later = catalogue_needs.table_needs(cat, first_year=2020)
    assert later["03759ned"].since == 2010 and later["81064ned"].since == 2020


@pytest.fixture
def standin(standin_server, monkeypatch):
    """The stand-in with CBS-like pages (the shared fixture uses pages of 7 rows)."""
    monkeypatch.setattr(standin_server, "page_size", PAGE)
    return standin_server


def test_row_limit_stops_before_any_data_is_asked(standin, monkeypatch, mirror_tables):
    standin_server = standin
    table, _ = mirror_tables["85644NED"]
    standin_server.add_table(table)
    monkeypatch.setattr(settings, "max_rows", 100)
    need = catalogue_needs.table_needs()["85644NED"]
    with pytest.raises(CbsRequestTooLarge) as info:
        cbs.fetch_table("85644NED", need=need)
    message = str(info.value)
    assert "85644NED" in message and "grens van 100" in message
    assert "WESTERKWARTIER_MAX_ROWS" in message and "WESTERKWARTIER_FIRST_YEAR" in message
    assert standin_server.counts["TypedDataSet"] == 0  # estimated from the code lists only
    monkeypatch.setattr(settings, "max_rows", 1_000_000)
    assert len(cbs.fetch_table("85644NED", need=need).data) > 100


def test_panel_reports_a_too_large_table_as_such(standin_server, monkeypatch, mirror_tables):
    table, _ = mirror_tables["81064ned"]
    standin_server.add_table(table)
    monkeypatch.setattr(settings, "max_rows", 10)
    out = panel(regions=["GM1969"], indicators=["betalingsachterstand_zorgpremie"])
    assert out["value"].isna().all()
    assert set(out["missing_reason"]) == {MISSING["too_large"]}


def test_selection_on_a_dimension_the_table_lacks_is_an_error():
    table = CbsTable(
        "60048ned",
        pd.DataFrame({"RegioS": ["GM1969"], "Perioden": ["2023JJ00"], "Gevestigd_2": [5.0]}),
        pd.DataFrame({"key": ["Gevestigd_2"], "title": ["G"], "unit": ["aantal"], "decimals": [0]}),
        {"RegioS": CODES["RegioS"], "Perioden": CODES["Perioden"]},
        {"RegioS": "GeoDimension", "Perioden": "TimeDimension"},
    )
    operand = Operand(
        "gevestigd", ("60048ned",), topics=("Gevestigd",), select={"Leeftijd": ("15 tot 20 jaar",)}
    )
    with pytest.raises(CbsSchemaError, match="60048ned heeft geen dimensie 'Leeftijd'.*RegioS"):
        extract(table, operand)
    total = Operand(
        "gevestigd",
        ("60048ned",),
        topics=("Gevestigd",),
        select={"SBI": ("A-U Alle economische activiteiten",)},
    )
    assert extract(table, total)["value"].tolist() == [5.0]  # no SBI dimension: the total


# =============================================================================================
# OData v4
# =============================================================================================
def test_v4_client_pages_and_resumes_on_the_real_capture(mirror, standin, waits):
    standin_server = standin
    standin_server.add_v4_capture(mirror / "odata-v4" / "03759ned")
    standin_server.fault("500", set_name="Observations", page=3, times=1)
    need = catalogue_needs.table_needs()["03759ned"]
    table = cbs.fetch_table("03759ned", need=need, api="v4")
    assert table.info["api"] == "odata-v4" and table.source == "cbs"
    assert list(table.topics["key"]) == ["BevolkingOp1Januari_1"]  # the v3 key: rank, not Index
    assert table.topic_info("BevolkingOp1Januari")["unit"] == "aantal"
    assert table.period_status.set_index("key")["status"]["2024JJ00"] == "definitief"
    row = table.data.set_index(["RegioS", "Perioden"]).loc[("GM1969", "2024JJ00")]
    assert row["BevolkingOp1Januari_1"] == 64896  # CBS: Westerkwartier on 1 January 2024
    pages = [r.page for r in standin_server.requests if r.set_name == "Observations"]
    assert pages[:4] == [1, 2, 3, 3] and len(pages) == len(set(pages)) + 1  # page 3 alone
    query = standin_server.requests[-1].params["$filter"]
    assert "(Measure eq 'M000352')" in query and "(Geslacht eq 'T001038')" in query
    assert "(Leeftijd eq '11500')" in query  # unpadded on v4
    assert waits == [0.0]
    whole = odata4.read_v4_capture(mirror / "odata-v4" / "03759ned")
    assert len(table.data) == len(whole.data)  # the capture holds totals only: all of it


def test_v4_is_the_fallback_of_v3_and_v3_of_v4(mirror, mirror_tables, standin, monkeypatch):
    standin.add_v4_capture(mirror / "odata-v4" / "83625NED")
    table = cbs.fetch_table("83625NED", regions=["GM1969"], api="v3")  # v3 answers 404
    assert table.info["api"] == "odata-v4" and set(table.data["RegioS"]) == {"GM1969"}
    assert standin.counts["TableInfos"] == 1 and standin.counts["Properties"] == 1
    woz, _ = mirror_tables["85036NED"]
    standin.add_table(woz, v3=False, v4=True)
    standin.fault("503", set_name="Properties", times=None)  # v4 down for good
    with CbsStandin(page_size=PAGE) as v3_host:  # the v3 feed lives on another host
        v3_host.add_table(woz)
        monkeypatch.setattr(settings, "cbs_host", v3_host.host)
        again = cbs.fetch_table("85036NED", regions=["GM1969"], api="v4")
        assert again.info["api"] == "odata-v3" and v3_host.counts["TypedDataSet"] == 1
        assert standin.counts["Properties"] == 1 + 3  # v4: three attempts, then v3 took over
        assert transport.unreachable(standin.host) is not None
        with pytest.raises(CbsTableNotFound, match="99999NED bestaat niet bij CBS"):
            cbs.fetch_table("99999NED", api="v3")  # v4, its fallback, counts as down


def test_v4_keys_follow_v3_stems_where_titles_differ():
    frame = odata4.topics_frame(
        [
            {"Identifier": "M1", "Index": 4, "Title": "Aantal inwoners"},
            {"Identifier": "M2", "Index": 9, "Title": "15 tot 25 jaar"},
            {
                "Identifier": "M3",
                "Index": 12,
                "Title": "Emigratie inclusief administratieve correcties",
            },
        ]
    )
    aligned = odata4.align_keys(
        frame, ["AantalInwoners", "k_15Tot25Jaar", "EmigratieInclusiefAdministratieveC"]
    )
    assert list(aligned["key"]) == [
        "AantalInwoners_1",
        "k_15Tot25Jaar_2",
        "EmigratieInclusiefAdministratieveC_3",
    ]


# =============================================================================================
# An unreachable CBS
# =============================================================================================
def _dead_host() -> str:
    return _dead_hosts(1)[0]


def _dead_hosts(count: int) -> list[str]:
    """Loopback addresses where nothing listens, all different.

    The probes stay bound until every port is chosen: a port given back can be handed out
    again at once, and two "dead hosts" on one port are one host to the transport.
    """
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [f"127.0.0.1:{probe.getsockname()[1]}" for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def test_one_quick_check_before_a_batch(standin_server, monkeypatch):
    assert batch.check_cbs_once() is True and standin_server.total == 1
    dead = _dead_host()
    monkeypatch.setattr(settings, "cbs_host", dead)
    monkeypatch.setattr(settings, "odata4_host", dead)
    transport.reset()
    assert batch.check_cbs_once() is False
    assert transport.unreachable(dead) is not None
    state = batch.data_state(False)
    env = kernel_env(state.offline) | batch.cbs_outcome_env(state)
    assert env["WESTERKWARTIER_CBS_UNREACHABLE"] == "1" and env["WESTERKWARTIER_OFFLINE"] == "1"
    assert "niet bereikbaar" in state.notice
    assert batch.cbs_outcome_env(batch.data_state(True))["WESTERKWARTIER_CBS_UNREACHABLE"] == "0"


def test_unreachable_cbs_costs_one_attempt_for_a_whole_panel(monkeypatch):
    v3, v4 = _dead_hosts(2)  # two hosts: one attempt each
    monkeypatch.setattr(settings, "cbs_host", v3)
    monkeypatch.setattr(settings, "odata4_host", v4)
    attempts = []
    real = transport.requests.get

    def counting(*args, **kwargs):
        attempts.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(transport.requests, "get", counting)
    monkeypatch.setattr(transport.requests.Session, "get", lambda self, *a, **k: counting(*a, **k))
    with pytest.warns(data.SnapshotFallbackWarning) as shown:
        out = panel(regions=["GM1969", "NL01"])
    assert len(attempts) == 2  # one per host (v3, then its v4 fallback), then none at all
    assert len([w for w in shown if issubclass(w.category, data.SnapshotFallbackWarning)]) == 1
    assert out["value"].notna().sum() > 500  # the snapshot carried the panel
    assert MISSING["unavailable"] in set(out["missing_reason"])  # online-only tables say why


def test_a_panel_built_from_copies_is_not_kept_on_disk(monkeypatch):
    from westerkwartier.indicators import panel_cache

    monkeypatch.setattr(settings, "cbs_host", _dead_host())
    monkeypatch.setattr(settings, "odata4_host", _dead_host())
    monkeypatch.setattr(settings, "panel_cache", True)
    panel_cache.clear_panel_cache()
    with pytest.warns(data.SnapshotFallbackWarning):
        out = panel_cache.national_panel(["werkloosheid"])
    assert out["value"].notna().any()  # the snapshot answered
    folder = Path(settings.cache_dir) / panel_cache.PANEL_DIR
    assert not list(folder.glob("*/index.json"))  # once CBS answers, the panel is built anew
    # what is derived from that panel later in the same process is not kept either, even for
    # an indicator whose own tables answered from the cache
    panel_cache.write_bundle("index", "proef", {"x": pd.DataFrame({"a": [1]})}, {})
    assert not (Path(settings.cache_dir) / "index").exists()
    panel_cache.clear_panel_cache()
