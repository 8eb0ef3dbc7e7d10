"""Uploaded files, kept in the workspace as the clerk's record: ``received/R5/<日時>/<file>`` for the
returns, ``received/plan/<日時>/`` for a plan master, ``received/opinions/<会議>/<日時>/`` and
``received/replies/<会議>/<日時>/`` for the committee's opinions and the departments' replies.

A name is only ever a name: the browser's path parts are dropped and the rest made safe for Windows
(:func:`hyoka.text.safe_filename`), so nothing can be written outside its batch folder. Each file is
copied in chunks with a cap, and nothing in it is opened here: collect checks it as it checks any file.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, BinaryIO

from hyoka.files import atomic_write
from hyoka.problems import HyokaError
from hyoka.text import safe_filename
from hyoka.workbook import MAX_FILE_BYTES
from hyoka.years import FiscalYear

CHUNK = 1 << 20


@dataclass(frozen=True)
class Batch:
    folder: Path
    files: list[Path]

    @property
    def feedback_dir(self) -> Path:
        """Marked-up copies of rejected files go beside the batch, never into the folder collect reads."""
        return self.folder.parent / f"{self.folder.name}_要修正"


def upload_name(raw: str) -> str:
    """The last part of whatever path the browser sent, made safe; '' when nothing is left."""
    name = PureWindowsPath(PurePosixPath(raw).name).name
    name = re.sub(r"^\.+", "", name)
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        return safe_filename(name) if name.strip() else ""
    return f"{safe_filename(stem)}.{safe_filename(suffix)}"


def save_uploads(
    root: Path, year: FiscalYear, uploads: list[Any], modified: Mapping[str, float] | None = None
) -> Batch:
    """Store the uploaded files in a new batch folder; a file over the size cap refuses the batch.

    ``modified`` maps a file's name as sent to its last-saved time (seconds), which the page's script
    reads from the browser: collect orders files and compares versions by it, as it does for files on
    disk. Without it a file is as new as its upload.
    """
    return save_batch(root / "received" / year.short, uploads, modified)


def save_batch(parent: Path, uploads: list[Any], modified: Mapping[str, float] | None = None) -> Batch:
    """Store the uploads in a new folder under ``parent`` named by the time (``received/plan/<日時>/``…)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")[:-3]
    folder = parent / stamp
    taken: set[str] = set()
    files: list[Path] = []
    try:
        for upload in uploads:
            sent = str(upload.filename)
            name = upload_name(sent) or "無題"
            candidate, n = name, 1
            while candidate.casefold() in taken:  # two files of one name: keep both
                n += 1
                stem, dot, suffix = name.rpartition(".")
                candidate = f"{stem}_{n}.{suffix}" if dot else f"{name}_{n}"
            taken.add(candidate.casefold())
            path = atomic_write(folder / candidate, _copier(upload, candidate))
            when = (modified or {}).get(sent)
            if when is not None and 0 < when < 4_102_444_800:  # before 2100: a sane time
                os.utime(path, (when, when))
            files.append(path)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # nothing of a refused batch stays behind
        raise
    return Batch(folder, files)


def _copier(upload: Any, name: str) -> Callable[[BinaryIO], None]:
    return lambda out: _copy(upload, out, name)


def _copy(upload: Any, out: BinaryIO, name: str) -> None:
    source = upload.file
    source.seek(0)
    written = 0
    while chunk := source.read(CHUNK):
        written += len(chunk)
        if written > MAX_FILE_BYTES:
            raise HyokaError(
                f"{name} は大きすぎます（{MAX_FILE_BYTES // 1_000_000} MB まで）。調査票以外のものを消してから送ってください。"
            )
        out.write(chunk)
