"""westerkwartier: a regional talent and vitality monitor built on CBS open data.

The package pulls CBS (Statistics Netherlands) open data, keeps it in a local cache and an
offline snapshot, and turns it into indicators and Dutch reports for any municipality. The
stages live in their own packages and import only downward: ``sources`` (CBS clients, cache,
snapshot, regions, geometry) -> ``indicators`` (catalogue, panel) -> ``analysis`` (comparison,
peers, indices, ambitions) -> ``reporting`` (findings, charts, HTML) -> ``pipeline`` (notebook
runner, batch) -> ``cli``.

For analysts the top level offers :func:`gemeente`, :func:`indicatoren`, :func:`panel`,
:func:`compare`, :func:`kaart`, :func:`get_table` and :func:`wijken`.

Examples
--------
>>> import westerkwartier as wk
>>> wk.gemeente("westerkwartier").code
'GM1969'
"""

__version__ = "0.2.0"

from westerkwartier import _legacy, errors, settings  # noqa: E402
from westerkwartier.api import (  # noqa: E402
    compare,
    gemeente,
    get_table,
    indicatoren,
    kaart,
    panel,
    wijken,
)
from westerkwartier.sources.table import CbsTable  # noqa: E402

_legacy.install()

__all__ = [
    "CbsTable",
    "__version__",
    "compare",
    "errors",
    "gemeente",
    "get_table",
    "indicatoren",
    "kaart",
    "panel",
    "settings",
    "wijken",
]
