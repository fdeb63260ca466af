"""Upstream's loose payload attributes (``client.external_storage``, ...) kept as views.

``Client`` and ``Worker`` expose upstream's attribute names; each is a
:class:`ConverterAttribute` that reads one field of the owner's ``converter``
and, on assignment, replaces the converter with a copy holding the new value.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar, overload

__all__ = ["ConverterAttribute"]

T = TypeVar("T")


class ConverterAttribute(Generic[T]):
    """An attribute that lives in ``owner.converter`` under the field name ``field``."""

    def __init__(self, field: str) -> None:
        self.field = field

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> ConverterAttribute[T]: ...

    @overload
    def __get__(self, obj: object, owner: type | None = None) -> T: ...

    def __get__(self, obj: object | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return getattr(obj.converter, self.field)  # type: ignore[attr-defined]

    def __set__(self, obj: Any, value: T) -> None:
        obj.converter = obj.converter.replace(**{self.field: value})
