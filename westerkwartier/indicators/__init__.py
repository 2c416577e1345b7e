"""Indicators: from CBS tables to one tidy panel (region x year x indicator).

The catalogue (:mod:`.catalogue`, ``config/indicators.toml``) says what each indicator is;
:mod:`.extraction` takes its operands out of the tables, :mod:`.mergers` rebuilds merged
municipalities, :mod:`.compute` evaluates the formula, :mod:`.precision` says how precise a
value is, :mod:`.panel` assembles the panel and its benchmarks, :mod:`.needs` says what the
panel needs from each CBS table (so CBS is asked for slices only), and :mod:`.panel_cache`
keeps the national panel per data version.
"""
