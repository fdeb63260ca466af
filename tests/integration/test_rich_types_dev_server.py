"""Rich types through a real dev server, both generations: typed calls end to end.

A parcel (dataclass) holding every rich type goes in as the workflow input, to
an activity and back as a pydantic model, to a child workflow started by class,
through a signal, an update (and its validator) and a query, and out as the
typed result of ``WorkflowHandle[Shipment]``. Each handler asserts the types it
receives, so a value that arrived as plain JSON fails the run; the history shows
what travelled is plain JSON.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import enum
import uuid
from collections.abc import AsyncIterator, Generator
from decimal import Decimal
from typing import Any

import pydantic
import pytest
from generations import SpecCheck

from durable_workflow import activity, errors, workflow
from durable_workflow.client import Client, WorkflowHandle
from durable_workflow.testing import DevServerHandle
from durable_workflow.worker import Worker
from durable_workflow.workflow import WorkflowContext

QUEUE = "it-rich-types"


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


@dataclasses.dataclass
class Parcel:
    id: uuid.UUID
    weight: Decimal
    shipped_at: dt.datetime
    day: dt.date
    cutoff: dt.time
    colour: Colour
    dims: tuple[int, int, int]
    tags: set[str]
    blob: bytes


class Label(pydantic.BaseModel):
    parcel_id: uuid.UUID
    printed_at: dt.datetime
    lines: tuple[str, ...]


@dataclasses.dataclass
class Shipment:
    parcel: Parcel
    label: Label
    child_tags: frozenset[str]
    approved_at: dt.datetime | None
    weight: Decimal


def _check(value: Any, kind: type, what: str) -> None:
    if not isinstance(value, kind):
        raise TypeError(f"{what} arrived as {type(value).__name__}, not {kind.__name__}")


def _check_parcel(parcel: Any) -> None:
    _check(parcel, Parcel, "parcel")
    for name, kind in (
        ("id", uuid.UUID),
        ("weight", Decimal),
        ("shipped_at", dt.datetime),
        ("day", dt.date),
        ("cutoff", dt.time),
        ("colour", Colour),
        ("dims", tuple),
        ("tags", set),
        ("blob", bytes),
    ):
        _check(getattr(parcel, name), kind, f"parcel.{name}")


@activity.defn(name="rich-label")
def make_label(parcel: Parcel, printed_at: dt.datetime) -> Label:
    _check_parcel(parcel)
    _check(printed_at, dt.datetime, "printed_at")
    return Label(parcel_id=parcel.id, printed_at=printed_at, lines=(parcel.colour.value, "fragile"))


@workflow.defn(name="rich-tags")
class TagsWorkflow:
    def run(self, ctx: WorkflowContext, tags: set[str]) -> frozenset[str]:
        _check(tags, set, "child tags")
        return frozenset(tag.upper() for tag in tags)


@workflow.defn(name="rich-parcel")
class ParcelWorkflow:
    def __init__(self) -> None:
        self.parcel: Parcel | None = None
        self.approved_at: dt.datetime | None = None

    def run(self, ctx: WorkflowContext, parcel: Parcel) -> Generator[Any, Any, Shipment]:
        _check_parcel(parcel)
        self.parcel = parcel
        label = yield ctx.schedule_activity(make_label, [parcel, parcel.shipped_at])
        _check(label, Label, "activity result")
        child_tags = yield ctx.start_child_workflow(TagsWorkflow, [parcel.tags])
        _check(child_tags, frozenset, "child result")
        yield ctx.wait_condition(lambda: self.approved_at is not None)
        return Shipment(parcel, label, child_tags, self.approved_at, self.parcel.weight)

    @workflow.signal("approve")
    def approve(self, at: dt.datetime) -> None:
        _check(at, dt.datetime, "signal argument")
        self.approved_at = at

    @workflow.query("parcel")
    def current(self) -> Parcel | None:
        return self.parcel

    @workflow.update("reweigh")
    def reweigh(self, weight: Decimal) -> Decimal:
        _check(weight, Decimal, "update argument")
        assert self.parcel is not None
        self.parcel.weight = weight
        return weight * 2

    @reweigh.validator
    def check_weight(self, weight: Decimal) -> None:
        _check(weight, Decimal, "validator argument")
        if weight <= 0:
            raise ValueError("weight must be positive")


PARCEL = Parcel(
    id=uuid.UUID("6f1c1a52-3d7e-4c1b-9a55-0b8c0f8e2d11"),
    weight=Decimal("2.750"),
    shipped_at=dt.datetime(2026, 12, 6, 8, 30, 15, 250000, tzinfo=dt.timezone.utc),
    day=dt.date(2026, 12, 6),
    cutoff=dt.time(17, 45),
    colour=Colour.GREEN,
    dims=(30, 20, 10),
    tags={"fragile", "express"},
    blob=b"\x00\x9f\xff binary",
)


@pytest.fixture
async def client(gen_server: DevServerHandle, spec: SpecCheck) -> AsyncIterator[Client]:
    async with spec.attach(Client(gen_server.url, token=gen_server.token)) as c:
        yield c


async def _wait_for_event(client: Client, handle: WorkflowHandle[Any], event: str) -> None:
    for _ in range(400):
        history = await client.get_history(handle.workflow_id, str(handle.run_id))
        if event in [e.get("event_type") for e in history.get("events", [])]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{event} never appeared in the history")


async def test_every_rich_type_round_trips_through_the_server(client: Client) -> None:
    worker = Worker(
        client,
        task_queue=QUEUE,
        workflows=[ParcelWorkflow, TagsWorkflow],
        activities=[make_label],
        poll_timeout=5.0,
        shutdown_timeout=5.0,
    )
    task = asyncio.create_task(worker.run())
    try:
        handle = await client.start_workflow(
            workflow_type=ParcelWorkflow,
            task_queue=QUEUE,
            workflow_id=f"rich-{uuid.uuid4().hex[:10]}",
            input=[PARCEL],
        )
        assert handle.workflow_type == "rich-parcel"
        await _wait_for_event(client, handle, "ChildRunCompleted")

        queried = await handle.execute_query(ParcelWorkflow.current)
        assert queried == PARCEL and isinstance(queried, Parcel)
        # upstream's whole-answer query keeps its shape; the value there is plain JSON
        whole = await handle.query("parcel")
        assert whole["result"] is None or whole["result"]["day"] == "2026-12-06"

        doubled = await handle.execute_update(ParcelWorkflow.reweigh, Decimal("3.125"))
        assert (doubled, type(doubled)) == (Decimal("6.250"), Decimal)
        with pytest.raises(errors.UpdateRejected, match="weight must be positive"):
            await handle.execute_update(ParcelWorkflow.reweigh, Decimal("-1"))

        approved = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
        await handle.signal(ParcelWorkflow.approve, [approved])
        shipment = await handle.result(timeout=30)

        assert isinstance(shipment, Shipment)
        reweighed = dataclasses.replace(PARCEL, weight=Decimal("3.125"))
        assert shipment == Shipment(
            parcel=reweighed,
            label=Label(
                parcel_id=PARCEL.id, printed_at=PARCEL.shipped_at, lines=("green", "fragile")
            ),
            child_tags=frozenset({"FRAGILE", "EXPRESS"}),
            approved_at=approved,
            weight=Decimal("3.125"),
        )
        # What travelled is plain JSON: the untyped describe shows the input as such.
        described = await handle.describe()
        assert described.input == [
            {
                "id": "6f1c1a52-3d7e-4c1b-9a55-0b8c0f8e2d11",
                "weight": "2.750",
                "shipped_at": "2026-12-06T08:30:15.250000+00:00",
                "day": "2026-12-06",
                "cutoff": "17:45:00",
                "colour": "green",
                "dims": [30, 20, 10],
                "tags": ["express", "fragile"],
                "blob": described.input[0]["blob"],
            }
        ]
        assert described.input[0]["blob"] in (PARCEL.blob, "AJ//IGJpbmFyeQ==")
        # An untyped handle still gets the plain value, as before.
        untyped = client.get_workflow_handle(handle.workflow_id)
        plain = await untyped.result(timeout=5)
        assert plain["weight"] == "3.125" and plain["child_tags"] in (
            ["EXPRESS", "FRAGILE"],
            ["FRAGILE", "EXPRESS"],
        )
    finally:
        await worker.stop()
        await task


async def test_execute_workflow_returns_the_typed_result(client: Client) -> None:
    worker = Worker(
        client,
        task_queue=QUEUE,
        workflows=[TagsWorkflow],
        activities=[],
        poll_timeout=5.0,
        shutdown_timeout=5.0,
    )
    task = asyncio.create_task(worker.run())
    try:
        result = await client.execute_workflow(
            workflow_type=TagsWorkflow,
            task_queue=QUEUE,
            workflow_id=f"rich-tags-{uuid.uuid4().hex[:8]}",
            input=[{"a", "b"}],
            timeout=30,
        )
        assert result == frozenset({"A", "B"}) and isinstance(result, frozenset)
    finally:
        await worker.stop()
        await task
