"""Rich values through the converter: plain JSON inside the usual framing, hints decode them back.

Every rich type round-trips through both ``avro`` framings (the 0.x wrapper and
the 2.x ``Value`` frame) and the ``json`` codec; plain JSON values keep their
exact bytes; values without hints decode as before.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import enum
import uuid
from collections.abc import Generator, Iterator
from decimal import Decimal
from typing import Annotated, Any

import pydantic
import pytest
from hypothesis import given, settings
from json_strategies import json_values

from durable_workflow import serializer
from durable_workflow.converter import DataConverter, PayloadConversionError
from durable_workflow.converter._rich_values import (
    call_arguments,
    from_plain,
    needs_conversion,
    return_type,
    run_result_type,
    to_plain,
)


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Size(enum.IntEnum):
    SMALL = 1
    LARGE = 3


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    label: str


@dataclasses.dataclass
class Shipment:
    id: uuid.UUID
    shipped_at: dt.datetime
    weight: Decimal
    colour: Colour
    points: list[Point]
    tags: set[str]
    checksum: bytes


class Invoice(pydantic.BaseModel):
    number: int
    issued: dt.date
    lines: tuple[str, ...]
    total: Decimal = pydantic.Field(alias="totalAmount")


SHIPMENT = Shipment(
    id=uuid.UUID("12345678-1234-5678-1234-567812345678"),
    shipped_at=dt.datetime(2026, 12, 6, 1, 2, 3, 456789, tzinfo=dt.timezone.utc),
    weight=Decimal("12.500"),
    colour=Colour.BLUE,
    points=[Point(1, "a"), Point(2, "b")],
    tags={"fragile", "express"},
    checksum=b"\x00\xff\x10",
)

CASES: list[tuple[Any, Any]] = [
    (Point(3, "p"), Point),
    (SHIPMENT, Shipment),
    (
        Invoice(
            number=7, issued=dt.date(2026, 1, 31), lines=("a", "b"), totalAmount=Decimal("9.99")
        ),
        Invoice,
    ),
    (dt.datetime(2026, 12, 6, 1, 2, 3, tzinfo=dt.timezone(dt.timedelta(hours=2))), dt.datetime),
    (dt.datetime(2026, 12, 6, 1, 2, 3), dt.datetime),
    (dt.date(2024, 2, 29), dt.date),
    (dt.time(23, 59, 58, 123), dt.time),
    (uuid.UUID("00000000-0000-4000-8000-000000000001"), uuid.UUID),
    (Decimal("-0.000001"), Decimal),
    (Colour.RED, Colour),
    (Size.LARGE, Size),
    (b"\x00\x01\xfe\xff", bytes),
    (b"", bytes),
    ((1, "two", 3.0), tuple[int, str, float]),
    ((1, 2, 3), tuple[int, ...]),
    ({3, 1, 2}, set[int]),
    (frozenset({"b", "a"}), frozenset[str]),
    ({"when": dt.date(2026, 1, 1)}, dict[str, dt.date]),
    ([Point(1, "x"), None], list[Point | None]),
    (None, dt.datetime | None),
]
CONVERTERS = {
    "avro-wrapper": DataConverter(),
    "avro-value": DataConverter(framing=serializer.VALUE_FRAMING),
    "json": DataConverter(codec=serializer.JSON_CODEC),
}


@pytest.mark.parametrize("name", sorted(CONVERTERS))
@pytest.mark.parametrize(("value", "annotation"), CASES, ids=lambda c: repr(c)[:40])
def test_each_rich_type_round_trips_through_every_framing(
    name: str, value: Any, annotation: Any
) -> None:
    converter = CONVERTERS[name]
    envelope = converter.encode([value])
    decoded = converter.decode(envelope)
    assert isinstance(decoded, list) and len(decoded) == 1
    back = converter.from_payload(decoded[0], annotation)
    assert back == value
    assert type(back) is type(value)


def test_the_plain_form_is_plain_json() -> None:
    plain = to_plain(SHIPMENT)
    assert plain == {
        "id": "12345678-1234-5678-1234-567812345678",
        "shipped_at": "2026-12-06T01:02:03.456789+00:00",
        "weight": "12.500",
        "colour": "blue",
        "points": [{"x": 1, "label": "a"}, {"x": 2, "label": "b"}],
        "tags": ["express", "fragile"],  # sorted: the same bytes on every run
        "checksum": base64.b64encode(b"\x00\xff\x10").decode(),
    }
    invoice = Invoice(number=1, issued=dt.date(2026, 1, 1), lines=(), totalAmount=Decimal(1))
    assert to_plain(invoice) == {
        "number": 1,
        "issued": "2026-01-01",
        "lines": [],
        "totalAmount": "1",
    }
    assert to_plain(b"\x01", bytes_native=True) == b"\x01"


@settings(max_examples=200, deadline=None)
@given(value=json_values)
def test_plain_json_values_keep_their_exact_bytes(value: Any) -> None:
    for framing in serializer.FRAMINGS:
        converter = DataConverter(framing=framing)
        assert converter.encode(value) == serializer.envelope(value, framing=framing)
        assert converter.encode_bare(value) == serializer.encode(value, framing=framing)
        assert to_plain(value) is value


def test_values_without_hints_decode_as_before() -> None:
    wrapper = DataConverter()
    assert wrapper.decode(wrapper.encode([dt.date(2026, 1, 2)])) == ["2026-01-02"]
    # Bytes without a hint: the Value frame carries them natively, JSON as base64 text.
    value = DataConverter(framing=serializer.VALUE_FRAMING)
    assert value.decode(value.encode(b"\xff")) == b"\xff"
    assert wrapper.decode(wrapper.encode(b"\xff")) == "/w=="
    assert from_plain("2026-01-02", None) == "2026-01-02"
    assert from_plain("2026-01-02", Any) == "2026-01-02"


def test_plain_hints_leave_values_alone() -> None:
    # Only hints naming a rich type convert: an ``int`` hint never turns "1" into 1.
    for annotation in (int, str, list[int], dict[str, Any], int | None):
        assert not needs_conversion(annotation)
        assert from_plain("1", annotation) == "1"
    for annotation in (
        dt.datetime | None,
        list[Point],
        dict[str, Decimal],
        Annotated[uuid.UUID, "id"],
        tuple[int, int],
        set[str],
        bytes,
        Invoice,
    ):
        assert needs_conversion(annotation), annotation


def test_a_value_that_does_not_fit_names_its_field() -> None:
    with pytest.raises(PayloadConversionError, match=r"order: .*Point.*x") as caught:
        from_plain({"x": "not a number", "label": "a"}, Point, "order")
    assert caught.value.field == "order"
    assert caught.value.non_retryable is True
    assert isinstance(caught.value, TypeError)


def test_unknown_objects_keep_the_encoders_error() -> None:
    class Opaque:
        pass

    with pytest.raises(TypeError, match="not JSON-serialisable"):
        DataConverter().encode([Opaque()])
    with pytest.raises(TypeError, match="unsupported_value_type"):
        DataConverter(framing=serializer.VALUE_FRAMING).encode([Opaque()])
    with pytest.raises(ValueError, match="non-finite"):
        DataConverter().encode([float("nan"), dt.date(2026, 1, 1)])


def test_call_arguments_follow_the_parameters_hints() -> None:
    def handler(point: Point, when: dt.date, plain: int, *rest: uuid.UUID) -> Shipment:
        raise AssertionError

    one = "00000000-0000-4000-8000-000000000001"
    converted = call_arguments(handler, [{"x": 1, "label": "a"}, "2026-01-02", "7", one, one])
    assert converted == [Point(1, "a"), dt.date(2026, 1, 2), "7", uuid.UUID(one), uuid.UUID(one)]
    assert return_type(handler) is Shipment

    class Workflow:
        def run(self, ctx: Any, point: Point) -> None:
            raise AssertionError

    bound = Workflow().run
    assert call_arguments(bound, [{"x": 2, "label": "b"}], skip=1) == [Point(2, "b")]
    # More arguments than parameters pass through; no hints at all is a no-op.
    assert call_arguments(lambda a: a, [{"x": 1}]) == [{"x": 1}]


def test_run_result_type_reads_generators_and_plain_returns() -> None:
    class Gen:
        def run(self, ctx: Any) -> Generator[Any, Any, Shipment]:
            yield None
            raise AssertionError

    class Plain:
        def run(self, ctx: Any) -> dt.date:
            raise AssertionError

    class Iter:
        def run(self, ctx: Any) -> Iterator[Any]:
            raise AssertionError

    class Unhinted:
        def run(self, ctx):  # type: ignore[no-untyped-def]
            raise AssertionError

    assert run_result_type(Gen) is Shipment
    assert run_result_type(Plain) is dt.date
    assert run_result_type(Iter) is None
    assert run_result_type(Unhinted) is None
