"""Steps 2-4, plan, replay and score: one policy over one suite, as columns.

``plan`` (rules -> initial tier per request), ``detection`` (PII labels the plan reads),
``replay`` with ``chains``, ``attempts`` and ``result`` (the batch attempt loop: fallbacks and
escalations, asking a provider for each batch), ``traces`` (scores and the traces table),
``run`` (``replay_suite``: the three together) and ``coverage`` (which recordings a policy
could need). The provider (``routegate.providers``) is the only I/O seam.
"""
