"""Which `Host` headers the app answers: a pure check and the ASGI middleware that applies it.

A web page can re-point its own domain at 127.0.0.1 (DNS rebinding) and then call the app as
if same-origin; its requests still carry the page's name in `Host`. Answering only the names
the app is served under closes that door, before any Gradio route runs.
"""

from __future__ import annotations

from collections.abc import Iterable

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
WILDCARDS = frozenset({"0.0.0.0", "::", ""})
SHARE_DOMAIN = ".gradio.live"  # where `--share` links live (Gradio's tunnel keeps their Host)


def split_host(value: str) -> tuple[str, int | None]:
    """`Name:port` as (name, port): lower case, without IPv6 brackets or a trailing dot.

    >>> split_host("[::1]:7860"), split_host("LocalHost."), split_host("a.b:x")
    (('::1', 7860), ('localhost', None), ('a.b:x', None))
    """
    value = value.strip().lower()
    port: int | None = None
    if value.startswith("["):  # [v6] or [v6]:port
        name, _, rest = value[1:].partition("]")
        if rest.startswith(":") and rest[1:].isdigit():
            port = int(rest[1:])
        elif rest:
            return value, None  # not a host: matches no entry
        return name, port
    name, sep, rest = value.rpartition(":")
    if sep and rest.isdigit() and ":" not in name:
        value, port = name, int(rest)
    return value.rstrip("."), port


def host_allowed(host_header: str | None, allowed: Iterable[str]) -> bool:
    """Whether a request's `Host` is one of `allowed`. Entries: `name:port` (that port only),
    `name` (any port), `.example.org` (that domain and its subdomains), `*` (any host).
    IPv6 entries and headers are bracketed (`[::1]:7860`). A missing Host is refused."""
    if not host_header:
        return False
    name, port = split_host(host_header)
    if not name:
        return False
    for entry in allowed:
        entry = entry.strip().lower()
        if entry == "*":
            return True
        if entry.startswith("."):
            if name == entry[1:] or name.endswith(entry):
                return True
            continue
        want_name, want_port = split_host(entry)
        if name == want_name and (want_port is None or port == want_port):
            return True
    return False


def served_hosts(host: str, port: int, extra: Iterable[str] = (), share: bool = False) -> list[str]:
    """The Host entries an app listening on `host`:`port` answers: the loopback names with the
    port, `host` itself unless it is a wildcard (0.0.0.0, ::), the `extra` entries
    (QA_ALLOWED_HOSTS), and gradio.live names with `--share`."""
    names = ["127.0.0.1", "localhost", "[::1]"]
    bare = host.strip("[]")
    if bare not in WILDCARDS and bare not in LOOPBACK:
        names.append(f"[{bare}]" if ":" in bare else bare)
    entries = [f"{name}:{port}" for name in names]
    entries += [e.strip() for e in extra if e.strip()]
    if share:
        entries.append(SHARE_DOMAIN)
    return entries


class HostCheck:
    """Pure-ASGI middleware: requests whose Host is not in `allowed` get a one-line 400 (a
    websocket is closed) and never reach the app it wraps."""

    def __init__(self, app, allowed: Iterable[str]) -> None:
        self.app = app
        self.allowed = tuple(allowed)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = next(
            (v.decode("latin-1") for k, v in scope.get("headers") or () if k == b"host"), None
        )
        if host_allowed(host, self.allowed):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = (
            f"Refused: this app does not serve the host {host or '(none)'!r}; "
            "open it at an address it serves, or add the name to QA_ALLOWED_HOSTS.\n"
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 400,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
