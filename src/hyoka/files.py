"""Writing output files safely: never a half-written document under a finished name.

Everything is written to a temporary file in the target folder and moved into place with
``os.replace``. A target that Word or Excel holds open (locked on Windows) gives a clear message.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from hyoka.problems import HyokaError


def atomic_write(path: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` and move ``tmp`` to ``path``; on any failure nothing is left behind."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".~hyoka-", suffix=path.suffix, dir=path.parent)
    except OSError as exc:
        raise HyokaError(_message(path, exc)) from None
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise HyokaError(_message(path, exc)) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding=encoding, newline=""))


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
