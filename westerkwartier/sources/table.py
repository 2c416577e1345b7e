"""The table object every data source produces.

A :class:`CbsTable` looks the same whether it came from the live CBS API, from the cache, from a
saved ``cbsodata.get_data()`` export, from a StatLine download or from the offline snapshot, so
nothing downstream can tell where a table came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from westerkwartier.errors import AmbiguousTopic, CbsSchemaError, TopicNotFound

_SUFFIX = re.compile(r"_\d+$")

#: Columns of :attr:`CbsTable.topics`.
TOPIC_COLUMNS = ["key", "title", "unit", "decimals"]

#: Columns of each frame in :attr:`CbsTable.dimensions` (periods add ``status``).
DIMENSION_COLUMNS = ["key", "title"]


def stem(key: str) -> str:
    """Return the stem of a CBS topic key: the key without its numeric suffix.

    CBS numbers topic keys per table version (``AantalInwoners_5``); the number shifts
    between versions, the stem does not.

    Examples
    --------
    >>> stem("GemiddeldeWOZWaardeVanWoningen_1")
    'GemiddeldeWOZWaardeVanWoningen'
    """
    return _SUFFIX.sub("", key)


@dataclass
class CbsTable:
    """One CBS table (or a filtered part of it) with its metadata.

    Attributes
    ----------
    table_id : str
        CBS identifier, e.g. ``85036NED``.
    data : pandas.DataFrame
        One row per observation: a column per dimension holding **codes** with padding
        stripped (``GM1969``, ``2023JJ00``), then a column per topic keyed by its CBS key
        (``GemiddeldeWOZWaardeVanWoningen_1``). Missing values are NaN.
    topics : pandas.DataFrame
        Topic definitions from ``DataProperties``: ``key``, ``title``, ``unit``, ``decimals``.
    dimensions : dict of str to pandas.DataFrame
        For each dimension its code list (``key``, ``title``; ``Perioden`` adds ``status``).
    dimension_types : dict of str to str
        ``GeoDimension``, ``TimeDimension`` or ``Dimension`` per dimension column.
    info : dict
        ``TableInfos``: ``title``, ``modified``, ``output_status`` and more.
    source : str
        Where the table came from: ``cbs`` (live API), ``cbsodata-export``, ``statline`` or
        ``snapshot``; kept for provenance only.
    complete_slices : dict of str to list of str or None
        ``None`` when the table is complete. For a truncated export, the dimension values of
        the slices that are complete (e.g. ``{"Persoonskenmerken": ["Totaal personen"]}``);
        :attr:`data` then holds only those rows.
    """

    table_id: str
    data: pd.DataFrame
    topics: pd.DataFrame
    dimensions: dict[str, pd.DataFrame]
    dimension_types: dict[str, str] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    source: str = "cbs"
    complete_slices: dict[str, list[str]] | None = None

    # -- topics -----------------------------------------------------------------------------
    def topic(self, key_stem: str) -> str:
        """Return the full key of the topic whose key has stem ``key_stem``.

        Parameters
        ----------
        key_stem : str
            Topic key without numeric suffix (``GemiddeldeWOZWaardeVanWoningen``). A full key
            with its number (``AfstandTotSchool_56``) is used as is: tables that repeat a stem
            for different topics need it.

        Raises
        ------
        TopicNotFound
            If no topic has that stem (or full key).
        AmbiguousTopic
            If more than one topic has that stem; the message lists the full keys.
        """
        keys = list(self.topics["key"])
        if key_stem in keys:
            return key_stem
        matches = [k for k in keys if stem(k) == key_stem]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            close = [k for k in keys if key_stem.lower()[:8] in k.lower()][:5]
            hint = f" Wel aanwezig: {', '.join(close)}." if close else ""
            raise TopicNotFound(
                f"Tabel {self.table_id} heeft geen onderwerp met sleutel {key_stem!r}.{hint} "
                "CBS heeft de tabel mogelijk gewijzigd; controleer de catalogus."
            )
        raise AmbiguousTopic(self.table_id, key_stem, matches)

    def topic_info(self, key_stem: str) -> dict[str, Any]:
        """Return the ``DataProperties`` row (key, title, unit, decimals) of a topic."""
        key = self.topic(key_stem)
        row = self.topics.loc[self.topics["key"] == key].iloc[0]
        return {c: row[c] for c in TOPIC_COLUMNS}

    # -- dimensions -------------------------------------------------------------------------
    @property
    def region_dimension(self) -> str | None:
        """Name of the geographic dimension (usually ``RegioS``), if any."""
        for name, kind in self.dimension_types.items():
            if kind == "GeoDimension":
                return name
        return None

    @property
    def period_dimension(self) -> str | None:
        """Name of the time dimension (usually ``Perioden``), if any."""
        for name, kind in self.dimension_types.items():
            if kind == "TimeDimension":
                return name
        return None

    def dimension_key(self, dimension: str, value: str) -> str:
        """Return the code of a dimension category given its code or its title.

        Raises
        ------
        CbsSchemaError
            If the dimension or the category does not exist in this table.
        """
        if dimension not in self.dimensions:
            raise CbsSchemaError(
                f"Tabel {self.table_id} heeft geen dimensie {dimension!r}; "
                f"wel: {', '.join(self.dimensions)}."
            )
        codes = self.dimensions[dimension]
        if value in set(codes["key"]):
            return value
        hit = codes.loc[codes["title"].str.strip().str.lower() == value.strip().lower(), "key"]
        if len(hit):
            return str(hit.iloc[0])
        raise CbsSchemaError(
            f"Tabel {self.table_id}: dimensie {dimension} kent {value!r} niet "
            f"(bekend: {', '.join(list(codes['title'].astype(str))[:8])} ...)."
        )

    def select(self, **selection: str) -> pd.DataFrame:
        """Return the rows whose dimension columns equal the given categories.

        Each keyword is a dimension name; its value a category code or title.

        Examples
        --------
        >>> from westerkwartier.sources.data import get_table
        >>> table = get_table("85036NED")  # offline: from the snapshot
        >>> table.select(RegioS="GM1969", Eigendom="Totaal", Perioden="2024JJ00")[
        ...     "GemiddeldeWOZWaardeVanWoningen_1"
        ... ].item()
        301.0
        """
        mask = pd.Series(True, index=self.data.index)
        for dimension, value in selection.items():
            key = self.dimension_key(dimension, value)
            mask &= self.data[dimension] == key
        return self.data.loc[mask]

    @property
    def period_status(self) -> pd.DataFrame:
        """Status (definitief / voorlopig / nader voorlopig) per period code."""
        dim = self.period_dimension
        if dim is None:
            return pd.DataFrame(columns=["key", "title", "status"])
        codes = self.dimensions[dim]
        if "status" not in codes:
            codes = codes.assign(status="definitief")
        return codes[["key", "title", "status"]]

    @property
    def title(self) -> str:
        """The table's title from ``TableInfos`` (or its id when unknown)."""
        return str(self.info.get("title") or self.table_id)

    def __repr__(self) -> str:
        return (
            f"CbsTable({self.table_id!r}, {self.title!r}, rows={len(self.data)}, "
            f"topics={len(self.topics)}, source={self.source!r})"
        )
