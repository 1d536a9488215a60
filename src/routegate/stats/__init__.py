"""Steps 5-6, measure and compare: figures of a run and of a pair of runs.

``intervals`` (confidence intervals, paired deltas), ``clustered`` (paired deltas over clusters of
related requests), ``multiplicity`` (Holm, Benjamini-Hochberg), ``power`` (what suites can resolve),
``measure`` (per tier, slice and suite), ``summary`` (``RunResult`` and summary.json), ``compare``
(paired deltas of two runs), the literature metrics (``literature``, ``apgr``, ``aiq``, ``outcomes``),
``frontier`` and ``pareto`` (single-model points), ``resilience`` (a drill's figures).
"""
