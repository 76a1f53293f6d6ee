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
    """A performance bar: ``num``'s ``value`` over ``den``'s (same round), against ``bound``.

    ``value`` is "ops" (throughput), "p99" (latency) or "ns" (cost per call,
    then ``den`` is empty and the bound is in nanoseconds).
    """

    workload: str
    loop: str | None  # None: every loop
    num: str
    den: str
    value: str
    op: str  # ">=" or "<="
    bound: float
    text: str

    def met(self, got: float | None) -> bool | None:
        if got is None:
            return None
        return got >= self.bound if self.op == ">=" else got <= self.bound


_AP, _SH = "asyncpool", "asyncpool-shared"
TARGETS = (
    Target("get50", "stdlib", _AP, "redis-py", "ops", ">=", 1.4, "asyncpool >= 1.4x redis-py"),
    Target("get50", "uvloop", _AP, "redis-py", "ops", ">=", 3.0, "asyncpool >= 3x redis-py"),
    Target("serial", None, _AP, "redis-py", "ops", ">=", 1.2, "asyncpool >= 1.2x redis-py"),
    Target("pipeline", None, _AP, "redis-py", "ops", ">=", 1.5, "asyncpool >= 1.5x redis-py"),
    Target("contention", None, _AP, "redis-py", "p99", "<=", 0.7, "asyncpool p99 <= 0.7x redis-py"),
    Target("acquire", None, _AP, "", "ns", "<=", 2000.0, "acquire+release < 2000 ns"),
    # issue 14: the shared-connection mode and OpenTelemetry
    Target("get50", None, _SH, "glide", "ops", ">=", 2.0, "shared >= 2x glide"),
    Target("get50", None, _SH, _AP, "ops", ">=", 3.0, "shared >= 3x exclusive"),
    Target("contention", None, _SH, _AP, "ops", ">=", 3.0, "shared >= 3x exclusive"),
    Target("contention", None, _SH, _AP, "p99", "<=", 1.0, "shared p99 <= exclusive p99"),
    Target(
        "serial", None, _SH, _AP, "ops", ">=", 0.95, "shared no worse than exclusive (5 % noise)"
    ),
    Target(
        "pipeline", None, _SH, _AP, "ops", ">=", 0.95, "shared no worse than exclusive (5 % noise)"
    ),
    Target("get50", None, "asyncpool+otel", _AP, "ops", ">=", 0.9, "OTel on >= 0.9x plain"),
    Target(
        "get50",
        None,
        "asyncpool-shared+otel",
        _SH,
        "ops",
        ">=",
        0.9,
        "shared, OTel on >= 0.9x plain",
    ),
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
                "asyncpool_vs_redis_py": _ratio(results, loop, wl.key, _AP, "redis-py", value),
                "asyncpool_vs_coredis": _ratio(results, loop, wl.key, _AP, "coredis", value),
                "asyncpool_of_ceiling": _ratio(results, loop, wl.key, _AP, "raw", value),
                "p99_vs_redis_py": _ratio(results, loop, wl.key, _AP, "redis-py", "p99"),
                "shared_vs_exclusive": _ratio(results, loop, wl.key, _SH, _AP, value),
                "shared_vs_glide": _ratio(results, loop, wl.key, _SH, "glide", value),
                "shared_p99_vs_exclusive": _ratio(results, loop, wl.key, _SH, _AP, "p99"),
                "otel_cost_pct": None,
                "shared_otel_cost_pct": None,
            }
            for key, num, den in (
                ("otel_cost_pct", "asyncpool+otel", _AP),
                ("shared_otel_cost_pct", "asyncpool-shared+otel", _SH),
            ):
                otel = _ratio(results, loop, wl.key, num, den, value)
                if otel is not None:
                    entry[key] = (1 - otel) * 100
            summary.append(entry)
    targets = []
    for target in TARGETS:
        for loop in loops:
            if target.loop not in (None, loop):
                continue
            if target.value == "ns":
                got = _median(
                    s.ns_per_op for s in results.get((loop, target.workload, target.num), [])
                )
            else:
                got = _ratio(results, loop, target.workload, target.num, target.den, target.value)
            if got is None:
                continue
            targets.append(
                {
                    "workload": target.workload,
                    "loop": loop,
                    "target": target.text,
                    "value": got,
                    "met": target.met(got),
                    "kind": target.value,
                }
            )
    return {"meta": meta, "rows": rows, "summary": summary, "targets": targets}


