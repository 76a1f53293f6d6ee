#!/usr/bin/env python3
"""Project tasks that need nothing but Python and pip.

    python dev.py demo      # the gateway demo against an embedded redis-server
    python dev.py test      # the test suite (extra arguments go to pytest)
    python dev.py check     # ruff, mypy --strict (package + tests/typecheck), import-linter
    python dev.py docs      # build the documentation site (mkdocs --strict)
    python dev.py bench     # the benchmarks against redis-py and coredis

Each task makes (once) a virtual environment in ``.venv`` and installs the
project with the extras it needs; later runs reuse it and reinstall only when
pyproject.toml changed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("ASYNCPOOL_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")

EXTRAS = {
    "demo": "demo",
    "test": "test",
    "check": "test,lint",
    "docs": "docs",
    "bench": "bench",
}


def ensure_env(extras: str) -> None:
    """Create .venv if needed and install the project with ``extras``."""
    if not PYTHON.exists():
        print(f"dev.py: creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
        run([str(PYTHON), "-m", "pip", "install", "-q", "--upgrade", "pip"])
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    stamp = VENV / f".asyncpool-{extras.replace(',', '-')}-{digest}"
    if not stamp.exists():
        print(f"dev.py: installing asyncpool-redis[{extras}] into {VENV}", flush=True)
        run([str(PYTHON), "-m", "pip", "install", "-q", "-e", f"{ROOT}[{extras}]"])
        # The distribution was called "asyncpool" before (a name taken on the package
        # index by an unrelated project): drop that old editable install if present.
        if list(VENV.glob("lib*/*/site-packages/asyncpool-*.dist-info")):
            run([str(PYTHON), "-m", "pip", "uninstall", "-q", "-y", "asyncpool"])
        stamp.touch()


def run(cmd: list[str]) -> None:
    """Run ``cmd`` from the project root; exit with its code if it fails."""
    code = subprocess.call(cmd, cwd=ROOT)
    if code:
        sys.exit(code)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in EXTRAS:
        print(__doc__)
        return 2
    task, rest = argv[0], argv[1:]
    ensure_env(EXTRAS[task])
    py = str(PYTHON)
    if task == "demo":
        return subprocess.call([py, "examples/demo.py", *rest], cwd=ROOT)
    if task == "test":
        return subprocess.call([py, "-m", "pytest", *rest], cwd=ROOT)
    if task == "check":
        run([py, "-m", "ruff", "check", "."])
        run([py, "-m", "ruff", "format", "--check", "."])
        run([py, "-m", "mypy"])
        run([py, "-m", "mypy", "tests/typecheck"])  # assert_type checks of the public API
        run([str(BIN / "lint-imports")])
        return 0
    if task == "docs":
        env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
        return subprocess.call([py, "-m", "mkdocs", "build", "--strict", *rest], cwd=ROOT, env=env)
    if task == "bench":
        return subprocess.call([py, "-m", "benchmarks", *rest], cwd=ROOT)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
