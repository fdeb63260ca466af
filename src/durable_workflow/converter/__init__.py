"""The payload path as one object: :class:`DataConverter` (codec, codec chain, storage, limits).

``Client`` owns one; ``Worker``, ``Replayer``, the replay entry points,
``WorkflowEnvironment``, the verify CLIs and the invocable carriers take one,
and upstream's loose keywords (``external_storage=``, ...) build one. Rich
values (dataclasses, pydantic models, datetimes, ...) travel as plain JSON and
decode into type hints (``_rich_values``).
"""

from __future__ import annotations

from durable_workflow.converter._attribute import ConverterAttribute
from durable_workflow.converter._data_converter import DataConverter
from durable_workflow.converter._rich_values import PayloadConversionError

__all__ = ["ConverterAttribute", "DataConverter", "PayloadConversionError"]
