"""Secret detection and redaction (tools/screening/secrets.py): what is caught, what normal code keeps."""

from pathlib import Path

import pytest

from evals.checks.safety_fixtures import FAKE, PEM, secret_repo
from tools.files.walk import is_ignored_name
from tools.screening.secrets import find_secrets, is_env_like, redact


def test_provider_tokens_pem_keys_and_url_passwords_are_redacted(tmp_path: Path) -> None:
    repo = secret_repo(tmp_path / "repo")
    text = (repo / "src" / "app.py").read_text()
    out, found = redact(text, "src/app.py")
    for name in ("aws_key_id", "aws_secret", "slack", "github", "stripe", "google", "url_password"):
        assert FAKE[name] not in out, name
    kinds = {s.kind for s in found}
    assert {"aws-access-key", "slack-token", "github-token", "stripe-access-key", "google-api-key"} <= kinds
    assert "password-in-url" in kinds
    assert '"[REDACTED:aws-access-key]"' in out and "def retry_delay()" in out  # the code stays
    assert [s.line for s in found][:2] == [3, 4]  # where: 1-based lines of the original

    signing = (repo / "src" / "signing.py").read_text()
    out, found = redact(signing, "src/signing.py")
    assert [s.kind for s in found] == ["private-key"]
    assert "MIIEowIBAAKCAQEA" not in out and "-----END" not in out and "def sign(data)" in out


def test_passwords_in_config_and_env_files(tmp_path: Path) -> None:
    repo = secret_repo(tmp_path / "repo")
    out, found = redact((repo / "config" / "settings.yaml").read_text(), "config/settings.yaml")
    assert FAKE["db_password"] not in out and found[0].kind == "password" and found[0].line == 4
    assert "host: db.internal" in out
    out, found = redact((repo / ".env").read_text(), ".env")
    assert FAKE["env_token"] not in out and "DEBUG=true" in out


@pytest.mark.parametrize(
    "line",
    [
        "password = get_password(user)",  # read, not stored
        'if secret_source == "Actions":',  # compared, not stored
        '"http://user:pass@localhost:8080"',  # placeholder credentials in a test URL
        'TOKEN = "${GITHUB_TOKEN}"',  # a template
        'AWS_KEY = "AKIAIOSFODNN7EXAMPLE"',  # AWS's documented sample key
        'jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJmb28ifQ.NnExK_dlNAYyzACrXtXDrcWOgGY2JuPbI4eDaHdfK5Y"',  # hand-made
        'password = "hunter2-correct-horse"  # in source code, a keyword alone is not enough',
    ],
)
def test_normal_code_is_left_alone(line: str) -> None:
    assert find_secrets(line, "module.py") == []


def test_a_pragma_allowlists_a_line() -> None:
    text = f'KEY = "{FAKE["aws_key_id"]}"  # pragma: allowlist secret\n'
    assert find_secrets(text, "a.py") == []


def test_secret_files_are_skipped_by_walks_but_templates_are_not() -> None:
    for name in (".env", ".env.production", "id_rsa", "server.key", "cert.pem", ".npmrc", "credentials"):
        assert is_ignored_name(name, False) and is_env_like(name), name
    for name in (".env.example", "settings.py", "keys.py", "README.md"):
        assert not is_ignored_name(name, False), name


def test_real_installed_libraries_get_no_redactions() -> None:
    """False positives on real code nobody tuned on: the libraries this venv installed."""
    import httpx
    import pydantic
    import rich

    found = []
    for package in (httpx, pydantic, rich):
        for path in Path(package.__file__).parent.rglob("*.py"):
            found += [(path.name, s) for s in find_secrets(path.read_text(encoding="utf-8"), path.name)]
    assert found == []


def test_the_gate_can_fail_what_detect_secrets_alone_leaves_is_redacted() -> None:
    # detect-secrets' private-key plugin flags a PEM key's BEGIN line; the key itself, the lines
    # below, it leaves (only its generic entropy plugins, which we leave out, see them).
    from detect_secrets.plugins.private_key import PrivateKeyDetector

    body = [ln for ln in PEM.splitlines() if ln and not ln.startswith("-----")]
    assert not any(list(PrivateKeyDetector().analyze_string(ln)) for ln in body)
    out, _ = redact("KEY = '" + PEM + "'", "k.py")
    assert not any(ln in out for ln in body)


def test_one_pass_over_a_folder_marks_every_file_a_secret_is_found_in(tmp_path: Path) -> None:
    from tools.screening.secrets import may_hold_secrets

    repo = secret_repo(tmp_path / "repo")
    paths = sorted(p for p in repo.rglob("*") if p.is_file())
    texts = [p.read_text() for p in paths] + ["def f():\n    return 1\n", "plain words only\n"]
    names = [str(p) for p in paths] + ["clean.py", "notes.md"]
    marks = may_hold_secrets(texts, names)
    for text, name, marked in zip(texts, names, marks, strict=True):
        if find_secrets(text, name):
            assert marked, name  # never a file with a secret left unscreened
    assert marks[-2:] == [False, False]  # and clean files skip the detector
