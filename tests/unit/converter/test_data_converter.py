"""DataConverter: the one payload object (codec, codec chain, storage, cache, size warning, ids)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pytest

from durable_workflow import serializer
from durable_workflow.codecs import CodecChain, GzipCodec, PayloadCodecError
from durable_workflow.converter import ConverterAttribute, DataConverter
from durable_workflow.converter._cli import add_converter_arguments, converter_from_arguments
from durable_workflow.external_storage import (
    ExternalPayloadCache,
    ExternalPayloadReferenceError,
    LocalFilesystemExternalStorage,
)

BIG = "z" * 2000
GZIP = GzipCodec(min_bytes=1)


def test_a_plain_converter_writes_what_the_serializer_writes() -> None:
    for codec in ("avro", "json"):
        converter = DataConverter(codec=codec)
        assert converter.encode(["a", 1]) == serializer.envelope(["a", 1], codec)
        assert converter.decode(converter.encode(["a", 1])) == ["a", 1]
    assert DataConverter(codec=None).encode(1) == serializer.envelope(1, "avro")


def test_offloading_needs_a_driver_and_a_threshold(tmp_path: Path) -> None:
    store = LocalFilesystemExternalStorage(tmp_path)
    assert not DataConverter(external_storage=store).offloads
    assert not DataConverter(threshold_bytes=10).offloads
    converter = DataConverter(external_storage=store, threshold_bytes=64)
    assert converter.offloads
    assert "blob" in converter.encode("small")
    stored = converter.encode(BIG)
    assert "external_storage" in stored
    assert converter.decode(stored) == BIG
    assert converter.resolve(stored) == serializer.encode(BIG)
    with pytest.raises(ExternalPayloadReferenceError, match="configure an external storage"):
        DataConverter().decode(stored)


def test_the_codec_chain_is_applied_before_offloading_and_undone_on_read(tmp_path: Path) -> None:
    store = LocalFilesystemExternalStorage(tmp_path)
    converter = DataConverter(codec_chain=GZIP, external_storage=store, threshold_bytes=120)
    assert len(serializer.encode(BIG)) > 120
    inline = converter.encode(BIG)  # gzip shrinks it under the threshold
    assert "blob" in inline and inline["blob"] != serializer.encode(BIG)
    assert converter.decode(inline) == BIG
    with pytest.raises(PayloadCodecError, match="gzip"):
        DataConverter().decode(inline)
    bare = converter.encode_bare(BIG)
    assert isinstance(bare, str) and converter.decode(bare, "avro") == BIG
    offloaded = converter.offload(serializer.encode(BIG * 50, "json"), codec="json")
    assert offloaded["codec"] == "json" and "external_storage" in offloaded
    assert converter.decode(offloaded) == BIG * 50


def test_references_are_read_through_the_cache(tmp_path: Path) -> None:
    store = LocalFilesystemExternalStorage(tmp_path)
    cache = ExternalPayloadCache()
    converter = DataConverter(external_storage=store, threshold_bytes=64, storage_cache=cache)
    stored = converter.encode(BIG)
    assert converter.decode(stored) == converter.decode(stored) == BIG
    assert (cache.misses, cache.hits) == (1, 1)


def test_bare_blobs_use_the_given_codec_else_the_converters() -> None:
    json_text = serializer.encode([1], "json")
    assert DataConverter(codec="json").decode(json_text) == [1]
    assert DataConverter(codec=None).decode(json_text) == [1]  # legacy: JSON text
    assert DataConverter(codec="avro").decode(json_text, "json") == [1]
    assert DataConverter().decode_arguments(serializer.envelope("one")) == ["one"]
    assert DataConverter().decode_arguments({"codec": None, "blob": None}) == []
    assert DataConverter().decode_arguments(None) == []
    with pytest.raises(ValueError, match="neither"):
        DataConverter().decode_arguments({"not": "an envelope"})


def test_context_names_the_ids_in_size_warnings(caplog: pytest.LogCaptureFixture) -> None:
    warning = serializer.PayloadSizeWarningConfig(limit_bytes=100, threshold_percent=10)
    converter = DataConverter(size_warning=warning).with_context(
        "workflow_task", workflow_id="wf-1", run_id="run-1"
    )
    assert converter.context is not None and converter.context.kind == "workflow_task"
    with caplog.at_level(logging.WARNING, logger="durable_workflow.serializer"):
        converter.encode("x" * 50, "activity_input", activity_name="charge")
    (record,) = caplog.records
    details = record.durable_workflow_payload
    assert details["kind"] == "activity_input"
    assert (details["workflow_id"], details["run_id"]) == ("wf-1", "run-1")
    assert details["activity_name"] == "charge"
    assert converter.with_context(run_id=None).context == converter.context
    assert DataConverter(size_warning=None).warning_context() is None


def test_copies_leave_the_original_alone_and_check_the_threshold() -> None:
    base = DataConverter()
    assert base.with_codec("avro") is base
    assert base.with_codec("json").codec == "json" and base.codec == "avro"
    with pytest.raises(ValueError, match=">= 1"):
        DataConverter(threshold_bytes=0)
    with pytest.raises(TypeError, match="int"):
        base.replace(threshold_bytes="10")
    with pytest.raises(ValueError, match=">= 1"):
        DataConverter.from_options(threshold_bytes=0)


def test_from_options_lays_given_keywords_over_the_base(tmp_path: Path) -> None:
    store = LocalFilesystemExternalStorage(tmp_path)
    base = DataConverter(codec_chain=GZIP, threshold_bytes=10)
    assert DataConverter.from_options(base) is base
    merged = DataConverter.from_options(base, external_storage=store, threshold_bytes=20)
    assert (merged.codec_chain, merged.external_storage, merged.threshold_bytes) == (
        GZIP,
        store,
        20,
    )
    assert merged.offload_options() == {
        "payload_codec_chain": GZIP,
        "external_storage": store,
        "external_storage_threshold_bytes": 20,
    }
    # No chain: the keyword is left out, so task-completion calls look like upstream's.
    assert DataConverter().offload_options() == {}


class Holder:
    chain = ConverterAttribute[object]("codec_chain")

    def __init__(self) -> None:
        self.converter = DataConverter()


def test_converter_attributes_read_and_replace_the_owners_converter() -> None:
    holder = Holder()
    first = holder.converter
    holder.chain = GZIP
    assert holder.chain is GZIP and holder.converter.codec_chain is GZIP
    assert first.codec_chain is None  # frozen: a copy was made
    assert isinstance(Holder.chain, ConverterAttribute)


def test_cli_options_build_a_converter(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    add_converter_arguments(parser)
    assert converter_from_arguments(parser.parse_args([])) is None
    one = converter_from_arguments(
        parser.parse_args(["--external-storage-root", str(tmp_path), "--payload-codec", "gzip"])
    )
    assert one is not None
    assert isinstance(one.external_storage, LocalFilesystemExternalStorage)
    assert isinstance(one.codec_chain, GzipCodec) and one.threshold_bytes is None
    two = converter_from_arguments(
        parser.parse_args(["--payload-codec", "gzip", "--payload-codec", "gzip"])
    )
    assert two is not None and isinstance(two.codec_chain, CodecChain)
    assert two.external_storage is None


async def test_the_client_owns_one_and_the_worker_takes_it(tmp_path: Path) -> None:
    from durable_workflow import Client, Worker

    store = LocalFilesystemExternalStorage(tmp_path)
    async with Client(
        "http://127.0.0.1:9",
        external_storage=store,
        external_storage_threshold_bytes=64,
        payload_codec=GZIP,
        payload_size_warnings=False,
    ) as client:
        converter = client.converter
        assert (converter.external_storage, converter.threshold_bytes) == (store, 64)
        assert converter.codec_chain is GZIP and converter.size_warning is None
        assert isinstance(client.external_storage_cache, ExternalPayloadCache)
        worker = Worker(client, task_queue="q")
        assert worker.converter == converter
        client.external_storage_threshold_bytes = 128
        assert client.converter.threshold_bytes == 128 and converter.threshold_bytes == 64
        worker.external_storage = None
        assert worker.converter.external_storage is None and client.external_storage is store
        with pytest.raises(ValueError, match=">= 1"):
            client.external_storage_threshold_bytes = 0
