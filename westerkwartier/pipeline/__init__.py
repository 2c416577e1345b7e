"""Pipeline: turning notebooks into published reports.

The papermill runner with parameter checks (:mod:`.notebook`), rendering reports
(:mod:`.render`), the batch manifest (:mod:`.manifest`), scheduled batch runs (:mod:`.batch`)
and the index page (:mod:`.index_page`).
"""
