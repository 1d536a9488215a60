"""Step 1, load: every input from disk (or ``git:REF:path``), validated, frozen, hashed.

``sources`` (paths, git, folder confinement), ``yamlsource`` (safe YAML with positions),
``schema`` (pydantic errors at ``file:line:col``), ``catalog`` and ``policy`` (policy files and
their model catalog), ``manifest``, ``tables``, ``checks``, ``recordings`` and ``suite`` (eval
suites), ``validate`` (``routegate validate``). Every problem is an ``InputError`` naming the
file, line and column, the field and what is allowed.
"""
