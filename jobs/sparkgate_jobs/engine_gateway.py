"""The gateway's engine API as a warm engine calls it (engine.py says the protocol): one
POST at a time with the engine's token, and the backoff between tries the gateway did not
answer."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 10.0


class Unanswered(Exception):
    """The gateway gave no usable answer: worth trying again a little later."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """urllib would send the token wherever a redirect points: refused (the 3xx is raised)."""

    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


class Gateway:
    """The gateway's engine API for one engine; `post` returns (status, JSON object or None)
    for the statuses the protocol gives a meaning, and raises Unanswered for the others."""

    def __init__(self, base: str, engine_id: str, token: str) -> None:
        self._root = f"{base.rstrip('/')}/engine/v1/engines/{quote(engine_id, safe='')}"
        self._token = token
        self._opener = urllib.request.build_opener(_NoRedirect)

    def post(self, path: str, body: dict[str, Any], timeout: float) -> tuple[int, Any]:
        request = urllib.request.Request(
            self._root + path,
            data=json.dumps(body).encode("utf-8"),
            method="POST",
            headers={
                "Authorization": f"Bearer {self._token}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
        )
        try:
            with self._opener.open(request, timeout=timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, b""
            error.close()
        except (OSError, http.client.HTTPException) as error:  # URLError, timeouts, resets
            # the message names the URL and the reason, never a header
            raise Unanswered(f"{type(error).__name__}: {error}") from None
        if status >= 500 or status == 429 or 300 <= status < 400:
            raise Unanswered(f"HTTP {status}")
        return status, parse_object(raw)


def parse_object(raw: bytes) -> dict[str, Any] | None:
    """A JSON object, or None (no body, not JSON, not an object)."""
    try:
        value = json.loads(raw) if raw.strip() else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class Backoff:
    """The waits between tries of a request the gateway does not answer: 1 s doubling to 10 s.
    `wait` says False once it has not answered for `give_up` seconds in a row, counted on the
    clock, or as the sum of the waits when `sleep` does not really sleep (tests)."""

    def __init__(self, give_up: float, sleep: Callable[[float], Any]) -> None:
        self._give_up = give_up
        self._sleep = sleep
        self.reset()

    def reset(self) -> None:
        """An answer came: the next failure starts a new run of them."""
        self._since: float | None = None
        self._waited = 0.0
        self._delay = FIRST_BACKOFF_SECONDS

    def wait(self) -> bool:
        """After a failed try: False when it is time to give up, else waits, then True."""
        now = time.monotonic()
        if self._since is None:
            self._since = now
        if max(now - self._since, self._waited) >= self._give_up:
            return False
        self._sleep(self._delay)
        self._waited += self._delay
        self._delay = min(self._delay * 2, MAX_BACKOFF_SECONDS)
        return True
