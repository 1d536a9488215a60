"""Column helpers every layer may use: label columns (``labels``), float views with null masks
(``floats``), row takes (``take``), string bytes and 64-bit keys (``strbytes``), written zeros
(``zeros``), row groups per value (``groups``) and the per-suite memo of derived values (``memo``).

They know nothing of policies, suites or runs: Arrow and numpy in, Arrow and numpy out.
"""
