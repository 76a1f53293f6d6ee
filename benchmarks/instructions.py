"""Instructions per GET, counted by cachegrind: ``python -m benchmarks.instructions``.

Throughput on a shared 2-core VM moves by 20-50 % from one second to the
next; the number of instructions the client executes per command does not
(two runs agree within 0.1 %).  This runs workload 1 (50 tasks doing GET on
one key; ``--workload serial``: workload 3, one task) in a child process under
``valgrind --tool=cachegrind`` twice, once with no measured GETs and once with
``--gets`` of them, against a throwaway redis-server, and prints the
difference per GET for each mode: exclusive and shared connections, with and
without OpenTelemetry metrics (``--loop uvloop``: on uvloop).  It needs
``valgrind`` (Debian: ``apt-get install valgrind``) and takes about half a
minute per mode.

The count covers the client process only (the server runs outside
valgrind); under valgrind the client runs ~50x slower, so replies arrive in
larger batches than at full speed, which lowers the per-GET share of
per-read costs a little.  Use it to compare two versions of the code, not as
a cost in microseconds.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence

MODES = ("exclusive", "exclusive+otel", "shared", "shared+otel")


async def _child(port: int, mode: str, gets: int, workload: str) -> None:
    from benchmarks.profile import gets_on_one_key

    shared, otel = mode.startswith("shared"), mode.endswith("+otel")
    await gets_on_one_key("127.0.0.1", port, workload, shared, otel, gets, contextlib.nullcontext())


def _instructions(port: int, mode: str, gets: int, workload: str, loop: str) -> int:
    """Instructions the child executed in all (startup included)."""
    command = [
        "valgrind",
        "--tool=cachegrind",
        "--cache-sim=no",
        "--cachegrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "benchmarks.instructions",
        "--child",
        str(port),
        mode,
        str(gets),
        workload,
        "--loop",
        loop,
    ]
    out = subprocess.run(command, capture_output=True, text=True, timeout=600, check=True).stderr
    found = re.search(r"I\s+refs:\s+([\d,]+)", out)
    if found is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{out}")
    return int(found[1].replace(",", ""))


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.instructions", description=__doc__)
    p.add_argument("modes", nargs="*", default=list(MODES), help=f"some of {', '.join(MODES)}")
    p.add_argument("--gets", type=int, default=20_000)
    p.add_argument(
        "--workload",
        default="get50",
        choices=("get50", "serial"),
        help="50 tasks (workload 1, the default) or one task (workload 3)",
    )
    p.add_argument("--loop", default="stdlib", choices=("stdlib", "uvloop"))
    p.add_argument(
        "--child", nargs=4, metavar=("PORT", "MODE", "GETS", "WL"), help=argparse.SUPPRESS
    )
    args = p.parse_args(argv)
    if args.child:
        port, mode, gets, workload = args.child
        from benchmarks.cli import loop_factory, run_in_fresh_loop

        run_in_fresh_loop(loop_factory(args.loop), _child(int(port), mode, int(gets), workload))
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    unknown = set(args.modes) - set(MODES)
    if unknown:
        p.error(f"unknown mode(s): {', '.join(sorted(unknown))}")
    from asyncpool.testing import RedisServer

    with RedisServer() as server:
        for mode in args.modes:
            base = _instructions(server.port, mode, 0, args.workload, args.loop)
            total = _instructions(server.port, mode, args.gets, args.workload, args.loop)
            print(f"{mode:16} {(total - base) / args.gets:9,.0f} instructions per GET", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
