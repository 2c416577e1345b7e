"""Pipeline: turning notebooks into published reports.

The papermill runner with parameter checks (:mod:`.notebook`), one report as a job, the
machinery both commands share (:mod:`.jobs`), reports on request (:mod:`.render`), the batch
manifest (:mod:`.manifest`), scheduled batch runs (:mod:`.batch`) and the one index writer
(:mod:`.index_page`).
"""
