"""Settings: the only place that reads environment variables and config files.

Precedence, highest first: CLI flags > environment (FORAGE_*, GEMINI_API_KEY) > project
./forage.toml > user config (agent/paths.py: XDG_CONFIG_HOME/forage/config.toml) > defaults.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from agent.errors import ConfigError
from agent.mcp_config import McpServer, Origin, from_editor_json, server_entries
from agent.paths import config_file, default_data_dir
from tools.pdf.limits import PdfLimits

Route = Literal["auto", "full", "select", "self"]
Render = Literal["auto", "always", "never"]
Embedding = Literal["auto", "local", "torch", "gemini", "none"]
Precision = Literal["int8", "fp32"]
PackFormat = Literal["markdown", "xml", "json"]


class Price(BaseModel):
    """USD per 1M tokens. Output includes thinking tokens, as Gemini bills them."""

    input: float = Field(ge=0)
    cached: float = Field(ge=0)
    output: float = Field(ge=0)
    # Some models charge more for long prompts: the rates above `long_above` prompt tokens.
    long_above: int | None = None
    long_input: float | None = None
    long_cached: float | None = None
    long_output: float | None = None

    def cost(self, prompt: int, cached: int, output: int) -> float:
        """The cost of one request: uncached prompt, cached prompt and output tokens."""
        long = self.long_above is not None and prompt > self.long_above
        rate_in = self.long_input if long and self.long_input is not None else self.input
        rate_cached = self.long_cached if long and self.long_cached is not None else self.cached
        rate_out = self.long_output if long and self.long_output is not None else self.output
        return ((prompt - cached) * rate_in + cached * rate_cached + output * rate_out) / 1_000_000


class Settings(BaseModel):
    """Everything forage can be told. Field names are the forage.toml keys."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)

    # model
    model: str = Field(
        "auto",
        description="'auto' (Gemini when a key is set, else extractive), 'extractive', or a Gemini model name",
    )
    gemini_api_key: SecretStr | None = Field(
        None, description="Gemini API key (prefer the GEMINI_API_KEY variable)"
    )
    gemini_base_url: str | None = Field(None, description="Gemini API base URL (proxies, tests)")
    window: int | None = Field(
        None, gt=0, description="model input window in tokens; default: asked from the model"
    )
    reserve: int | None = Field(
        None,
        ge=0,
        description="tokens kept free for history and the answer; default: 8,192, at most a quarter of the window",
    )
    budget: int | None = Field(
        None, gt=0, description="hard token budget for the pack; default: window - reserve"
    )
    route: Route = Field("auto", description="auto | full | select | self")
    # gathering
    max_steps: int = Field(
        12, ge=1, le=10_000, description="most plan/act rounds (each continuation page is one)"
    )
    max_gather_tokens: int = Field(4_000_000, gt=0, description="stop gathering past this many tokens")
    compact_at: float = Field(
        0.25,
        gt=0,
        le=1,
        description="share of the window the planner's view of past calls may take; past it, older "
        "results are compacted to references to the corpus",
    )
    call_timeout: float = Field(120.0, gt=0, description="seconds each tool call may take")
    max_file_bytes: int = Field(2_000_000, gt=0, description="files larger than this are refused")
    roots: list[Path] = Field(
        default_factory=list, description="if set, local sources must lie inside these folders"
    )
    # web
    allow_hosts: list[str] = Field(
        default_factory=list, description="hosts allowed despite private/loopback addresses"
    )
    ignore_robots: bool = Field(False, description="fetch pages that robots.txt disallows")
    chromium_path: str | None = Field(
        None, description="path to the Chromium executable; default: found on PATH"
    )
    render: Render = Field("auto", description="auto | always | never")
    crawl: bool = Field(False, description="follow same-site links from URL sources")
    max_pages: int = Field(20, ge=1, le=10_000, description="most pages per crawl")
    max_depth: int = Field(2, ge=0, le=20, description="most link hops per crawl")
    include: list[str] = Field(default_factory=list, description="crawl only URLs matching these patterns")
    exclude: list[str] = Field(default_factory=list, description="never crawl URLs matching these patterns")
    # safety
    redact: bool = Field(
        True, description="replace secrets with [REDACTED:kind] before anything is packed or sent"
    )
    allow_writes: bool = Field(
        False, description="let the agent call third-party tools not annotated read-only (readOnlyHint)"
    )
    allow_writes_servers: list[str] = Field(
        default_factory=list, description="third-party MCP servers whose tools may change things"
    )
    # pdf
    pdf_password: SecretStr | None = Field(None, description="password for encrypted PDFs")
    # One set of PDF limits for every path (pack in-process, the pdf server, PDFs behind URLs):
    # the defaults and their reasons are PdfLimits'.
    pdf_deadline: float = Field(
        PdfLimits().deadline, gt=0, description="seconds allowed to extract the text of one PDF"
    )
    pdf_memory_mb: int = Field(
        PdfLimits().memory_mb, ge=64, description="memory limit in MB of each PDF worker process"
    )
    # retrieval
    chroma_url: str | None = Field(
        None, description="Chroma server URL; default: embedded store in the cache folder"
    )
    ladder: bool = Field(
        True, description="under a budget: chunks in full, then outlines, then a path list (off: chunks only)"
    )
    embedding: Embedding = Field("auto", description="auto | local (ONNX) | torch | gemini | none")
    # the Gemini API's faults: a busy API (429/5xx), a broken connection or a late first byte is retried
    api_tries: int = Field(3, ge=1, le=10, description="tries per Gemini API call before giving up")
    api_backoff: float = Field(2.0, ge=0, description="seconds before the first retry; doubled each time")
    api_timeout: float = Field(
        180.0, gt=0, description="seconds to wait for the Gemini API's next byte before retrying"
    )
    debug: bool = Field(False, description="print full tracebacks instead of one line and a log (--debug)")
    embedding_precision: Precision = Field(
        "int8", description="the local model's graph: int8 (quantized, 1.4-2.4x the chunks/s of fp32) | fp32"
    )
    embed_all: bool = Field(
        False, description="embed generated, vendored, minified and data files too (default: words only)"
    )
    # storage
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="sessions, chat history, MCP approvals; given, it holds the caches too "
        "(default: the platform data folder, XDG_DATA_HOME/forage)",
    )
    cache_dir: Path | None = Field(
        None,
        description="index, embeddings, checkouts and other caches (default: data_dir when that is "
        "given, else the platform cache folder, XDG_CACHE_HOME/forage)",
    )
    # output
    pack_format: PackFormat = Field("markdown", description="markdown | xml | json")
    # costs
    prices: dict[str, Price] = Field(
        default_factory=dict,
        description='USD per 1M tokens per model, e.g. [prices."gemini-3.8-flash"] input, cached, output',
    )
    # MCP
    reply_tokens: int = Field(
        24_000, ge=1000, description="most tokens in one forage mcp tool reply; bigger packs come in pages"
    )
    mcp_servers: dict[str, McpServer] = Field(
        default_factory=dict, description="third-party MCP servers by name ([mcp_servers.NAME] tables)"
    )
    mcp_config: list[Path] = Field(
        default_factory=list,
        description="mcp.json files (the editors' mcpServers format) to read servers from",
    )

    def api_key(self) -> str | None:
        return self.gemini_api_key.get_secret_value() if self.gemini_api_key else None

    def reserve_for(self, window: int) -> int:
        """Tokens kept free of the pack: the setting, else 8,192 but never more than a quarter."""
        if self.reserve is not None:
            return min(self.reserve, window - 1)
        return min(8192, window // 4)

    def password(self) -> str | None:
        return self.pdf_password.get_secret_value() if self.pdf_password else None

    def pdf_limits(self) -> PdfLimits:
        """The limits every path reads a PDF under, whichever command runs."""
        return PdfLimits(deadline=self.pdf_deadline, memory_mb=self.pdf_memory_mb)


_ENV_PREFIX = "FORAGE_"


def _allowed(name: str) -> str:
    field = Settings.model_fields[name]
    ann = field.annotation
    if get_origin(ann) is Literal:
        return " | ".join(map(str, get_args(ann)))
    for arg in get_args(ann):
        if get_origin(arg) is Literal:
            return " | ".join(map(str, get_args(arg)))
    return field.description or ""


def _check(values: Mapping[str, Any], origin: str) -> dict[str, Any]:
    """Validate one layer alone so an error names the layer it came from."""
    unknown = [k for k in values if k not in Settings.model_fields]
    if unknown:
        known = ", ".join(sorted(Settings.model_fields))
        raise ConfigError(f"{origin}: unknown key {unknown[0]!r}. Allowed keys: {known}")
    try:
        Settings.model_validate(dict(values))
    except ValidationError as exc:
        err = exc.errors()[0]
        key = str(err["loc"][0]) if err["loc"] else "?"
        raise ConfigError(
            f"{origin}: bad value for {key!r} ({values.get(key)!r}): {err['msg']}. Allowed: {_allowed(key)}"
        ) from exc
    return dict(values)


def _read_toml(path: Path) -> tuple[dict[str, Any], Any]:
    """One TOML layer: its settings and its raw [mcp_servers] table (validated with its origin)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from exc
    # Accept either top-level keys or a [forage] table.
    table = dict(data.get("forage", data) if isinstance(data.get("forage"), dict) else data)
    servers = table.pop("mcp_servers", None)
    return _check(table, str(path)), servers


def _read_mcp_json(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}; fix the mcp_config path") from exc
    return from_editor_json(data, str(path))


class _Servers:
    """Third-party servers from every layer, by name: a later layer's entry replaces an earlier one."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.entries: dict[str, McpServer] = {}

    def add(self, table: Any, origin: Origin, defined_in: Path) -> None:
        if table is not None:
            self.entries |= server_entries(table, origin=origin, defined_in=str(defined_in), env=self.env)

    def add_json(self, paths: list[Any], origin: Origin, base: Path) -> None:
        for raw in paths:
            path = Path(raw).expanduser()
            path = path if path.is_absolute() else base / path
            self.add(_read_mcp_json(path), origin, path)


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, field in Settings.model_fields.items():
        raw = env.get(_ENV_PREFIX + name.upper())
        if raw is None or get_origin(field.annotation) is dict:  # tables (servers, prices): files only
            continue
        ann = field.annotation
        is_list = get_origin(ann) is list or any(get_origin(a) is list for a in get_args(ann))
        out[name] = [x.strip() for x in raw.split(",") if x.strip()] if is_list else raw
    key = env.get("GEMINI_API_KEY") or env.get("GOOGLE_API_KEY")
    if key and "gemini_api_key" not in out:
        out["gemini_api_key"] = key
    return _check(out, "environment (FORAGE_*)")


def load_settings(
    flags: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    user_config: Path | None = None,
) -> Settings:
    """Merge every layer once, at the edge; pass the result down."""
    env = os.environ if env is None else env
    cwd = cwd or Path.cwd()
    if user_config is None:
        user_config = config_file(env)
    merged: dict[str, Any] = {}
    servers = _Servers(env)
    # Servers the user defined (their own config, environment, flags) start freely; servers a
    # project folder defines (its forage.toml, mcp.json, .mcp.json) need one approval first.
    if user_config.is_file():
        layer, table = _read_toml(user_config)
        servers.add(table, "user", user_config)
        servers.add_json(layer.get("mcp_config", []), "user", user_config.parent)
        merged.update(layer)
    if (user_config.parent / "mcp.json").is_file():
        servers.add_json([user_config.parent / "mcp.json"], "user", cwd)
    project = cwd / "forage.toml"
    for name in (".mcp.json", "mcp.json"):
        if (cwd / name).is_file():
            servers.add_json([cwd / name], "project", cwd)
    if project.is_file():
        layer, table = _read_toml(project)
        servers.add(table, "project", project)
        servers.add_json(layer.get("mcp_config", []), "project", cwd)
        merged.update(layer)
    from_env = _from_env(env)
    servers.add_json(from_env.get("mcp_config", []), "user", cwd)
    merged.update(from_env)
    explicit = {k: v for k, v in (flags or {}).items() if v is not None}
    merged.update(_check(explicit, "command-line flags"))
    servers.add_json(explicit.get("mcp_config", []), "user", cwd)
    if servers.entries:
        merged["mcp_servers"] = {**merged.get("mcp_servers", {}), **servers.entries}
    return Settings.model_validate(merged)
