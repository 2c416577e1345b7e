"""westerkwartier: a regional talent and vitality monitor built on CBS open data.

The package pulls CBS (Statistics Netherlands) open data, keeps it in a local cache and an
offline snapshot, and turns it into indicators and Dutch reports for any municipality.

Examples
--------
>>> import westerkwartier as wk
>>> wk.regions.resolve("westerkwartier").code  # doctest: +SKIP
'GM1969'
"""

from westerkwartier import _legacy, errors, settings
from westerkwartier.sources.table import CbsTable

_legacy.install()

__version__ = "0.1.0"

__all__ = ["CbsTable", "errors", "settings", "wijken", "__version__"]


def __getattr__(name: str):
    """Load the analysts' functions on first use (``westerkwartier.wijken``)."""
    if name == "wijken":
        from westerkwartier.indicators.wijken import wijken

        return wijken
    raise AttributeError(f"module 'westerkwartier' has no attribute {name!r}")
