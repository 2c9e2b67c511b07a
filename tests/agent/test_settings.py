from pathlib import Path

import pytest

from agent.errors import ConfigError
from agent.settings import load_settings


def _load(tmp_path: Path, flags=None, env=None, project: str | None = None, user: str | None = None):
    if project is not None:
        (tmp_path / "forage.toml").write_text(project)
    user_cfg = tmp_path / "user.toml"
    if user is not None:
        user_cfg.write_text(user)
    return load_settings(flags or {}, env=env or {}, cwd=tmp_path, user_config=user_cfg)


def test_defaults(tmp_path):
    s = _load(tmp_path)
    assert s.model == "auto" and s.route == "auto" and s.api_key() is None


def test_precedence_flags_env_project_user(tmp_path):
    user = 'route = "full"\nmax_steps = 3\nreserve = 100\nbudget = 10'
    project = 'route = "select"\nmax_steps = 4\nreserve = 200'
    env = {"FORAGE_ROUTE": "self", "FORAGE_MAX_STEPS": "5"}
    s = _load(tmp_path, flags={"route": "full"}, env=env, project=project, user=user)
    assert s.route == "full"  # flag beats env
    assert s.max_steps == 5  # env beats project
    assert s.reserve == 200  # project beats user
    assert s.budget == 10  # user beats default


def test_env_lists_and_key(tmp_path):
    s = _load(tmp_path, env={"FORAGE_ALLOW_HOSTS": "127.0.0.1, docs.local", "GEMINI_API_KEY": "sekrit-123"})
    assert s.allow_hosts == ["127.0.0.1", "docs.local"]
    assert s.api_key() == "sekrit-123"
    assert "sekrit-123" not in repr(s)  # secrets are not shown


def test_forage_table_is_accepted(tmp_path):
    s = _load(tmp_path, project='[forage]\nroute = "select"\n')
    assert s.route == "select"


def test_unknown_key_names_file_and_key(tmp_path):
    with pytest.raises(ConfigError) as exc:
        _load(tmp_path, project='rout = "full"\n')
    msg = str(exc.value)
    assert "forage.toml" in msg and "'rout'" in msg and "route" in msg


def test_bad_value_names_file_key_and_allowed_values(tmp_path):
    with pytest.raises(ConfigError) as exc:
        _load(tmp_path, user='route = "fastest"\n')
    msg = str(exc.value)
    assert "user.toml" in msg and "'route'" in msg and "auto | full | select | self" in msg


def test_bad_toml_is_reported(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        _load(tmp_path, project="route = \n")


def test_bad_env_value_is_reported(tmp_path):
    with pytest.raises(ConfigError, match="environment.*'max_steps'"):
        _load(tmp_path, env={"FORAGE_MAX_STEPS": "many"})
