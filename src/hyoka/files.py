"""Writing output files safely: never a half-written document under a finished name.

Everything is written to a temporary file in the target folder and moved into place with
``os.replace``. A target that Word or Excel holds open (locked on Windows) gives a clear message.

A document is built in memory first and then written in one go: Word and Excel files are zip
archives, and a zip writer that fails half-way (a full disk) would otherwise leave an unclosed
``ZipFile`` whose clean-up fails a second time and prints ``Exception ignored in: ZipFile.__del__``
after the clean message. Writing the finished bytes is a plain write whose error is ours to handle.

The written file gets the permissions a new file gets from the user's umask (colleagues on a shared
folder can open it), or keeps those of the file it replaces; never the owner-only mode of a
``tempfile.mkstemp`` file.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from hyoka.problems import HyokaError

TEMP_PREFIX = ".~hyoka-"
# hyoka's own temporary names only: ".~hyoka-" + 8 characters (ours or tempfile's alphabet) + suffix.
_TEMP_NAME = re.compile(r"\.~hyoka-[a-z0-9_]{8}(\.[A-Za-z0-9]{1,8})?")
# A temporary file older than this was left by a run that was killed; no write takes that long.
STALE_AFTER_S = 3600.0


class _Buffer(io.BytesIO):
    """The stream a writer fills. It is not a path: ``str(buffer)`` fails loudly instead of
    quietly naming a file such as ``<_io.BytesIO object at 0x…>`` in the current folder."""

    def __str__(self) -> str:
        raise TypeError("atomic_write passes a binary stream to the writer, not a path")


def atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write(stream)``, then put the bytes at ``path`` atomically; on failure nothing is left behind.

    ``write`` gets a binary stream (``workbook.save`` and ``document.save`` take one).
    """
    buffer = _Buffer()
    try:
        write(buffer)
    except OSError as exc:
        raise HyokaError(_message(path, exc)) from None
    with buffer.getbuffer() as data:  # no copy of a large document
        return atomic_write_bytes(path, data)


def atomic_write_bytes(path: Path, data: bytes | memoryview) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HyokaError(_message(path, exc)) from None
    clean_stale_temps(path.parent)
    try:
        tmp, fd = _create_temp(path)
    except OSError as exc:
        raise HyokaError(_message(path, exc)) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        _keep_mode(path, tmp)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise HyokaError(_message(path, exc)) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    return atomic_write_bytes(path, text.encode(encoding))


def _create_temp(path: Path) -> tuple[Path, int]:
    """A new temporary file beside ``path``, created with mode 0o666 so that the umask applies."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        token = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8))
        tmp = path.parent / f"{TEMP_PREFIX}{token}{path.suffix}"
        try:
            return tmp, os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
    raise FileExistsError(17, "File exists", str(path.parent))


def _keep_mode(path: Path, tmp: Path) -> None:
    """A replaced file keeps its permissions (a colleague's group access stays as it was)."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return  # no file to replace: the umask already gave the new file its mode
    os.chmod(tmp, mode)


def clean_stale_temps(
    folder: Path, *, older_than: float = STALE_AFTER_S, now: float | None = None
) -> list[Path]:
    """Remove hyoka's own temporary files that a killed run left in ``folder``; returns what went.

    Only names of hyoka's pattern (``.~hyoka-xxxxxxxx.docx``) older than ``older_than`` seconds:
    a younger one may belong to a run still writing.
    """
    limit = (time.time() if now is None else now) - older_than
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(TEMP_PREFIX) or not _TEMP_NAME.fullmatch(entry.name):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < limit:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue  # someone else's, or gone already: not worth a message
    return removed


def _message(path: Path, exc: OSError) -> str:
    import errno

    if isinstance(exc, PermissionError) or exc.errno in (errno.EACCES, errno.EPERM):
        return (
            f"{path} に書き込めません。WordやExcelでこのファイルを開いている場合は閉じてから、"
            "もう一度実行してください（フォルダが読み取り専用の場合は権限を確認してください）。"
        )
    if exc.errno == errno.ENOSPC:
        return f"ディスクの空きが足りないため {path} を書き込めませんでした。空きを作ってから、もう一度実行してください。"
    if exc.errno == errno.EROFS:
        return f"{path} のある場所は読み取り専用のため書き込めません。"
    if exc.errno in (errno.EEXIST, errno.ENOTDIR):
        return f"{path} を書き込めませんでした（{os_reason(exc)}）。出力先にはフォルダを指定してください。"
    return f"{path} を書き込めませんでした（{os_reason(exc)}）。"


_OS_REASONS = {
    "EACCES": "権限がありません",
    "EPERM": "権限がありません",
    "ENOENT": "見つかりません",
    "EEXIST": "同じ名前のファイルがあります",
    "ENOTDIR": "フォルダではありません",
    "EISDIR": "ファイルではなくフォルダです",
    "ENOSPC": "ディスクの空きが足りません",
    "EROFS": "読み取り専用の場所です",
    "ENAMETOOLONG": "名前が長すぎます",
    "EBUSY": "使用中です",
}


def os_reason(exc: OSError) -> str:
    """A short Japanese reason for an operating-system error (its own text is English)."""
    import errno

    name = errno.errorcode.get(exc.errno or 0, "")
    return _OS_REASONS.get(name, exc.strerror or type(exc).__name__)
