"""Small file helpers shared by the caches, the outbox and the output writer."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def write_atomic(path: str | Path, data: bytes, mode: int = 0o600) -> None:
    """Write via a temp file + rename so a concurrent run never reads half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_token_arg(value: str) -> str:
    """A TOKEN_OR_PATH argument: ``-`` is stdin, an existing file is read, anything else is
    taken as the compact token itself."""
    if value == "-":
        return sys.stdin.read().strip()
    try:
        path = Path(value)
        if path.is_file():
            return path.read_text("utf-8").strip()
    except (OSError, ValueError):  # e.g. a 1 kB token is "File name too long" as a path
        pass
    return value.strip()
