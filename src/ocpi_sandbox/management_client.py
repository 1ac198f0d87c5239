"""Call a running sandbox's management API over HTTP, for the command line.

Every failure becomes a ``ManagementError`` whose message says what to do next: start the sandbox, pass the
right token, or fix what the API's own error message names. Server-Sent Events are read line by line
(``events``), so ``logs --follow`` prints frames as they arrive.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import httpx

__all__ = ["ManagementClient", "ManagementError", "DEFAULT_URL", "URL_ENV", "TOKEN_ENV", "ORGANIZATION_ENV"]

DEFAULT_URL = "http://127.0.0.1:8080"
URL_ENV, TOKEN_ENV, ORGANIZATION_ENV = "OCPI_SANDBOX_URL", "OCPI_SANDBOX_TOKEN", "OCPI_SANDBOX_ORGANIZATION"


class ManagementError(Exception):
    """A call failed; ``str()`` says why and what to do. ``body`` is the API's JSON error, when there is one."""

    def __init__(self, message: str, *, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status, self.body = status, body


class ManagementClient:
    def __init__(self, url: str | None, token: str | None, *, organization: str | None = None,
                 timeout: float = 90.0) -> None:
        self.url = (url or DEFAULT_URL).rstrip("/")
        # The sandbox's own OCPI_SANDBOX_ADMIN_TOKEN works too: one variable for a CI job that runs both.
        token = token or os.environ.get("OCPI_SANDBOX_ADMIN_TOKEN")
        if not token:
            raise ManagementError(f"no token: pass --token, or set {TOKEN_ENV} (the admin token the sandbox "
                                  "printed when it first started, or a tenant token from POST /api/tenants)")
        headers = {"Authorization": f"Bearer {token}", "User-Agent": "ocpi-sandbox-cli"}
        if organization:
            headers["X-Organization-Id"] = organization
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ManagementClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, method: str, path: str, *, json_body: Any = None, params: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None) -> Any:
        """Send one request and return its JSON body (None for 204)."""
        try:
            reply = self._http.request(method, path, json=json_body, params=_clean(params), headers=headers)
        except httpx.TimeoutException:
            raise ManagementError(f"{method} {path}: the sandbox at {self.url} did not answer in time; it may be "
                                  "overloaded, retry") from None
        except httpx.TransportError as exc:
            raise ManagementError(self._unreachable(exc)) from None
        if reply.status_code >= 400:
            raise self._failure(reply)
        if reply.status_code == 204 or not reply.content:
            return None
        return reply.json()

    def events(self, path: str, *, params: dict[str, Any] | None = None) -> Iterator[tuple[str, Any]]:
        """Yield (event, data) from a Server-Sent Events stream until it ends; comments are skipped."""
        try:
            with self._http.stream("GET", path, params=_clean(params),
                                   timeout=httpx.Timeout(10.0, read=None)) as reply:
                if reply.status_code >= 400:
                    reply.read()
                    raise self._failure(reply)
                event, data = "message", []
                for line in reply.iter_lines():
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:"):
                        data.append(line[5:].strip())
                    elif not line and data:
                        yield event, json.loads("\n".join(data))
                        event, data = "message", []
        except httpx.TransportError as exc:
            if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
                raise ManagementError(f"the stream from {self.url} ended: the sandbox stopped or restarted; run "
                                      "the command again to follow on") from None
            raise ManagementError(self._unreachable(exc)) from None

    def _unreachable(self, exc: Exception) -> str:
        return (f"cannot reach the sandbox at {self.url} ({type(exc).__name__}): start it with "
                f"`ocpi-sandbox serve`, or point --url / {URL_ENV} at where it runs")

    def _failure(self, reply: httpx.Response) -> ManagementError:
        try:
            body = reply.json()
        except ValueError:
            body = None
        message = body.get("message") if isinstance(body, dict) else None
        where = f"{reply.request.method} {reply.request.url.path}"
        if reply.status_code == 401:
            text = (f"the sandbox refused the token ({message or 'unauthorized'}): pass the admin token it printed "
                    f"at first start, or a tenant token, with --token or {TOKEN_ENV}")
        elif reply.status_code == 403:
            text = f"{where}: not allowed with this token ({message or 'forbidden'})"
        else:
            text = f"{where} answered {reply.status_code}: {message or reply.text[:500]}"
        return ManagementError(text, status=reply.status_code, body=body)


def _clean(params: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if params is None else {k: v for k, v in params.items() if v is not None}
