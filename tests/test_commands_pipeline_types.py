"""The generated pipeline typing package is up to date with the command methods."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT / "tests" / "typecheck" / "gen_pipeline_types.py"


def test_pipeline_types_are_generated_from_the_command_methods() -> None:
    spec = importlib.util.spec_from_file_location("gen_pipeline_types", GENERATOR)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    package: Path = module.PACKAGE
    want = module.render()
    on_disk = {path.name: path.read_text() for path in package.glob("*.py")}
    assert on_disk == want, (
        "asyncpool/client/commands/_pipeline_types/ is stale: run"
        " .venv/bin/python tests/typecheck/gen_pipeline_types.py"
    )
