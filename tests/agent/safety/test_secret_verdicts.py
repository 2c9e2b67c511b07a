"""Clean verdicts of the secrets detector, kept across runs: speed without a leak."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from agent.gather.documents import to_documents
from agent.safety.secret_verdicts import KEY_BYTES, SecretVerdicts
from agent.tokens import TokenCounter
from evals.checks.safety_fixtures import FAKE, secret_repo, secret_values


def _pack(tmp_path: Path, repo: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FORAGE_", "GEMINI_", "GOOGLE_API"))}
    env.update(
        FORAGE_DATA_DIR=str(tmp_path / "data"), HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "c")
    )
    return subprocess.run(
        [sys.executable, "-m", "cli.app", "pack", str(repo), "--format", "json", "--stdout"],
        capture_output=True, text=True, timeout=180, env=env, cwd=tmp_path,
    )  # fmt: skip


def _store(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "data" / "screened").glob("secrets-clean-*.bin"))


def _redacted(packed: subprocess.CompletedProcess[str]) -> set[tuple[str, str]]:
    assert packed.returncode == 0, packed.stderr
    return {(r["where"], r["kind"]) for r in json.loads(packed.stdout)["safety"]["redactions"]}


def test_secrets_are_redacted_on_every_run_and_a_changed_file_or_name_is_scanned_again(
    tmp_path: Path,
) -> None:
    repo = secret_repo(tmp_path / "repo")
    first = _pack(tmp_path, repo)
    places = _redacted(first)
    assert ("src/app.py:3", "aws-access-key") in places
    [store] = _store(tmp_path)
    keys = store.stat().st_size // KEY_BYTES
    files_with_secrets = len({where.split(":")[0] for where, _ in places})
    assert 0 < keys < len([p for p in repo.rglob("*") if p.is_file()]) - files_with_secrets + 1

    second = _pack(tmp_path, repo)  # everything known: the same pack, byte for byte, nothing new stored
    assert second.stdout == first.stdout
    assert store.stat().st_size // KEY_BYTES == keys
    assert not [v for v in secret_values() if v in second.stdout]

    # An edited file that was clean is scanned again.
    (repo / "README.md").write_text(f"# Billing\nThe deploy token is {FAKE['github']}.\n")
    third = _pack(tmp_path, repo)
    assert ("README.md:2", "github-token") in _redacted(third)
    assert FAKE["github"] not in third.stdout

    # The same text under another name is another verdict: a password line is a secret in
    # configuration, and prose in a markdown file.
    line = f"password: {FAKE['db_password']}\n"
    (repo / "notes.md").write_text(line)
    assert FAKE["db_password"] in _pack(tmp_path, repo).stdout  # prose: packed as it is
    (repo / "notes.md").rename(repo / "notes.yaml")
    renamed = _pack(tmp_path, repo)
    assert ("notes.yaml:1", "password") in _redacted(renamed)
    assert FAKE["db_password"] not in renamed.stdout


def test_known_clean_texts_skip_the_detector_and_texts_with_secrets_never_do(tmp_path: Path) -> None:
    entries = [
        {
            "uri": "src/draws.py",
            "text": "def draws(aws_region):\n    return aws_region\n",
        },  # scout hit, clean
        {"uri": "src/keys.py", "text": f'KEY = "{FAKE["aws_key_id"]}"\n'},
        {"uri": "src/plain.py", "text": "x = 1\n"},
    ]
    counter = TokenCounter()
    verdicts = SecretVerdicts(tmp_path)
    docs = to_documents(entries, "files", counter, "now", verdicts=verdicts)
    assert FAKE["aws_key_id"] not in docs[1].text and docs[0].text == entries[0]["text"]

    again = SecretVerdicts(tmp_path)  # a later run: loaded from the store
    digests = [d.hash for d in docs]
    texts, names = [e["text"] for e in entries], [e["uri"] for e in entries]
    assert again.marks(texts, names, digests) == [False, True, False]
    assert FAKE["aws_key_id"] not in to_documents(entries, "files", counter, "now", verdicts=again)[1].text


def test_a_torn_store_reads_as_empty_and_stores_of_older_rules_are_removed(tmp_path: Path, caplog) -> None:
    folder = tmp_path / "screened"
    folder.mkdir()
    old = folder / "secrets-clean-0000000000000000.bin"
    old.write_bytes(b"\0" * KEY_BYTES)
    current = SecretVerdicts(tmp_path)
    assert not old.exists() and current.path is not None
    current.path.write_bytes(b"\1" * (2 * KEY_BYTES + 3))  # a crash mid-append
    with caplog.at_level(logging.WARNING, logger="forage.state"):
        assert SecretVerdicts(tmp_path).clean == set()
    assert not current.path.exists()
    (aside,) = folder.glob("*.damaged-*")  # set aside, not deleted, and said once
    assert [r.getMessage() for r in caplog.records] == [
        "2 screened-file verdicts could not be read (those files will be screened again); "
        f"the old file is at {aside}"
    ]
