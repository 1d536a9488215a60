"""RouteLLM's recorded results (lm-sys/RouteLLM) -> suites ``routellm-mmlu``, ``routellm-gsm8k``, ``routellm-mtbench``.

The source has two models per prompt, GPT-4 (strong) and Mixtral (weak), with
correctness labels (MMLU, GSM8K) or GPT-4 judge scores (MT-Bench). Prompts the
RouteLLM authors list as contaminated are dropped from MMLU and GSM8K by exact
text match, as RouteLLM's own ``benchmarks.py`` does. Every rule here is
documented in docs/bundled-suites.md. One module per suite (``mmlu``, ``gsm8k``,
``mtbench``) and what they share (``source``).
"""

from __future__ import annotations

from pathlib import Path

from routegate.importers.common import DEFAULT_SEED
from routegate.importers.routellm.gsm8k import import_gsm8k
from routegate.importers.routellm.mmlu import import_mmlu
from routegate.importers.routellm.mtbench import import_mtbench

__all__ = ["import_gsm8k", "import_mmlu", "import_mtbench", "import_routellm"]


def import_routellm(data: Path, out: Path, seed: int = DEFAULT_SEED) -> list[Path]:
    """Build all three RouteLLM suites; return their folders."""
    return [import_mmlu(data, out, seed), import_gsm8k(data, out, seed), import_mtbench(data, out, seed)]
