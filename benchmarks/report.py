"""Medians, ratios and targets from the raw samples; Markdown, JSON and PNG output.

Ratios are computed *per round* (the clients of one round ran back to back,
so machine drift hits them alike) and the median of those is reported.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.workloads import WORKLOADS, Sample, Workload

Results = dict[tuple[str, str, str], list[Sample]]  # (loop, workload, client) -> per round

START = "<!-- benchmark-results:start -->"
END = "<!-- benchmark-results:end -->"


@dataclass(frozen=True)
class Target:
    """A performance bar from the issue: ``metric`` compared with ``bound``."""

    workload: str
    loop: str | None  # None: every loop
    metric: str  # "ratio", "p99_ratio", "ns"
    bound: float
    text: str

    def met(self, value: float | None) -> bool | None:
        if value is None:
            return None
        if self.metric == "ratio":
            return value >= self.bound
        return value <= self.bound if self.metric == "p99_ratio" else value < self.bound


TARGETS = (
    Target("get50", "stdlib", "ratio", 1.4, ">= 1.4x redis-py"),
    Target("get50", "uvloop", "ratio", 3.0, ">= 3x redis-py"),
    Target("serial", None, "ratio", 1.2, ">= 1.2x redis-py"),
    Target("pipeline", None, "ratio", 1.5, ">= 1.5x redis-py"),
    Target("contention", None, "p99_ratio", 0.7, "p99 <= 0.7x redis-py"),
    Target("acquire", None, "ns", 2000.0, "< 2000 ns"),
)


def _median(values: Iterable[float | None]) -> float | None:
    data = [v for v in values if v is not None]
    return statistics.median(data) if data else None


def _ratio(results: Results, loop: str, wk: str, num: str, den: str, value: str) -> float | None:
    """Median over rounds of ``num``'s value / ``den``'s value (same round)."""
    a = results.get((loop, wk, num), [])
    b = results.get((loop, wk, den), [])
    per_round = []
    for x, y in zip(a, b, strict=False):
        vx, vy = _value(x, value), _value(y, value)
        if vx is not None and vy:
            per_round.append(vx / vy)
    return _median(per_round)


def _value(sample: Sample, value: str) -> float | None:
    if value == "ops":
        return sample.ops_per_s
    if value == "ns":
        return sample.ns_per_op
    if value == "p50":
        return sample.percentile_us(50)
    return sample.percentile_us(99)


def summarise(results: Results, loops: Sequence[str], meta: dict[str, Any]) -> dict[str, Any]:
    """The machine-readable report (also the source of the table and chart)."""
    rows = []
    summary = []
    for loop in loops:
        for wl in WORKLOADS:
            value = "ns" if wl.metric == "ns" else "ops"
            present = [c for c in wl.clients if (loop, wl.key, c) in results]
            if not present:
                continue
            for client in present:
                samples = results[(loop, wl.key, client)]
                rows.append(
                    {
                        "loop": loop,
                        "workload": wl.key,
                        "client": client,
                        "rounds": len(samples),
                        "ops_per_s": _median(s.ops_per_s for s in samples)
                        if value == "ops"
                        else None,
                        "ns_per_op": _median(s.ns_per_op for s in samples)
                        if value == "ns"
                        else None,
                        "p50_us": _median(s.percentile_us(50) for s in samples),
                        "p99_us": _median(s.percentile_us(99) for s in samples),
                        "max_us": _median(
                            max(s.latencies) * 1e6 if s.latencies else None for s in samples
                        ),
                        "starved_tasks": _median(s.starved for s in samples),
                        "vs_redis_py": _ratio(results, loop, wl.key, client, "redis-py", value),
                        "of_ceiling": _ratio(results, loop, wl.key, client, "raw", value),
                        "per_round_ops_per_s": [round(s.ops_per_s, 1) for s in samples],
                    }
                )
            entry: dict[str, Any] = {
                "loop": loop,
                "workload": wl.key,
                "asyncpool_vs_redis_py": _ratio(
                    results, loop, wl.key, "asyncpool", "redis-py", value
                ),
                "asyncpool_vs_coredis": _ratio(
                    results, loop, wl.key, "asyncpool", "coredis", value
                ),
                "asyncpool_of_ceiling": _ratio(results, loop, wl.key, "asyncpool", "raw", value),
                "p99_vs_redis_py": _ratio(results, loop, wl.key, "asyncpool", "redis-py", "p99"),
                "otel_cost_pct": None,
            }
            otel = _ratio(results, loop, wl.key, "asyncpool+otel", "asyncpool", value)
            if otel is not None:
                entry["otel_cost_pct"] = (1 - otel) * 100
            for target in TARGETS:
                if target.workload == wl.key and target.loop in (None, loop):
                    if target.metric == "ratio":
                        got = entry["asyncpool_vs_redis_py"]
                    elif target.metric == "p99_ratio":
                        got = entry["p99_vs_redis_py"]
                    else:
                        got = _median(
                            s.ns_per_op for s in results.get((loop, wl.key, "asyncpool"), [])
                        )
                    entry["target"] = target.text
                    entry["target_value"] = got
                    entry["target_met"] = target.met(got)
            summary.append(entry)
    return {"meta": meta, "rows": rows, "summary": summary}


def _fmt(value: float | None, spec: str, suffix: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{suffix}"


def _title(key: str) -> str:
    for wl in WORKLOADS:
        if wl.key == key:
            return wl.title
    return key


def markdown(report: dict[str, Any]) -> str:
    """Summary table (one row per workload and loop) then the per-client detail."""
    meta = report["meta"]
    out = [
        f"Measured {meta['date']} on {meta['machine']}; {meta['rounds']} round(s) of"
        f" {meta['duration']} s per client and workload, medians reported."
        f" Server: redis-server {meta['server']} on loopback. Clients: asyncpool"
        f" {meta['versions']['asyncpool']}, redis-py {meta['versions']['redis']} (hiredis"
        f" {meta['versions']['hiredis']}), coredis {meta['versions']['coredis']},"
        f" valkey-glide {meta['versions'].get('valkey-glide', '-')};"
        f" Python {meta['python']}{' (-O)' if meta.get('python_optimize') else ''},"
        f" uvloop {meta['versions']['uvloop']}.",
        "",
        "| workload | loop | asyncpool / redis-py | asyncpool / coredis | of ceiling"
        " | target | met | OTel cost |",
        "|---|---|---:|---:|---:|---|:-:|---:|",
    ]
    for e in report["summary"]:
        ns = e["workload"] == "acquire"
        main_ratio = e["asyncpool_vs_redis_py"]
        if e["workload"] == "contention":
            ratio_text = (
                f"{_fmt(main_ratio, '.2f', 'x')} (p99 {_fmt(e['p99_vs_redis_py'], '.2f', 'x')})"
            )
        elif ns:
            ratio_text = f"{_fmt(main_ratio, '.2f', 'x')} time"
        else:
            ratio_text = _fmt(main_ratio, ".2f", "x")
        coredis = _fmt(e["asyncpool_vs_coredis"], ".2f", "x") + (" time" if ns else "")
        met = {True: "yes", False: "**no**", None: "-"}[e.get("target_met")]
        target = e.get("target", "-")
        if ns and e.get("target_value") is not None:
            target = f"{target} (got {e['target_value']:.0f})"
        out.append(
            f"| {_title(e['workload'])} | {e['loop']} | {ratio_text} | {coredis} |"
            f" {_fmt(e['asyncpool_of_ceiling'], '.0%')} | {target} | {met} |"
            f" {_fmt(e['otel_cost_pct'], '.1f', ' %')} |"
        )
    out += [
        "",
        "Per client. ops/s counts commands (a pipeline of 100 GETs is 100). Latency is per call,"
        " pool wait included; a call still waiting when the window closes counts with its age"
        " then. *starved*: tasks that completed no call in the window.",
        "",
        "| workload | loop | client | ops/s | ns/op | p50 µs | p99 µs | max µs | starved"
        " | vs redis-py | of ceiling |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["rows"]:
        out.append(
            f"| {_title(r['workload'])} | {r['loop']} | {r['client']} |"
            f" {_fmt(r['ops_per_s'], ',.0f')} | {_fmt(r['ns_per_op'], ',.0f')} |"
            f" {_fmt(r['p50_us'], '.0f')} | {_fmt(r['p99_us'], '.0f')} |"
            f" {_fmt(r['max_us'], ',.0f')} | {_fmt(r['starved_tasks'], '.0f')} |"
            f" {_fmt(r['vs_redis_py'], '.2f', 'x')} | {_fmt(r['of_ceiling'], '.0%')} |"
        )
    if meta.get("errors"):
        out += ["", "Cells that failed (no numbers):", ""]
        out += [
            f"- {e['client']} / {e['workload']} / {e['loop']}: `{e['error']}`"
            for e in meta["errors"]
        ]
    return "\n".join(out) + "\n"


def write_json(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1) + "\n")


def write_markdown(table: str, path: Path) -> None:
    """Replace the results block of ``path`` (created with just the table if missing)."""
    block = f"{START}\n{table}{END}"
    if path.exists():
        text = path.read_text()
        if START in text and END in text:
            head, rest = text.split(START, 1)
            tail = rest.split(END, 1)[1]
            path.write_text(head + block + tail)
            return
        path.write_text(text.rstrip("\n") + "\n\n" + block + "\n")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# Benchmarks\n\n{block}\n")


def write_chart(report: dict[str, Any], path: Path) -> None:
    """Grouped bars per loop: each client's speed relative to redis-py (= 1)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    loops = sorted({r["loop"] for r in report["rows"]}, key=["stdlib", "uvloop"].index)
    clients = [
        c
        for c in ("asyncpool", "asyncpool+otel", "coredis", "glide", "raw")
        if any(r["client"] == c for r in report["rows"])
    ]
    colours = {
        "asyncpool": "#2b6cb0",
        "asyncpool+otel": "#90cdf4",
        "coredis": "#dd6b20",
        "glide": "#38a169",
        "raw": "#a0aec0",
    }
    workloads: list[Workload] = [
        w for w in WORKLOADS if any(r["workload"] == w.key for r in report["rows"])
    ]
    fig, axes = plt.subplots(1, len(loops), figsize=(6.5 * len(loops), 4.2), squeeze=False)
    width = 0.8 / max(1, len(clients))
    for ax, loop in zip(axes[0], loops, strict=False):
        for ci, client in enumerate(clients):
            xs, ys = [], []
            for wi, wl in enumerate(workloads):
                row = next(
                    (
                        r
                        for r in report["rows"]
                        if r["loop"] == loop and r["workload"] == wl.key and r["client"] == client
                    ),
                    None,
                )
                if row is None or row["vs_redis_py"] is None:
                    continue
                ratio = row["vs_redis_py"]
                xs.append(wi + (ci - (len(clients) - 1) / 2) * width)
                ys.append(1 / ratio if wl.metric == "ns" else ratio)
            ax.bar(xs, ys, width, label=client, color=colours[client])
        ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--", label="redis-py")
        ax.set_xticks(range(len(workloads)))
        ax.set_xticklabels([w.key for w in workloads], rotation=20)
        ax.set_title(f"{loop} event loop")
        ax.set_ylabel("speed relative to redis-py (higher is better)")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
