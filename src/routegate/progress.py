"""The progress line of a replaying command: a rich status line on stderr, on a terminal only.

Never shown in CI (``CI`` set) or when stderr is not a terminal, so that logs
and pipes get only the command's own lines.
"""

from __future__ import annotations

import contextlib
import os
import sys
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from routegate.engine.replay import StepHook


def build_progress(enabled: bool) -> tuple[StepHook | None, AbstractContextManager[object]]:
    """``(hook, context)``: the replay's step hook (``None`` when silent) and the context that shows the line."""
    if not enabled or os.environ.get("CI") or not sys.stderr.isatty():
        return None, contextlib.nullcontext()
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = progress.add_task("replaying", total=None)

    def hook(step: int, pending: int) -> None:
        progress.update(task, description=f"replay step {step}: {pending:,} requests pending")

    return hook, progress