def _fmt(value: float | None, spec: str, suffix: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{suffix}"


def _title(key: str) -> str:
    for wl in WORKLOADS:
        if wl.key == key:
            return wl.title
    return key


def _turns(meta: dict[str, Any]) -> str:
    """How the window was cut (reports before turns existed ran each client in one piece)."""
    slices = meta.get("slices")
    if slices is None:
        return ", interleaved"
    if slices == 1:
        return ", clients one after another"
    return (
        f", taken in {slices} turns of {meta['duration'] / slices:.2g} s with the clients"
        " alternating (contention: one turn each)"
    )


def markdown(report: dict[str, Any]) -> str:
    """Summary table (one row per workload and loop), the targets, then per-client detail."""
    meta = report["meta"]
    versions = meta["versions"]
    out = [
        f"Measured {meta['date']} on {meta['machine']}; {meta['rounds']} round(s) of"
        f" {meta['duration']} s per client and workload{_turns(meta)}, medians of per-round"
        f" ratios reported. Server: redis-server {meta['server']} on loopback. Clients:"
        f" asyncpool {versions['asyncpool']}, redis-py {versions['redis']} (hiredis"
        f" {versions['hiredis']}), coredis {versions['coredis']},"
        f" valkey-glide {versions.get('valkey-glide', '-')};"
        f" Python {meta['python']}{' (-O)' if meta.get('python_optimize') else ''},"
        f" uvloop {versions['uvloop']}.",
        "",
        "| workload | loop | asyncpool / redis-py | shared / exclusive | shared / glide"
        " | asyncpool / coredis | of ceiling | OTel cost (excl. / shared) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for e in report["summary"]:
        ns = e["workload"] == "acquire"
        main_ratio = e["asyncpool_vs_redis_py"]
        if e["workload"] == "contention":
            ratio_text = (
                f"{_fmt(main_ratio, '.2f', 'x')} (p99 {_fmt(e['p99_vs_redis_py'], '.2f', 'x')})"
            )
            shared_text = (
                f"{_fmt(e['shared_vs_exclusive'], '.2f', 'x')}"
                f" (p99 {_fmt(e['shared_p99_vs_exclusive'], '.2f', 'x')})"
            )
        elif ns:
            ratio_text = f"{_fmt(main_ratio, '.2f', 'x')} time"
            shared_text = "-"
        else:
            ratio_text = _fmt(main_ratio, ".2f", "x")
            shared_text = _fmt(e.get("shared_vs_exclusive"), ".2f", "x")
        coredis = _fmt(e["asyncpool_vs_coredis"], ".2f", "x") + (" time" if ns else "")
        otel = "-"
        if e.get("otel_cost_pct") is not None or e.get("shared_otel_cost_pct") is not None:
            otel = (
                f"{_fmt(e.get('otel_cost_pct'), '.1f', ' %')}"
                f" / {_fmt(e.get('shared_otel_cost_pct'), '.1f', ' %')}"
            )
        out.append(
            f"| {_title(e['workload'])} | {e['loop']} | {ratio_text} | {shared_text} |"
            f" {_fmt(e.get('shared_vs_glide'), '.2f', 'x')} | {coredis} |"
            f" {_fmt(e['asyncpool_of_ceiling'], '.0%')} | {otel} |"
        )
    if report.get("targets"):
        out += ["", "| target | workload | loop | got | met |", "|---|---|---|---:|:-:|"]
        for t in report["targets"]:
            got = f"{t['value']:.0f} ns" if t["kind"] == "ns" else f"{t['value']:.2f}x"
            met = {True: "yes", False: "**no**", None: "-"}[t["met"]]
            out.append(f"| {t['target']} | {_title(t['workload'])} | {t['loop']} | {got} | {met} |")
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


#: Chart order and colours (exclusive asyncpool blue, shared dark blue, peers warm).
COLOURS = {
    "asyncpool": "#4299e1",
    "asyncpool-shared": "#1a365d",
    "asyncpool+otel": "#bee3f8",
    "asyncpool-shared+otel": "#7f9cf5",
    "redis-py": "#e53e3e",
    "coredis": "#dd6b20",
    "glide": "#38a169",
    "raw": "#a0aec0",
}


def _row(report: dict[str, Any], loop: str, workload: str, client: str) -> dict[str, Any] | None:
    for r in report["rows"]:
        if r["loop"] == loop and r["workload"] == workload and r["client"] == client:
            return r
    return None


def _short(value: float) -> str:
    return f"{value / 1000:.0f}k" if value >= 10_000 else f"{value / 1000:.1f}k"


def write_chart(report: dict[str, Any], path: Path) -> None:
    """Two PNGs: throughput per workload (``path``) and the acquire cost (``*-acquire.png``).

    One small panel per workload and loop, each with its own scale, bars
    sorted as in :data:`COLOURS`, labelled with ops/s and the ratio to
    redis-py, so no workload flattens another.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    loops = sorted({r["loop"] for r in report["rows"]}, key=["stdlib", "uvloop"].index)
    ops_workloads = [
        w
        for w in WORKLOADS
        if w.metric == "ops" and any(r["workload"] == w.key for r in report["rows"])
    ]
    if ops_workloads:
        fig, axes = plt.subplots(
            len(ops_workloads),
            len(loops),
            figsize=(6.2 * len(loops), 2.1 * len(ops_workloads) + 0.6),
            squeeze=False,
        )
        for wi, wl in enumerate(ops_workloads):
            for li, loop in enumerate(loops):
                _panel(axes[wi][li], report, loop, wl, "ops_per_s")
        fig.suptitle("throughput, ops/s (longer is better); label: ops/s and ratio to redis-py")
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100)
        plt.close(fig)
    acquire = [w for w in WORKLOADS if w.metric == "ns"]
    if acquire and any(r["workload"] == acquire[0].key for r in report["rows"]):
        fig, axes = plt.subplots(1, len(loops), figsize=(6.2 * len(loops), 2.2), squeeze=False)
        for li, loop in enumerate(loops):
            _panel(axes[0][li], report, loop, acquire[0], "ns_per_op")
        fig.suptitle("pool acquire+release of an idle connection, ns per call (shorter is better)")
        fig.tight_layout()
        fig.savefig(path.with_name(path.stem + "-acquire.png"), dpi=100)
        plt.close(fig)


def _panel(ax: Any, report: dict[str, Any], loop: str, wl: Workload, field: str) -> None:
    names, values, labels, colours = [], [], [], []
    for client, colour in COLOURS.items():
        row = _row(report, loop, wl.key, client)
        if row is None or row[field] is None:
            continue
        names.append(client)
        values.append(row[field])
        ratio = row["vs_redis_py"]
        unit = f"{row[field]:,.0f} ns" if field == "ns_per_op" else _short(row[field])
        labels.append(unit if ratio is None else f"{unit}  {ratio:.2f}x")
        colours.append(colour)
    ys = list(range(len(names)))[::-1]
    ax.barh(ys, values, color=colours)
    ax.set_yticks(ys)
    ax.set_yticklabels(names, fontsize=8)
    top = max(values, default=1)
    for y, v, text in zip(ys, values, labels, strict=True):
        ax.text(v + top * 0.01, y, text, va="center", fontsize=7)
    ax.set_xlim(0, top * 1.35)
    ax.set_xticks([])
    ax.set_title(f"{wl.title} ({loop})", fontsize=9, loc="left")
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
