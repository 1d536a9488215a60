"""Developer tasks. ``nox -s tests`` is what CI runs; ``nox -s demo`` is the README's first command."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests"]


@nox.session
def tests(session: nox.Session) -> None:
    """The whole default test suite (under 15 minutes on 2 cores)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff and mypy --strict."""
    session.install("-e", ".[lint]")
    session.run("ruff", "check", "src", "tests", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "noxfile.py")
    session.run("mypy", "src")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks (figures go to docs/performance.md): `routegate run` vs a plain pyarrow read."""
    session.install("-e", ".")
    sizes = session.posargs or ["1000000"]
    session.run("python", "benchmarks/bench_run.py", "--sizes", *sizes)


@nox.session
def demo(session: nox.Session) -> None:
    """Validate the bundled policies and suites and replay the baseline over the bundled suites."""
    session.install("-e", ".")
    session.run("routegate", "validate", "policies", "eval_suites")
