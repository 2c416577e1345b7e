"""Configuration files of the monitor: readable TOML beside this module.

Every file the package reads as configuration lives in this folder: the indicator catalogue
(``indicators.toml``), the report catalogue (``rapporten.toml``), the composite indices
(``indices.toml``), peers (``peers.toml``), municipal mergers (``herindelingen.toml``,
``merger_shares.toml``), the units of exported tables (``export_units.toml``) and what the
offline snapshot is built from (``snapshot.toml``).
"""

from __future__ import annotations

from pathlib import Path

#: The folder holding the configuration files.
CONFIG_DIR: Path = Path(__file__).resolve().parent


def config_file(name: str) -> Path:
    """Return the path of a configuration file of the package.

    Examples
    --------
    >>> config_file("indicators.toml").name
    'indicators.toml'
    """
    return CONFIG_DIR / name
