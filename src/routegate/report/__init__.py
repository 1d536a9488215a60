"""The reports: report.html (``report.html``), summary.md (``run_markdown``, ``gate_markdown``,
``resilience_markdown``), junit.xml (``junit``) and ``routegate explain`` (``explain``).

They format results already computed, every number through :mod:`routegate.units`, and import
no engine.
"""
