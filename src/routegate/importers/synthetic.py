"""A seeded synthetic suite of any size, for benchmarks (``nox -s bench``).

Attribute mixes follow what a production router sees: mostly summaries,
extractions, classifications and grounded Q&A, a few percent PII, a tenth
high-stakes, and four models from a fast tier to a self-hosted one. Every
column is built with numpy/Arrow in one pass; nothing loops per request.
Not for quality claims: the numbers are drawn, not measured.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from routegate.writer import write_parquet_atomic, write_text_atomic

TASKS = ("summarize", "extract", "classify", "grounded_qa", "code", "math")
TASK_SHARE = (0.30, 0.20, 0.15, 0.20, 0.08, 0.07)
STAKES_SHARE = {"low": 0.30, "normal": 0.60, "high": 0.10}
SLA_SHARE = {"interactive": 0.70, "batch": 0.30}
PII_SHARE = 0.03

# model: (quality mean, input latency ms, ms per output token, timeout rate, rate-limit rate, 5xx rate)
MODELS: dict[str, tuple[float, float, float, float, float, float]] = {
    "synth-fast": (0.72, 250.0, 8.0, 0.004, 0.010, 0.003),
    "synth-balanced": (0.80, 400.0, 15.0, 0.004, 0.008, 0.003),
    "synth-reasoning": (0.88, 900.0, 30.0, 0.006, 0.012, 0.004),
    "synth-private": (0.70, 300.0, 12.0, 0.003, 0.000, 0.002),
}

CHUNK_ROWS = 1_000_000
"""Requests whose prompt texts are built as one Arrow array (suites larger than this get several)."""

PROMPTS = (
    "Summarize the following support ticket for the on-call engineer: ",
    "Extract the invoice number, total and due date from this e-mail: ",
    "Classify the sentiment of this product review as positive, neutral or negative: ",
    "Using only the attached knowledge-base article, answer the customer's question: ",
    "Write a Python function that validates the payload described here: ",
    "Solve the word problem and give the final number: ",
)


def _choice(rng: np.random.Generator, n: int, labels: tuple[str, ...], shares: tuple[float, ...]) -> pa.DictionaryArray:
    codes = rng.choice(len(labels), size=n, p=np.asarray(shares) / np.sum(shares)).astype(np.int32)
    return pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(list(labels)))


def _filler(lengths: np.ndarray) -> pa.Array:
    """Strings of the given lengths cut from a repeated paragraph, built as one Arrow buffer."""
    paragraph = np.frombuffer(b"The customer reports that the export job fails after the upgrade. ", dtype=np.uint8)
    offsets = np.zeros(lengths.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    data = np.resize(paragraph, int(offsets[-1]))
    return pa.LargeStringArray.from_buffers(
        lengths.size, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data.tobytes())
    ).cast(pa.string())


def make_examples(n: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    ids = pc.binary_join_element_wise("r", pc.cast(pa.array(np.arange(n)), pa.string()), "")
    task = _choice(rng, n, TASKS, TASK_SHARE)
    body_len = rng.lognormal(5.5, 0.8, size=n).clip(20, 8000).astype(np.int64)
    prompt_prefix = pa.array(list(PROMPTS)).take(task.indices)
    # Texts are assembled CHUNK_ROWS requests at a time: one Arrow string array holds at most 2 GiB.
    chunks, lengths = [], []
    for start in range(0, n, CHUNK_ROWS):
        stop = min(n, start + CHUNK_ROWS)
        content = pc.binary_join_element_wise(
            prompt_prefix.slice(start, stop - start),
            ids.slice(start, stop - start),
            " ",
            _filler(body_len[start:stop]),
            "",
        )
        offsets = pa.array(np.arange(stop - start + 1, dtype=np.int32))
        role = pa.repeat(pa.scalar("user"), stop - start)
        chunks.append(
            pa.ListArray.from_arrays(offsets, pa.StructArray.from_arrays([role, content], names=["role", "content"]))
        )
        lengths.append(pc.utf8_length(content).to_numpy())
    messages = pa.chunked_array(chunks)
    input_tokens = np.ceil(np.concatenate(lengths) / 4).astype(np.int64)
    tags_offsets = np.zeros(n + 1, dtype=np.int32)
    long_input = input_tokens > 1500
    np.cumsum(long_input, out=tags_offsets[1:])
    tags = pa.ListArray.from_arrays(pa.array(tags_offsets), pa.repeat(pa.scalar("long_input"), int(long_input.sum())))
    return pa.table(
        {
            "id": ids,
            "messages": messages,
            "task_type": task.cast(pa.string()),
            "pii": pa.array(rng.random(n) < PII_SHARE),
            "stakes": _choice(rng, n, tuple(STAKES_SHARE), tuple(STAKES_SHARE.values())).cast(pa.string()),
            "sla": _choice(rng, n, tuple(SLA_SHARE), tuple(SLA_SHARE.values())).cast(pa.string()),
            "tags": tags,
            "reference": pa.nulls(n, pa.string()),
            "input_tokens": pa.array(input_tokens),
            "arrival_ms": pa.array(np.cumsum(rng.exponential(50.0, size=n))),
        }
    )


def make_recordings(examples: pa.Table, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed + 1)
    n = examples.num_rows
    input_tokens = examples.column("input_tokens").to_numpy()
    difficulty = rng.normal(0.0, 1.0, size=n)
    parts = []
    for model, (q_mean, base_ms, per_tok, p_to, p_rl, p_5xx) in MODELS.items():
        out_tok = rng.lognormal(4.5, 0.7, size=n).clip(1, 4000).astype(np.int64)
        u = rng.random(n)
        error = np.select(
            [u < p_to, u < p_to + p_rl, u < p_to + p_rl + p_5xx], ["timeout", "rate_limit", "server_error"], default=""
        )
        failed = error != ""
        latency = base_ms + per_tok * out_tok * rng.lognormal(0.0, 0.25, size=n)
        latency = np.where(error == "timeout", 30000.0, np.where(failed, base_ms * 0.2, latency))
        logit = np.log(q_mean / (1 - q_mean)) - 1.2 * difficulty + rng.normal(0, 0.5, size=n)
        p_good = 1 / (1 + np.exp(-logit))
        quality = (rng.random(n) < p_good).astype(np.float64)
        confidence = np.clip(p_good + rng.normal(0, 0.15, size=n), 0, 1)
        response = pc.binary_join_element_wise(
            pa.repeat(pa.scalar(f"[{model}] answer to "), n), examples.column("id").combine_chunks(), ""
        )
        parts.append(
            pa.table(
                {
                    "example_id": examples.column("id"),
                    "model": pa.repeat(pa.scalar(model), n),
                    "response": pc.if_else(pa.array(failed), pa.scalar(None, pa.string()), response),
                    "input_tokens": pa.array(np.where(failed & (error != "timeout"), 0, input_tokens)),
                    "output_tokens": pa.array(np.where(failed, 0, out_tok)),
                    "latency_ms": pa.array(latency),
                    "error": pa.array(error.astype(object), pa.string()),
                    "confidence": pa.array(np.where(failed, np.nan, confidence), from_pandas=True),
                    "quality": pa.array(np.where(failed, np.nan, quality), from_pandas=True),
                }
            )
        )
    return pa.concat_tables(parts)


CATALOG = {
    "version": "synthetic",
    "description": "Catalog of the synthetic benchmark models (prices are illustrative).",
    "providers": {"alpha": {}, "beta": {}, "gamma": {}, "selfhosted": {}},
    "models": {
        "synth-fast": {
            "provider": "alpha",
            "privacy": "external",
            "context_window": 32000,
            "price": {"input_per_1m": 0.5, "output_per_1m": 1.5, "source": "synthetic", "as_of": "2024-01-01"},
        },
        "synth-balanced": {
            "provider": "beta",
            "privacy": "external",
            "context_window": 128000,
            "price": {"input_per_1m": 3.0, "output_per_1m": 15.0, "source": "synthetic", "as_of": "2024-01-01"},
        },
        "synth-reasoning": {
            "provider": "gamma",
            "privacy": "external",
            "context_window": 128000,
            "price": {"input_per_1m": 10.0, "output_per_1m": 30.0, "source": "synthetic", "as_of": "2024-01-01"},
        },
        "synth-private": {
            "provider": "selfhosted",
            "privacy": "private",
            "context_window": 32000,
            "price": {"input_per_1m": 0.2, "output_per_1m": 0.2, "source": "synthetic", "as_of": "2024-01-01"},
        },
    },
}

POLICY = {
    "name": "bench",
    "version": "1.0.0",
    "owner": "benchmarks",
    "description": "Rules + cascade + cross-provider fallback over the synthetic models.",
    "tiers": {
        "fast": {"models": ["synth-fast", "synth-balanced"]},
        "balanced": {"models": ["synth-balanced", "synth-reasoning"]},
        "reasoning": {"models": ["synth-reasoning", "synth-balanced"]},
        "private": {"private": True, "models": ["synth-private"]},
    },
    "rules": [
        {"name": "pii-stays-home", "when": {"pii": True}, "tier": "private"},
        {"name": "code-and-math", "when": {"task_type": ["code", "math"]}, "tier": "reasoning"},
        {"name": "long-inputs", "when": {"tags_any": ["long_input"]}, "tier": "balanced"},
        {"name": "canary", "when": {"traffic": {"share": 0.02, "seed": 7}}, "tier": "balanced"},
    ],
    "default_tier": "fast",
    "escalation": {
        "steps": [
            {"from": "fast", "to": "balanced", "below_confidence": 0.55},
            {"from": "balanced", "to": "reasoning", "below_confidence": 0.45},
        ],
        "always_for_stakes": ["high"],
        "max_escalations": 2,
    },
    "fallback": {"on": ["timeout", "rate_limit", "server_error"]},
    "sla": {"interactive": {"latency_budget_ms": 20000}, "batch": {"latency_budget_ms": 120000}},
}


CANDIDATE = {
    **POLICY,
    "name": "bench-candidate",
    "version": "1.1.0",
    "description": "The bench policy with a stricter first escalation step (more traffic to balanced).",
    "escalation": {
        **POLICY["escalation"],  # type: ignore[dict-item]
        "steps": [
            {"from": "fast", "to": "balanced", "below_confidence": 0.65},
            {"from": "balanced", "to": "reasoning", "below_confidence": 0.45},
        ],
    },
}


def write_synthetic_suite(folder: Path, n: int, seed: int = 7) -> Path:
    """Write suite.yaml, examples.parquet, recordings.parquet, models.yaml, policy.yaml and candidate.yaml."""
    examples = make_examples(n, seed)
    recordings = make_recordings(examples, seed)
    write_parquet_atomic(folder / "examples.parquet", examples)
    write_parquet_atomic(folder / "recordings.parquet", recordings)
    manifest = {
        "name": "synthetic",
        "version": "1.0.0",
        "description": f"Synthetic benchmark suite: {n:,} requests x {len(MODELS)} models, seed {seed}.",
        "source": {
            "repository": "routegate",
            "path": "src/routegate/importers/synthetic.py",
            "license": "Apache-2.0",
            "notes": "Drawn, not measured: for performance benchmarks only.",
        },
        "slices": ["task_type", "sla"],
        "scoring": {"scorer": "judge"},
        "columns": {
            "modelled": dict.fromkeys(
                ("input_tokens", "output_tokens", "latency_ms", "quality", "confidence"),
                "drawn by routegate.importers.synthetic",
            )
        },
    }
    write_text_atomic(folder / "suite.yaml", yaml.safe_dump(manifest, sort_keys=False))
    write_text_atomic(folder / "models.yaml", yaml.safe_dump(CATALOG, sort_keys=False))
    write_text_atomic(folder / "policy.yaml", yaml.safe_dump(POLICY, sort_keys=False))
    write_text_atomic(folder / "candidate.yaml", yaml.safe_dump(CANDIDATE, sort_keys=False))
    return folder
