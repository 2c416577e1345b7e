"""Reader for captured CBS OData v4 responses (``datasets.cbs.nl``).

A capture folder holds ``properties.json``, ``dimensions.json``, ``measure-codes.json``,
``codes-<Dimension>.json`` and ``observations-page-N.json`` (rows ``Id, Measure,
ValueAttribute, Value, StringValue, <dimensions>``). The reader turns it into the same
:class:`~westerkwartier.table.CbsTable` as the v3 client: one column per measure.

Measures are keyed the way OData v3 keys topics: the title in CamelCase plus ``_<index>``
(``Bevolking op 1 januari`` -> ``BevolkingOp1Januari_5``), so catalogue entries find them by the
same stem online and offline. The v4 measure code is kept in the topics' ``measure`` column.
``ValueAttribute`` ``Impossible`` (CBS has no figure) becomes NaN, never zero.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import pandas as pd

from westerkwartier.errors import ExportFormatError
from westerkwartier.sources.table import CbsTable

_STATUS = {
    "definitief": "definitief",
    "voorlopig": "voorlopig",
    "nader voorlopig": "nader voorlopig",
}


def camel_key(title: str) -> str:
    """Turn a CBS title into an OData-v3-style key stem.

    Examples
    --------
    >>> camel_key("Bevolking op 1 januari")
    'BevolkingOp1Januari'
    """
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.findall(r"[A-Za-z0-9]+", ascii_title)
    return "".join(w[:1].upper() + w[1:] for w in words)


def _read(folder: Path, name: str) -> Any:
    path = folder / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ExportFormatError(
            f"{path.name} ontbreekt in de OData-v4-opname {folder.name}/; "
            "een opname bevat properties.json, dimensions.json, measure-codes.json en "
            "observations-page-N.json."
        ) from err
    except json.JSONDecodeError as err:
        raise ExportFormatError(f"{path.name} in {folder.name}/ is geen geldige JSON.") from err


def read_v4_capture(folder: Path) -> CbsTable:
    """Read an OData v4 capture folder into a :class:`CbsTable`.

    Parameters
    ----------
    folder : Path
        Folder with the capture files (see module docstring).

    Raises
    ------
    ExportFormatError
        If a required file is missing or not valid JSON.
    """
    folder = Path(folder)
    props = _read(folder, "properties.json")
    dims = _read(folder, "dimensions.json")["value"]
    measures = pd.DataFrame(_read(folder, "measure-codes.json")["value"])
    index = _read(folder, "index.json") if (folder / "index.json").is_file() else {}
    pages = index.get("observationPages") or sorted(
        p.name for p in folder.glob("observations-page-*.json")
    )
    rows: list[dict[str, Any]] = []
    for page in pages:
        rows.extend(_read(folder, page)["value"])
    obs = pd.DataFrame(rows)

    measures["key"] = [
        f"{camel_key(t)}_{i}" for t, i in zip(measures["Title"], measures["Index"], strict=True)
    ]
    topics = pd.DataFrame(
        {
            "key": measures["key"],
            "title": measures["Title"].str.strip(),
            "unit": measures["Unit"],
            "decimals": measures["Decimals"],
            "measure": measures["Identifier"],
        }
    )
    dim_names = [d["Identifier"] for d in dims]
    dimension_types = {d["Identifier"]: d.get("Kind", "Dimension") for d in dims}
    dimensions: dict[str, pd.DataFrame] = {}
    for name in dim_names:
        codes = pd.DataFrame(_read(folder, f"codes-{name}.json")["value"])
        frame = pd.DataFrame({"key": codes["Identifier"].str.strip(), "title": codes["Title"]})
        if "Status" in codes:
            frame["status"] = codes["Status"].str.lower().map(_STATUS).fillna("voorlopig")
        dimensions[name] = frame

    values = obs["Value"].where(obs["ValueAttribute"] != "Impossible")
    obs = obs.assign(Value=pd.to_numeric(values, errors="coerce"))
    key_of = dict(zip(measures["Identifier"], measures["key"], strict=True))
    obs["Measure"] = obs["Measure"].map(key_of)
    data = obs.pivot_table(
        index=dim_names, columns="Measure", values="Value", aggfunc="first", dropna=False
    )
    data = data.reindex(columns=list(topics["key"])).reset_index()
    data.columns.name = None
    data = data.dropna(subset=list(topics["key"]), how="all").sort_values(dim_names)

    info = {
        "title": props.get("Title"),
        "identifier": props.get("Identifier"),
        "modified": props.get("Modified"),
        "output_status": props.get("Status"),
        "captured_at": index.get("capturedAt"),
        "slice": index.get("sliceFilter"),
        "api": "odata-v4",
    }
    return CbsTable(
        table_id=str(props.get("Identifier") or folder.name),
        data=data.reset_index(drop=True),
        topics=topics,
        dimensions=dimensions,
        dimension_types=dimension_types,
        info=info,
        source="odata-v4",
    )
