"""What keeps the local server the clerk's own: host check, per-start token, CSRF, upload cap.

The server listens on 127.0.0.1, but every web page the clerk opens, and every other user of the same
PC, can reach 127.0.0.1 too. So:

- the ``Host`` header must name this server (a DNS-rebinding page would send its own name);
- a random token, made at each start and shown only in the first address printed, is exchanged for an
  ``HttpOnly``, ``SameSite=Strict`` cookie; without it every page is refused — or, when the server
  listens on another address (``--host``), the password it was started with is asked for;
- every request that changes something (POST) carries the CSRF token in its address or in the
  ``X-CSRF-Token`` header — checked before the body is read — and an ``Origin``, when the browser sends
  one, must be this server's;
- a request body larger than :data:`MAX_BODY_BYTES` is refused before it is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

from hyoka.workbook import MAX_FILE_BYTES

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_FILES_PER_UPLOAD = 500
MAX_BODY_BYTES = 4 * MAX_FILE_BYTES
"""One upload: a few full-size workbooks, or hundreds of ordinary returns (each well under 1 MB)."""

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
PUBLIC_PATHS = {"/login", "/static/hyoka.css"}
WILDCARDS = {"0.0.0.0", "::"}


@dataclass
class Guard:
    """The secrets of one server start."""

    port: int
    host: str = "127.0.0.1"
    password: str | None = None
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    @property
    def cookie(self) -> str:
        return f"hyoka_{self.port}"

    @property
    def session(self) -> str:
        """The cookie's value: derived, so that the token itself never sits in the browser's store."""
        return self._mac("session")

    @property
    def csrf(self) -> str:
        return self._mac("csrf")

    def _mac(self, purpose: str) -> str:
        return hmac.new(self.secret, f"{purpose}:{self.token}".encode(), hashlib.sha256).hexdigest()[:40]

    @property
    def allowed_hosts(self) -> set[str]:
        names = (
            {self.host, "127.0.0.1", "localhost"} if self.host in {"127.0.0.1", "localhost"} else {self.host}
        )
        names = {f"[{name}]" if ":" in name else name for name in names}
        return {f"{name}:{self.port}" for name in names} | ({*names} if self.port == 80 else set())

    @property
    def any_host(self) -> bool:
        """Listening on every address (``0.0.0.0``): other PCs use a LAN name or address the server cannot
        know in advance, so the Host is not checked — the password guards it (a DNS-rebinding page gets
        neither the cookie, which is bound to the real address, nor the password)."""
        return self.host in WILDCARDS and self.password is not None

    def host_ok(self, host: str) -> bool:
        return self.any_host or host in self.allowed_hosts

    @property
    def first_url(self) -> str:
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}/?{urlencode({'token': self.token})}"

    def password_ok(self, given: str) -> bool:
        return self.password is not None and hmac.compare_digest(given.encode(), self.password.encode())


def guarded(app: ASGIApp, guard: Guard) -> ASGIApp:
    """Wrap the application in the checks above; refusals are short Japanese pages."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        if not guard.host_ok(host):
            await _refuse(
                send,
                400,
                "このアドレス（Host）では開けません。hyoka serve が表示したアドレスを開いてください。",
            )
            return
        path = scope.get("path", "/")
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        cookies = _cookies(headers.get("cookie", ""))
        signed_in = hmac.compare_digest(cookies.get(guard.cookie, ""), guard.session)
        if not signed_in and scope["method"] == "GET" and query.get("token") == [guard.token]:
            # The first address: exchange the token for the cookie and drop it from the address bar.
            rest = {k: v for k, v in query.items() if k != "token"}
            location = path + (f"?{urlencode(rest, doseq=True)}" if rest else "")
            await _redirect(send, location, set_cookie=_cookie_header(guard))
            return
        if not signed_in and path not in PUBLIC_PATHS:
            if guard.password is not None:
                await _redirect(send, "/login?" + urlencode({"next": path}))
            else:
                await _refuse(
                    send,
                    403,
                    "このページを開くには、hyoka serve を起動した画面に表示されたアドレス（token=… の付いたもの）を開いてください。",
                )
            return
        if scope["method"] in UNSAFE_METHODS:
            origin = headers.get("origin")
            if origin is not None and origin != f"http://{host}":  # the page itself, as the browser sees it
                await _refuse(send, 403, "ほかのサイトからの送信は受け付けません。")
                return
            given = headers.get("x-csrf-token") or (query.get("csrf") or [""])[0]
            expected = guard.csrf if path != "/login" else guard._mac("login")
            if not hmac.compare_digest(given, expected):
                await _refuse(
                    send, 403, "画面が古くなっています。ページを開き直してから、もう一度操作してください。"
                )
                return
            length = headers.get("content-length")
            if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
                await _refuse(send, 413, _too_large())
                return
            receive = _capped(receive, send)
        await app(scope, receive, send)

    return middleware


def safe_next(target: str) -> str:
    """Where to go after signing in: a path on this server only (never ``//other.site`` or ``/\\other``)."""
    if not target.startswith("/") or target.startswith(("//", "/\\")) or "\\" in target:
        return "/"
    return target


def too_large() -> str:
    """The refusal of a body over the cap (Japanese, for the page)."""
    return _too_large()


def _too_large() -> str:
    return (
        f"送信するファイルが大きすぎます（1回に合計 {MAX_BODY_BYTES // 1_000_000} MB まで）。"
        "ファイルを分けて送ってください。"
    )


class BodyTooLarge(Exception):
    """The request body passed the cap while it was being read (no Content-Length was sent)."""


def _capped(receive: Receive, send: Send) -> Receive:
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > MAX_BODY_BYTES:
                raise BodyTooLarge
        return message

    return wrapped


def _cookies(header: str) -> dict[str, str]:
    out = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name:
            out[name] = value
    return out


def _cookie_header(guard: Guard) -> str:
    return f"{guard.cookie}={guard.session}; Path=/; HttpOnly; SameSite=Strict"


def session_cookie(guard: Guard) -> str:
    """The Set-Cookie value a correct password earns."""
    return _cookie_header(guard)


async def _redirect(send: Send, location: str, set_cookie: str | None = None) -> None:
    headers = [(b"location", location.encode("latin-1", "replace")), (b"cache-control", b"no-store")]
    if set_cookie:
        headers.append((b"set-cookie", set_cookie.encode("latin-1")))
    await send({"type": "http.response.start", "status": 303, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


async def _refuse(send: Send, status: int, message: str) -> None:
    from html import escape

    body = (
        '<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8"><title>hyoka — 開けません</title>'
        '<link rel="stylesheet" href="/static/hyoka.css"></head><body><main class="refusal">'
        f"<h1>開けません</h1><p>{escape(message)}</p></main></body></html>"
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
