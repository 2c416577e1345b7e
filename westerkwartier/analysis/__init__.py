"""Analysis: what the panel says when compared.

Comparisons with benchmarks, significance and trends (:mod:`.comparison`), statistical peers
(:mod:`.peers`), composite indices with their uncertainty (:mod:`.composite`) and the partners'
ambitions (:mod:`.ambitions`). Pure computations on panels; no text, no HTML.
"""
