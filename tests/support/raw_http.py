"""A bare HTTP/1.1 client on a socket, for bodies no ordinary client sends: hundreds of MiB made
as they go (never held in memory), a Content-Length the body never reaches, a body that stalls.

It stops sending the moment the server answers, as a real client does when the server refuses
the body before reading it, and then reads the answer.
"""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.client import HTTPResponse
from typing import Any


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    # Body bytes handed to the socket before the answer came (or all of them).
    sent: int
    # Seconds from the request line to the answer.
    seconds: float
    closed: bool = field(default=False)

    def json(self) -> Any:
        return json.loads(self.body)


def _answered(sock: socket.socket) -> bool:
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def send(
    port: int,
    path: str,
    chunks: Iterable[bytes],
    *,
    method: str = "POST",
    headers: Mapping[str, str] | None = None,
    content_length: int | None = None,
    finish: bool = True,
    timeout: float = 60.0,
) -> Answer:
    """Send `chunks` as the body: with `content_length` as announced (it may lie), else chunked.

    `finish=False` leaves a chunked body open after the last chunk: the client stalls, as one
    whose announced Content-Length is never reached does. Returns the answer; `sent` says how
    much of the body went out before it.
    """
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    started = time.monotonic()
    try:
        head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
        head += [f"{name}: {value}" for name, value in (headers or {}).items()]
        chunked = content_length is None
        head.append(
            "Transfer-Encoding: chunked" if chunked else f"Content-Length: {content_length}"
        )
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        sent = 0
        finished = True
        try:
            for chunk in chunks:
                if _answered(sock):
                    finished = False
                    break
                framed = b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk
                sock.sendall(framed)
                sent += len(chunk)
            if finished and chunked and finish:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        response = HTTPResponse(sock)
        response.begin()
        body = response.read()
        seconds = time.monotonic() - started
        return Answer(
            status=response.status,
            headers={k.lower(): v for k, v in response.getheaders()},
            body=body,
            sent=sent,
            seconds=seconds,
            closed=response.will_close,
        )
    finally:
        sock.close()


def json_of_size(size: int, piece: int = 1 << 20) -> Iterable[bytes]:
    """A JSON object of `size` bytes, {"name": "aaa…"}, made one piece at a time."""
    opening, closing = b'{"name": "', b'"}'
    left = size - len(opening) - len(closing)
    yield opening
    filler = b"a" * piece
    while left > 0:
        yield filler[: min(piece, left)]
        left -= piece
    yield closing
