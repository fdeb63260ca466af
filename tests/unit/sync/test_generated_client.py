"""The generated blocking client follows the translation rules of codegen/sync_client.py."""

from __future__ import annotations

import inspect

from durable_workflow import sync
from durable_workflow.client import Client as AsyncClient

TWINS = {
    "WorkflowHandle": "SyncWorkflowHandle",
    "ScheduleHandle": "SyncScheduleHandle",
    "StandaloneActivityHandle": "SyncStandaloneActivityHandle",
}


def test_the_worker_plane_and_the_raw_call_path_have_no_blocking_twin() -> None:
    for name in ("poll_workflow_task", "complete_activity_task", "send_operation", "aclose"):
        assert hasattr(AsyncClient, name)
        assert not hasattr(sync.Client, name), name


def test_handles_and_async_iterators_become_their_blocking_twins() -> None:
    checked = 0
    for name, member in vars(sync.Client).items():
        if name.startswith("_") or not inspect.isfunction(member) or name == "close":
            continue
        async_returns = str(inspect.signature(getattr(AsyncClient, name)).return_annotation)
        sync_returns = str(inspect.signature(member).return_annotation)
        base, _, generic = async_returns.partition("[")
        if base in TWINS:
            # A generic handle keeps its type arguments: WorkflowHandle[R] -> SyncWorkflowHandle[R]
            assert sync_returns == TWINS[base] + (f"[{generic}" if generic else ""), name
            checked += 1
        elif async_returns.startswith("AsyncIterator["):
            assert sync_returns == "Iterator[" + async_returns[len("AsyncIterator[") :], name
            checked += 1
        else:
            assert sync_returns == async_returns, name
    assert checked >= 8


def test_blocking_handles_wrap_every_public_handle_method() -> None:
    from durable_workflow.client import ScheduleHandle, StandaloneActivityHandle, WorkflowHandle

    for source in (WorkflowHandle, ScheduleHandle, StandaloneActivityHandle):
        twin = getattr(sync, TWINS[source.__name__])
        public = {n for n in vars(source) if not n.startswith("_")}
        assert public <= set(dir(twin)), source.__name__


def test_overloads_of_typed_calls_have_blocking_twins() -> None:
    import typing

    for name in ("start_workflow", "execute_workflow", "get_workflow_handle"):
        async_variants = typing.get_overloads(getattr(AsyncClient, name))
        sync_variants = typing.get_overloads(getattr(sync.Client, name))
        assert len(sync_variants) == len(async_variants) == 3, name
        for async_variant, sync_variant in zip(async_variants, sync_variants, strict=True):
            async_returns = str(inspect.signature(async_variant).return_annotation)
            sync_returns = str(inspect.signature(sync_variant).return_annotation)
            assert sync_returns == async_returns.replace("WorkflowHandle", "SyncWorkflowHandle")
