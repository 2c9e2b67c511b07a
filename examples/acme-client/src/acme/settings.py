"""Settings for acme-client, read from acme.toml and ACME_* environment variables."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RetrySettings:
    attempts: int = 4
    retry_delay_seconds: float = 0.5
    max_delay_seconds: float = 8.0


@dataclass(frozen=True)
class Settings:
    base_url: str
    timeout_seconds: float
    retry: RetrySettings


def load(path: Path = Path("acme.toml")) -> Settings:
    """Load settings; ACME_RETRY_DELAY overrides retry.retry_delay_seconds from the file."""
    data = tomllib.loads(path.read_text()) if path.exists() else {}
    api = data.get("api", {})
    retry = data.get("retry", {})
    delay = float(os.environ.get("ACME_RETRY_DELAY", retry.get("retry_delay_seconds", 0.5)))
    return Settings(
        base_url=api.get("base_url", "https://inventory.acme.example/api/v2"),
        timeout_seconds=float(api.get("timeout_seconds", 10)),
        retry=RetrySettings(
            attempts=int(retry.get("attempts", 4)),
            retry_delay_seconds=delay,
            max_delay_seconds=float(retry.get("max_delay_seconds", 8.0)),
        ),
    )
