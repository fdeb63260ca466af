"""A run's history as ``known events + tail`` without copying the known part.

The sticky cache keeps, per run, the raw events its instance has consumed in an
append-only list. A worker task of that run downloads only the events after
them; copying the known events into a new list for every task would make a
run of N tasks cost O(N^2) in list copies alone. :class:`HistoryView` is a
read-only sequence over the first ``known`` items of such a list plus a tail,
so building it, reading the tail (``view[seen:]``) and extending the cache's
list cost only the tail. Items below ``known`` never change (the list is only
appended to), so a view stays valid after its list grows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import chain, islice
from typing import Any, overload

__all__ = ["HistoryView"]


class HistoryView(Sequence[Any]):
    """The first ``known`` items of ``base`` followed by ``tail``; read-only."""

    __slots__ = ("base", "known", "tail")

    def __init__(self, base: list[Any], known: int, tail: Sequence[Any] = ()) -> None:
        if not 0 <= known <= len(base):
            raise ValueError(f"known={known} is outside the base list (length {len(base)})")
        self.base = base
        self.known = known
        self.tail = list(tail)

    def with_tail(self, tail: Sequence[Any]) -> HistoryView:
        """This view followed by ``tail`` (only ``tail`` is copied)."""
        if self.tail:
            return HistoryView(self.base, self.known, [*self.tail, *tail])
        return HistoryView(self.base, self.known, tail)

    def __len__(self) -> int:
        return self.known + len(self.tail)

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step == 1 and start >= self.known:
                return self.tail[start - self.known : stop - self.known]
            return [self[i] for i in range(start, stop, step)]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("history index out of range")
        return self.base[index] if index < self.known else self.tail[index - self.known]

    def __iter__(self) -> Iterator[Any]:
        return chain(islice(self.base, self.known), self.tail)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"HistoryView(known={self.known}, tail={len(self.tail)})"
