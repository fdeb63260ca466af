"""Fetch upstream's sdist from PyPI at run time and unpack it; nothing of it is committed."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

REQUIREMENT = "durable-workflow==0.4.53"


def fetch_sdist(pip_python: str, dest: Path) -> Path:
    """Download the sdist into ``dest``, unpack it there and return the unpacked project root."""
    subprocess.run(
        [pip_python, "-m", "pip", "download", "--quiet", "--no-deps",
         "--no-binary", ":all:", REQUIREMENT, "--dest", str(dest)],
        check=True,
    )  # fmt: skip
    (archive,) = dest.glob("durable_workflow-*.tar.gz")
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, filter="data")
        else:  # Python < 3.10.12 has no extraction filters
            tar.extractall(dest)
    root = dest / archive.name.removesuffix(".tar.gz")
    if not (root / "tests").is_dir():
        raise RuntimeError(f"{archive.name} ships no tests/ folder")
    return root
