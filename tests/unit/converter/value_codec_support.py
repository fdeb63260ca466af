"""What the Value-codec tests share: the vendored files, fastavro's view, hypothesis strategies."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_reader, schemaless_writer
from hypothesis import strategies as st

from durable_workflow.converter._value_codec import VALUE_FRAME_HEADER

ROOT = Path(__file__).resolve().parents[3]
# Vendored by the contracts work; until then, the shared copy beside the repository.
_BASES = (ROOT / "contracts" / "server-2.x", ROOT.parent / "shared" / "upstream" / "server-2.x")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def vendored(relative: str) -> Path:
    """A file of upstream's sdk-python folder, from contracts/ or the shared copy; else skip."""
    for base in _BASES:
        path = base / "sdk-python" / relative
        if path.is_file():
            return path
    pytest.skip(
        f"sdk-python/{relative} is in neither contracts/server-2.x nor ../shared/upstream",
        allow_module_level=True,  # the corpus module builds its fastavro reference on import
    )


def load_json(relative: str) -> Any:
    return json.loads(vendored(relative).read_text(encoding="utf-8"))


_NAMESPACE = "durable_workflow.protocol."
_BRANCHES = (
    (bool, "BooleanValue", "boolean"),
    (int, "LongValue", "long"),
    (float, "DoubleValue", "double"),
    (bytes, "BytesValue", "bytes"),
    (str, "StringValue", "string"),
)


def to_datum(value: Any) -> dict[str, Any]:
    """``value`` as fastavro's union datum (named branches), the shape upstream builds too."""
    if value is None:
        return {"value": None}
    for kind, record, field in _BRANCHES:
        if isinstance(value, kind):
            return {"value": (_NAMESPACE + record, {field: value})}
    if isinstance(value, list):
        return {"value": (_NAMESPACE + "ArrayValue", {"items": [to_datum(v) for v in value]})}
    entries = {key: to_datum(item) for key, item in value.items()}
    return {"value": (_NAMESPACE + "MapValue", {"entries": entries})}


class FastavroValue:
    """fastavro with the vendored ``.avsc``: the independent reference for our bytes."""

    def __init__(self) -> None:
        text = vendored("schema/durable_workflow.protocol.Value.v1.avsc").read_text()
        self.schema = parse_schema(json.loads(text))

    def encode(self, value: Any) -> bytes:
        buffer = io.BytesIO()
        buffer.write(VALUE_FRAME_HEADER)
        schemaless_writer(buffer, self.schema, to_datum(value))
        return buffer.getvalue()

    def decode_datum(self, frame: bytes) -> Any:
        assert frame[:10] == VALUE_FRAME_HEADER
        stream = io.BytesIO(frame[10:])
        datum = schemaless_reader(stream, self.schema, None, return_record_name=True)
        assert stream.read() == b"", "fastavro left bytes unread"
        return datum


# Scalars every branch of the union can hold, edges included (hypothesis favours
# the bounds of integer ranges; -0.0, subnormals and huge floats come with floats()).
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=INT64_MIN, max_value=INT64_MAX)
    | st.integers(min_value=-(2**31), max_value=2**31)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.binary(max_size=40)
    | st.text(max_size=40)
    | st.text(alphabet=st.characters(min_codepoint=0x80, exclude_categories=("Cs",)), max_size=20)
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=40,
)
# Values upstream refuses (with its reason names) or crashes on, one bad element inside.
_bad_leaves = (
    st.integers(min_value=INT64_MAX + 1) | st.integers(max_value=INT64_MIN - 1)
    | st.sampled_from([float("nan"), float("inf"), float("-inf")])
    | st.tuples(st.integers()) | st.sets(st.integers(), max_size=2)
    | st.builds(bytearray, st.binary(max_size=4))
    | st.dictionaries(st.integers(), st.none(), min_size=1, max_size=2)
    | st.just("\ud800")
)  # fmt: skip
bad_values = st.recursive(
    _bad_leaves,
    lambda children: (
        st.lists(children, min_size=1, max_size=3).map(lambda items: [1, *items])
        | st.dictionaries(st.text(max_size=5), children, min_size=1, max_size=2)
    ),
    max_leaves=4,
)
