"""The HTTP client: one session, JSON in and out, retries with exponential backoff."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from acme.settings import RetrySettings, Settings


class ApiError(Exception):
    """The API answered with an error status after all retries."""


def backoff_delays(retry: RetrySettings) -> list[float]:
    """The sleep before each retry: retry_delay_seconds, doubled each time, capped."""
    delays = []
    delay = retry.retry_delay_seconds
    for _ in range(retry.attempts):
        delays.append(min(delay, retry.max_delay_seconds))
        delay *= 2
    return delays


class Client:
    """A small JSON client for the inventory API."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def get(self, path: str) -> Any:
        return self._request("GET", path)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self._request("POST", path, body)

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        url = self.settings.base_url.rstrip("/") + "/" + path.lstrip("/")
        data = json.dumps(body).encode() if body is not None else None
        last: Exception | None = None
        # Retry transient failures; the delay before each retry comes from RetrySettings.
        for delay in [0.0, *backoff_delays(self.settings.retry)]:
            if delay:
                time.sleep(delay)
            try:
                req = urllib.request.Request(
                    url, data=data, method=method, headers={"Content-Type": "application/json"}
                )
                with urllib.request.urlopen(req, timeout=self.settings.timeout_seconds) as resp:
                    return json.loads(resp.read() or b"null")
            except urllib.error.HTTPError as exc:
                if exc.code < 500 and exc.code != 429:
                    raise ApiError(f"{method} {url}: HTTP {exc.code}") from exc
                last = exc
            except urllib.error.URLError as exc:
                last = exc
        raise ApiError(f"{method} {url}: gave up after {self.settings.retry.attempts} retries") from last
