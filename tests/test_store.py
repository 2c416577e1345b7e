import numpy as np
import pandas as pd
import pytest

from westerkwartier.errors import DataIntegrityError
from westerkwartier.sources import store
from westerkwartier.sources.table import CbsTable


def _table() -> CbsTable:
    data = pd.DataFrame(
        {
            "RegioS": ["GM1969", "PV20", "NL01"],
            "Perioden": ["2024JJ00"] * 3,
            "GemiddeldeWOZWaardeVanWoningen_1": [314.0, np.nan, 400.0],
        }
    )
    return CbsTable(
        table_id="85036NED",
        data=data,
        topics=pd.DataFrame(
            [
                {
                    "key": "GemiddeldeWOZWaardeVanWoningen_1",
                    "title": "WOZ",
                    "unit": "1 000 euro",
                    "decimals": 0,
                }
            ]
        ),
        dimensions={
            "RegioS": pd.DataFrame(
                {
                    "key": ["GM1969", "PV20", "NL01"],
                    "title": ["Westerkwartier", "Groningen (PV)", "Nederland"],
                }
            ),
            "Perioden": pd.DataFrame(
                {"key": ["2024JJ00"], "title": ["2024"], "status": ["voorlopig"]}
            ),
        },
        dimension_types={"RegioS": "GeoDimension", "Perioden": "TimeDimension"},
        info={"title": "Gemiddelde WOZ-waarde", "modified": "2025-01-01"},
    )


def test_roundtrip_keeps_values_missing_and_metadata(tmp_path):
    table = _table()
    store.write_table(table, tmp_path)
    back = store.read_table(tmp_path, "85036NED")
    pd.testing.assert_frame_equal(back.data, table.data, check_dtype=False)
    assert np.isnan(back.data.iloc[1, 2])
    assert back.topic("GemiddeldeWOZWaardeVanWoningen") == "GemiddeldeWOZWaardeVanWoningen_1"
    assert back.topic_info("GemiddeldeWOZWaardeVanWoningen")["unit"] == "1 000 euro"
    assert list(back.period_status["status"]) == ["voorlopig"]
    assert back.region_dimension == "RegioS"


def test_same_table_gives_identical_bytes(tmp_path):
    store.write_table(_table(), tmp_path / "a")
    store.write_table(_table(), tmp_path / "b")
    for suffix in ("parquet", "json"):
        a = (tmp_path / "a" / f"85036NED.{suffix}").read_bytes()
        b = (tmp_path / "b" / f"85036NED.{suffix}").read_bytes()
        assert a == b


def test_corrupted_data_is_detected(tmp_path):
    store.write_table(_table(), tmp_path)
    path = tmp_path / "85036NED.parquet"
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(DataIntegrityError, match="checksum"):
        store.read_table(tmp_path, "85036NED")


def test_atomic_write_leaves_no_temp_files(tmp_path):
    store.write_bytes_atomic(tmp_path / "x.bin", b"abc")
    store.write_bytes_atomic(tmp_path / "x.bin", b"def")
    assert (tmp_path / "x.bin").read_bytes() == b"def"
    assert [p.name for p in tmp_path.iterdir()] == ["x.bin"]


def test_metadata_columns_come_back_in_standard_order(tmp_path):
    store.write_table(_table(), tmp_path)
    back = store.read_table(tmp_path, "85036NED")
    assert list(back.topics.columns) == ["key", "title", "unit", "decimals"]
    assert list(back.dimensions["Perioden"].columns) == ["key", "title", "status"]
