"""Importers: public per-example model results -> suites in routegate's format.

``routegate import routellm`` and ``routegate import alpacaeval`` build the
bundled suites under ``eval_suites/`` from the source files described in
docs/bundled-suites.md. Rebuilding from the same inputs gives byte-identical
files.
"""

from routegate.importers.alpacaeval import import_alpacaeval
from routegate.importers.routellm import import_gsm8k, import_mmlu, import_mtbench, import_routellm

__all__ = ["import_alpacaeval", "import_gsm8k", "import_mmlu", "import_mtbench", "import_routellm"]
