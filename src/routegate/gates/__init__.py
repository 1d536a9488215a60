"""Step 7, gate: the gates file (``spec``), every gate over a comparison (``evaluate``), the privacy
gate (``privacy``), the drills' gates (``resilience``), and the typed results (``result``:
``GateResult``, ``Verdict``; ``outcome``: ``GateOutcome``). docs/gates.md explains each gate.
"""
