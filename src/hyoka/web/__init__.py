"""``hyoka serve``: the whole cycle in the clerk's browser, on this PC only.

Imported only by that command, so that ``hyoka --help`` stays fast. The pages (:mod:`hyoka.web.app`)
call the same library functions as the CLI; :mod:`hyoka.web.security` keeps other users and other web
pages out.
"""

from __future__ import annotations

import socket
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path

from hyoka.problems import HyokaError

DEFAULT_PORT = 8765
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def free_port(host: str, wanted: int) -> int:
    """``wanted`` when it is free, otherwise the next free one (a second server, or another program)."""
    for port in range(wanted, wanted + 20):
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return port
    raise HyokaError(f"ポート {wanted}～{wanted + 19} はすべて使用中です。別のポート番号を指定してください。")


def private_redirect(url: str) -> str:
    """A file only this user can read that sends the browser on to ``url``; its address, for the browser.

    The browser is started with the address on its command line, which other users of the PC can read
    (``ps``); the token must not be there.
    """
    import html
    import os
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="hyoka-serve-"))  # mode 0700
    page = folder / "open.html"
    fd = os.open(page, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(
            '<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8">'
            f'<meta http-equiv="refresh" content="0;url={html.escape(url)}"><title>hyoka</title></head>'
            f'<body><p><a href="{html.escape(url)}">hyoka を開く</a></p></body></html>'
        )
    return page.as_uri()


def serve(
    root: Path,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    open_browser: bool = True,
    password: str | None = None,
    announce: Callable[[str], None] = print,
) -> None:
    """Run until Ctrl-C. Listening beyond this PC (``host``) requires a password."""
    import uvicorn

    from hyoka.web.app import build
    from hyoka.web.security import Guard

    if host not in LOOPBACK and not password:
        raise HyokaError(
            f"{host} で待ち受けると、ほかのパソコンからも開けるようになります。パスワードを指定してください"
            "（指定しない場合は、このパソコンだけで使える 127.0.0.1 で起動します）。"
        )
    port = free_port(host, port)
    guard = Guard(port=port, host=host, password=password if host not in LOOPBACK else None)
    app = build(root, guard)
    announce(
        f"hyoka を起動しました。ブラウザで次のアドレスを開いてください（終了するには Ctrl+C）:\n  {guard.first_url}"
    )
    if open_browser:
        threading.Timer(0.8, webbrowser.open, args=(private_redirect(guard.first_url),)).start()
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run()
