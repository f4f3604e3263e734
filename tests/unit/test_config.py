"""Settings from the environment: typed, case-insensitive names, and a clear refusal of a malformed value."""

from __future__ import annotations

from pathlib import Path

import pytest
from ragcore.config import Settings


def test_defaults_when_the_environment_names_nothing() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.runtime == "local" and settings.port == 9380 and settings.data_dir == Path("./var")
    assert settings.aws_endpoint_url is None and settings.parse_lease_s == 600.0


def test_values_are_typed_and_names_case_insensitive() -> None:
    settings = Settings.from_env({"port": "9000", "RAGFLOW_RUNTIME": "AWS", "Data_Dir": "/tmp/x", "LLM_TIMEOUT_S": "2.5",
                                  "AWS_ENDPOINT_URL": "", "TABLE_NAME": "t"})
    assert settings.port == 9000 and isinstance(settings.port, int)
    assert settings.runtime == "aws"
    assert settings.data_dir == Path("/tmp/x") and settings.sqlite_path == Path("/tmp/x/ragflow.sqlite3")
    assert settings.llm_timeout_s == 2.5
    assert settings.aws_endpoint_url is None  # empty means unset, as before
    assert settings.table_name == "t"


@pytest.mark.parametrize(("name", "value", "message"), [
    ("PORT", "nine", "PORT must be an integer, got 'nine'"),
    ("PARSE_LEASE_S", "soon", "PARSE_LEASE_S must be a number, got 'soon'"),
    ("RAGFLOW_RUNTIME", "gcp", "RAGFLOW_RUNTIME must be one of local, aws, got 'gcp'"),
])
def test_a_malformed_value_stops_start_up_naming_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.from_env({name: value})


def test_updates_make_a_new_settings_object() -> None:
    base = Settings.from_env({})
    keyed = base.with_updates(llm_api_key="sk-1")
    assert keyed.llm_api_key == "sk-1" and base.llm_api_key == ""
