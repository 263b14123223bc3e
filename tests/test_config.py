"""Configuration: precedence, validation with clear messages, masking of secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatd.config import ConfigError, load_config


def test_defaults_without_any_source(tmp_path: Path) -> None:
    cfg = load_config(env={"CHATD_DATA_DIR": str(tmp_path)})
    assert cfg.host == "127.0.0.1"
    assert cfg.port == 8443
    assert cfg.tls is True
    assert cfg.embedded_db
    assert cfg.registration == "open"


def test_precedence_file_then_env_then_flags(tmp_path: Path) -> None:
    (tmp_path / "chatd.toml").write_text('port = 1111\nhost = "0.0.0.0"\nlog_level = "debug"\n')
    cfg = load_config(env={"CHATD_DATA_DIR": str(tmp_path), "CHATD_PORT": "2222"}, overrides={"host": "::1"})
    assert cfg.port == 2222  # env beats file
    assert cfg.host == "::1"  # flag beats file
    assert cfg.log_level == "debug"  # file beats default


def test_explicit_config_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="an existing TOML file"):
        load_config(config_file=tmp_path / "missing.toml", env={})


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("port", "70000", "an integer from 0 to 65535"),
        ("port", "eighty", "an integer from 0 to 65535"),
        ("tls", "maybe", "true or false"),
        ("registration", "sometimes", "one of open, invite, closed"),
        ("database_url", "mysql://x", "a PostgreSQL URL"),
        ("database_url", "postgresql://h:notaport/db", "numeric port"),
        ("public_origins", "chat.example.org", "origins such as"),
        ("session_idle_secs", "5", "an integer from 60"),
        ("log_level", "loud", "one of debug"),
    ],
)
def test_bad_env_value_names_key_value_and_expectation(key: str, value: str, expected: str, tmp_path: Path) -> None:
    env = {"CHATD_DATA_DIR": str(tmp_path), f"CHATD_{key.upper()}": value}
    with pytest.raises(ConfigError) as info:
        load_config(env=env)
    msg = str(info.value)
    assert key in msg
    assert repr(value) in msg
    assert expected in msg


def test_bad_file_value_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "chatd.toml").write_text("port = true\n")
    with pytest.raises(ConfigError) as info:
        load_config(env={"CHATD_DATA_DIR": str(tmp_path)})
    assert "port" in str(info.value)
    assert str(tmp_path / "chatd.toml") in str(info.value)


def test_unknown_file_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "chatd.toml").write_text("sesion_idle_secs = 60\n")
    with pytest.raises(ConfigError, match=r"sesion_idle_secs.*a known key"):
        load_config(env={"CHATD_DATA_DIR": str(tmp_path)})


def test_invalid_toml_is_refused(tmp_path: Path) -> None:
    (tmp_path / "chatd.toml").write_text("port = = 1\n")
    with pytest.raises(ConfigError, match="valid TOML"):
        load_config(env={"CHATD_DATA_DIR": str(tmp_path)})


def test_unknown_env_variable_only_warns(tmp_path: Path) -> None:
    warnings: list[str] = []
    cfg = load_config(env={"CHATD_DATA_DIR": str(tmp_path), "CHATD_COLOUR": "blue"}, warn=warnings.append)
    assert cfg.port == 8443
    assert warnings == ["ignoring unknown environment variable CHATD_COLOUR"]


def test_cross_field_checks(tmp_path: Path) -> None:
    base = {"CHATD_DATA_DIR": str(tmp_path)}
    with pytest.raises(ConfigError, match="session_max_secs"):
        load_config(env={**base, "CHATD_SESSION_IDLE_SECS": "7200", "CHATD_SESSION_MAX_SECS": "3600"})
    with pytest.raises(ConfigError, match="tls_key"):
        load_config(env={**base, "CHATD_TLS_CERT": "/etc/cert.pem"})
    with pytest.raises(ConfigError, match="ws_timeout_secs"):
        load_config(env={**base, "CHATD_WS_PING_SECS": "30", "CHATD_WS_TIMEOUT_SECS": "20"})


def test_masked_hides_database_password(tmp_path: Path) -> None:
    cfg = load_config(env={"CHATD_DATA_DIR": str(tmp_path), "CHATD_DATABASE_URL": "postgresql://chatd:s3cret@db:5432/chatd"})
    shown = cfg.masked()
    assert "s3cret" not in repr(shown)
    assert shown["database_url"] == "postgresql://chatd:***@db:5432/chatd"


def test_origins_default_to_the_listener(tmp_path: Path) -> None:
    cfg = load_config(env={"CHATD_DATA_DIR": str(tmp_path)})
    assert "https://localhost:9000" in cfg.origins(9000)
    assert "https://127.0.0.1:9000" in cfg.origins(9000)
    cfg = load_config(env={"CHATD_DATA_DIR": str(tmp_path), "CHATD_PUBLIC_ORIGINS": "https://Chat.Example.org"})
    assert cfg.origins(9000) == ("https://chat.example.org",)
