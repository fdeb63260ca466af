"""Replay a folder of exported histories in a test: the CI check that new code fits old runs.

``replay_histories("histories", workflows=[...])`` replays every ``*.json``
in the folder (history-export bundles as the CLI and ``Client.export_history``
write them, or plain event lists) with the codec each bundle declares, and
raises on the first one the code no longer fits: a
:class:`HistoryReplayMismatch` (a ``NonDeterministicReplayError``) naming the
file and the step. An empty folder is an error too, so a misplaced path cannot
pass silently.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from durable_workflow.codecs import PayloadCodec
from durable_workflow.errors import NonDeterministicReplayError
from durable_workflow.external_storage import ExternalStorageDriver
from durable_workflow.workflow import Replayer, ReplayOutcome

__all__ = ["HistoryReplayMismatch", "replay_histories"]


class HistoryReplayMismatch(NonDeterministicReplayError):
    """A recorded history the current workflow code no longer fits; names the file and step."""

    def __init__(self, path: Path, error: NonDeterministicReplayError) -> None:
        super().__init__(
            error.workflow_sequence,
            error.expected_shape,
            error.recorded_event_types,
            detail=error.detail,
        )
        self.path = path
        self.args = (f"{path}: {error}",)


def _files(source: str | Path | Iterable[str | Path]) -> list[Path]:
    if isinstance(source, (str, Path)):
        root = Path(source)
        if root.is_dir():
            files = sorted(root.glob("*.json"))
            if not files:
                raise FileNotFoundError(f"no *.json histories in {root}")
            return files
        if not root.exists():
            raise FileNotFoundError(f"no history folder or file at {root}")
        return [root]
    return [Path(item) for item in source]


def replay_histories(
    source: str | Path | Iterable[str | Path],
    *,
    workflows: Iterable[type],
    payload_codec_chain: PayloadCodec | None = None,
    external_storage: ExternalStorageDriver | None = None,
) -> dict[Path, ReplayOutcome]:
    """Replay every history in ``source`` (a folder of ``*.json``, a file, or paths).

    Returns each file's outcome (the commands the code would send next); raises
    :class:`HistoryReplayMismatch` for the first history the code no longer fits.
    ``payload_codec_chain`` / ``external_storage``: as the workers had them.
    """
    replayer = Replayer(workflows=workflows)
    outcomes: dict[Path, ReplayOutcome] = {}
    for path in _files(source):
        history: Any = json.loads(path.read_text(encoding="utf-8"))
        try:
            outcomes[path] = replayer.replay_or_raise(
                history,
                payload_codec_chain=payload_codec_chain,
                external_storage=external_storage,
            )
        except NonDeterministicReplayError as exc:
            raise HistoryReplayMismatch(path, exc) from exc
    return outcomes
