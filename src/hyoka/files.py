"""Writing output files safely: never a half-written document under a finished name.

Everything is written to a temporary file in the target folder and moved into place with
``os.replace``. A target that Word or Excel holds open (locked on Windows) gives a clear message.

A writer streams into the temporary file through :class:`_Stream`, which remembers the first write
error and swallows every write after it: Word and Excel files are zip archives, and a zip writer that
fails half-way (a full disk) leaves an unclosed ``ZipFile`` whose clean-up would write again, fail a
second time and print ``Exception ignored in: ZipFile.__del__`` after the clean message. Streaming
(rather than building the whole document in memory first) keeps a large report's peak memory down.

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
from typing import Any, BinaryIO

from hyoka.problems import HyokaError

TEMP_PREFIX = ".~hyoka-"
# hyoka's own temporary names only: ".~hyoka-" + 8 characters (ours or tempfile's alphabet) + suffix.
_TEMP_NAME = re.compile(r"\.~hyoka-[a-z0-9_]{8}(\.[A-Za-z0-9]{1,8})?")
# A temporary file older than this was left by a run that was killed; no write takes that long.
STALE_AFTER_S = 3600.0


class _Stream(io.RawIOBase):
    """The temporary file as a writer sees it: after the first failed write every later write is
    swallowed (the error is kept in :attr:`error`), so that a half-written zip's clean-up is quiet.

    It is not a path: ``str(stream)`` fails loudly instead of quietly naming a file such as
    ``<_Stream object at 0x…>`` in the current folder.
    """

    def __init__(self, fh: BinaryIO) -> None:
        super().__init__()
        self._fh = fh
        self.error: OSError | None = None
        self.finished = False  # the file is closed (or failed): whatever still holds us talks to nothing
        self._pos = 0  # where the writer believes it is, also once the file is gone

    @property
    def _live(self) -> bool:
        return self.error is None and not self.finished

    def __str__(self) -> str:
        raise TypeError("atomic_write passes a binary stream to the writer, not a path")

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        size = len(memoryview(data))
        if self._live:
            try:
                self._fh.write(data)
            except OSError as exc:
                self.error = exc
                raise
        self._pos += size
        return size

    def flush(self) -> None:
        if self._live:
            try:
                self._fh.flush()
            except OSError as exc:
                self.error = exc
                raise

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        # After a failure the file may already be closed and gone: the zip writer's clean-up still
        # moves about, and only needs consistent answers.
        if self._live:
            self._pos = self._fh.seek(offset, whence)
        elif whence == io.SEEK_SET:
            self._pos = offset
        elif whence == io.SEEK_CUR:
            self._pos += offset
        return self._pos


def atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write(stream)`` on a temporary file beside ``path``, then move it into place atomically;
    on failure nothing is left behind.

    ``write`` gets a binary stream (``workbook.save`` and ``document.save`` take one).
    """

    streams: list[_Stream] = []

    def fill(fh: BinaryIO) -> None:
        stream = _Stream(fh)
        streams.append(stream)
        try:
            write(stream)  # type: ignore[arg-type]  # a RawIOBase is the binary stream writers take
            stream.flush()
        except OSError:
            if stream.error is None:
                raise
        if stream.error is not None:  # a writer that caught the error itself must not pass for done
            raise stream.error

    try:
        return _write_temp(path, fill)
    finally:
        for stream in streams:  # the temporary file is closed now (a full disk may fail its last flush)
            stream.finished = True


def atomic_write_bytes(path: Path, data: bytes | memoryview) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    return _write_temp(path, lambda fh: fh.write(data))


def _write_temp(path: Path, fill: Callable[[BinaryIO], object]) -> Path:
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
            fill(fh)
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
