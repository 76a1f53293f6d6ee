"""Side-by-side benchmarks: asyncpool, redis-py (hiredis) and coredis on one server.

Run ``python -m benchmarks`` (``--quick`` for a smoke run); see
docs/benchmarks.md for what each workload measures and how to read the table.
"""
