"""Which gathered texts need the secrets detector, remembering the ones it already found clean.

Redaction is the costliest part of packing a repository that has not changed: one scouting
pass per detector pattern over every file (tools.screening.secrets.may_hold_secrets), the detector on the
files it points at, and importing detect-secrets at all. A clean verdict is a pure function of
the text, the file's name (its type and place decide which rules apply) and the rules, so it is
kept across runs under a key made of the three: a text that has not changed, under the same
name and the same rules, is not scanned again. Anything else (a new or edited file, a renamed
one, a new forage or detect-secrets) is scanned as before. Only clean verdicts are kept; a text
with a secret is redacted on every run.

The store is an append-only file of 16-byte keys in the data dir, one per rules fingerprint
(files of older fingerprints are removed), written once per batch with a single append. A
torn or foreign file is set aside (agent/damaged.py) and reads as empty. Whoever can write the data dir can already change
forage's settings, so the store is trusted as much as they are (it is created 0600).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agent.damaged import Kept, set_aside
from agent.paths import places

VERDICTS = Kept("screened-file verdicts", after="those files will be screened again")
KEY_BYTES = 16
MAX_KEYS = 4_000_000  # 64 MB: past that the store starts over
_FOLDER = "screened"
_PREFIX = "secrets-clean-"


def rules_fingerprint() -> str:
    """What the verdicts depend on: our detector's code, detect-secrets' version, Python's re.

    Read from the source files, so it changes with any edit and costs no import of detect-secrets.
    """
    h = hashlib.sha256(sys.version.split()[0].encode())
    for module, name in (
        ("tools.screening.secrets", None),
        ("tools.files.walk", None),
        ("detect_secrets", "__version__.py"),
    ):
        spec = importlib.util.find_spec(module)
        origin = Path(spec.origin) if spec and spec.origin else None
        if origin is not None and name:
            origin = origin.parent / name
        try:
            h.update(origin.read_bytes() if origin else b"?")
        except OSError:
            h.update(b"?")
    return h.hexdigest()[:16]


class SecretVerdicts:
    """Clean verdicts of the secrets detector, by text, name and rules; kept in a data dir."""

    def __init__(self, data_dir: Path | None) -> None:
        self.fingerprint = rules_fingerprint()
        self.path = data_dir / _FOLDER / f"{_PREFIX}{self.fingerprint}.bin" if data_dir else None
        self.clean: set[bytes] = self._load()
        self.pending: list[bytes] = []

    def key(self, name: str, digest: str) -> bytes:
        """The verdict's key: the text (by its sha256 `digest`), its name and the rules."""
        return hashlib.blake2b(
            f"{self.fingerprint}\0{name}\0{digest}".encode("utf-8", "surrogatepass"), digest_size=KEY_BYTES
        ).digest()

    def marks(self, texts: Sequence[str], names: Sequence[str], digests: Sequence[str]) -> list[bool]:
        """Which texts the detector must see: those not known clean that the scout points at.

        Texts the scout finds nothing in are clean by construction and remembered at once; the
        caller remembers the others (`remember`) once the detector found nothing in them.
        """
        keys = [self.key(n, d) for n, d in zip(names, digests, strict=True)]
        todo = [i for i, k in enumerate(keys) if k not in self.clean]
        marks = [False] * len(texts)
        if todo:
            from tools.screening.secrets import may_hold_secrets  # detect-secrets: only when something is new

            scouted = may_hold_secrets([texts[i] for i in todo], [names[i] for i in todo])
            for i, hit in zip(todo, scouted, strict=True):
                marks[i] = hit
                if not hit:
                    self._add(keys[i])
        return marks

    def remember(self, name: str, digest: str) -> None:
        """The detector found nothing in this text (by its digest): don't scan it again."""
        self._add(self.key(name, digest))

    def _add(self, key: bytes) -> None:
        if key not in self.clean:
            self.clean.add(key)
            self.pending.append(key)

    def save(self) -> None:
        """Append what was learned since the last save (one write; a failure only costs speed)."""
        if not self.pending or self.path is None:
            return
        data, self.pending = b"".join(self.pending), []
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
        except OSError:
            pass

    def _load(self) -> set[bytes]:
        if self.path is None:
            return set()
        for old in self.path.parent.glob(f"{_PREFIX}*.bin"):
            if old != self.path:
                old.unlink(missing_ok=True)
        try:
            data = self.path.read_bytes()
        except OSError:
            return set()
        if len(data) % KEY_BYTES:  # torn by a crash mid-write, or not ours: kept aside, start over
            set_aside(self.path, VERDICTS.lost(len(data) // KEY_BYTES))
            return set()
        if len(data) > MAX_KEYS * KEY_BYTES:
            self.path.unlink(missing_ok=True)  # too big: start over
            return set()
        return {data[i : i + KEY_BYTES] for i in range(0, len(data), KEY_BYTES)}


_OPEN: dict[Path | None, SecretVerdicts] = {}


def forget_verdicts() -> None:
    """Drop the loaded stores (they were saved as they learned); a later call loads them again."""
    for verdicts in _OPEN.values():
        verdicts.save()
    _OPEN.clear()


def verdicts_for(settings: Any) -> SecretVerdicts | None:
    """The settings' store (None when redaction is off): one per cache folder and process, so a chat
    or MCP session reuses what it loaded."""
    if not settings.redact:
        return None
    cache_dir = places(settings).cache
    if cache_dir not in _OPEN:
        _OPEN[cache_dir] = SecretVerdicts(cache_dir)
    return _OPEN[cache_dir]


def settle(
    verdicts: SecretVerdicts,
    names: Sequence[str],
    digests: Sequence[str],
    marks: Sequence[bool],
    metas: Sequence[dict],
) -> None:
    """Remember the texts the detector saw and found nothing in (no redactions in their meta), and save."""
    for name, digest, mark, meta in zip(names, digests, marks, metas, strict=True):
        if mark and not (meta.get("safety") or {}).get("redactions"):
            verdicts.remember(name, digest)
    verdicts.save()
