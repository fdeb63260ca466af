"""Command-line options that build a :class:`DataConverter` (the verify CLIs share them)."""

from __future__ import annotations

import argparse

from durable_workflow.codecs import CodecChain, GzipCodec, PayloadCodec
from durable_workflow.converter._data_converter import DataConverter
from durable_workflow.external_storage import LocalFilesystemExternalStorage

__all__ = ["add_converter_arguments", "converter_from_arguments"]

#: Codecs a command line can name (a keyed codec such as AES-GCM needs code to configure).
_CLI_CODECS: dict[str, type[GzipCodec]] = {"gzip": GzipCodec}


def add_converter_arguments(parser: argparse.ArgumentParser) -> None:
    """``--external-storage-root`` and ``--payload-codec``, for reading stored histories."""
    parser.add_argument(
        "--external-storage-root",
        metavar="DIR",
        help="read {codec, external_storage} payload references from this local storage root",
    )
    parser.add_argument(
        "--payload-codec",
        action="append",
        choices=sorted(_CLI_CODECS),
        default=[],
        help="payload codec chain the workers used, in order (repeatable)",
    )


def converter_from_arguments(args: argparse.Namespace) -> DataConverter | None:
    """The converter the options describe; ``None`` when none of them is given."""
    root = getattr(args, "external_storage_root", None)
    names: list[str] = list(getattr(args, "payload_codec", None) or [])
    if root is None and not names:
        return None
    chain: PayloadCodec | None = None
    if names:
        codecs = [_CLI_CODECS[name]() for name in names]
        chain = codecs[0] if len(codecs) == 1 else CodecChain(codecs)
    storage = LocalFilesystemExternalStorage(root) if root is not None else None
    return DataConverter(external_storage=storage, codec_chain=chain)
