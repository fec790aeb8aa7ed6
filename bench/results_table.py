"""Writes the benchmark rows (JSON lines from bench/run.sh) as Markdown:
bench/results.md, and the block between the bench markers in README.md.

    python results_table.py ROWS.jsonl results.md [README.md]
"""

import json
import os
import platform
import subprocess
import sys

BEGIN = "<!-- bench/run.sh results: begin -->"
END = "<!-- bench/run.sh results: end -->"


def machine() -> str:
    cpu = platform.processor()
    with open("/proc/cpuinfo") as f:
        cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), cpu)
    with open("/proc/meminfo") as f:
        kb = int(next(l.split()[1] for l in f if l.startswith("MemTotal")))
    return f"{cpu}, {os.cpu_count()} cores, {kb / 2**20:.0f} GiB RAM, {platform.system()} {platform.release()}"


def commit() -> str:
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True)
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def table(rows: list[dict]) -> str:
    one = next((r for r in rows if r["multiple"] == 1.0), rows[0])
    per_event = lambda r, key: r[key] / r["events"]  # noqa: E731
    # Top-level stages only: `rates/windows` and the like are parts of `rates`.
    stage_names = list(dict.fromkeys(s for r in rows for s in r["stages"] if "/" not in s))
    lines = [
        f"Machine: {machine()}. kvaudit {rows[0].get('commit') or commit()}, DuckDB {rows[0]['duckdb_version']}. "
        f"Input: PT1H.json blobs{' (gzip)' if rows[0]['gzip'] else ''} from "
        f"`kvaudit-synth --days {rows[0]['days']}`, page cache warm.",
        "",
        "| set | input MB | events | kvaudit s | events/s | MB/s | peak RSS MB "
        "| DuckDB s | DuckDB RSS MB | time ratio | memory ratio | load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        mb = r["bytes"] / 1e6
        lines.append(
            f"| {r['multiple']:g}x (scale {r['scale']:g}) | {mb:,.0f} | {r['events']:,} "
            f"| {r['kvaudit_s']:.2f} | {r['events'] / r['kvaudit_s']:,.0f} | {mb / r['kvaudit_s']:,.0f} "
            f"| {r['kvaudit_kb'] / 1024:,.0f} | {r['duckdb_s']:.2f} | {r['duckdb_kb'] / 1024:,.0f} "
            f"| {r['kvaudit_s'] / r['duckdb_s']:.2f} | {r['kvaudit_kb'] / r['duckdb_kb']:.2f} "
            f"| {r.get('load', float('nan')):.1f} |"
        )
    lines += [
        "",
        "Ratios are kvaudit / DuckDB (below 1.0: kvaudit is faster or smaller). "
        "Load: the 1-minute load average when kvaudit started (other work on the machine "
        "slows both tools alike, but makes the absolute figures worse).",
        "",
        "| set | " + " | ".join(f"{s} s" for s in stage_names)
        + " | ingest MB/s | Cedar requests / events | kvaudit µs/event (vs 1x) | DuckDB µs/event (vs 1x) |",
        "|---|" + "---:|" * (len(stage_names) + 4),
    ]
    for r in rows:
        stages = " | ".join(f"{r['stages'].get(s, 0):.2f}" for s in stage_names)
        ingest = r["stages"].get("ingest")
        ingest_rate = f"{r['bytes'] / 1e6 / ingest:,.0f}" if ingest else "-"
        requests = (
            f"{r['cedar_requests']:,} / {r['events']:,}" if "cedar_requests" in r else "-"
        )
        k, d = per_event(r, "kvaudit_s"), per_event(r, "duckdb_s")
        k1, d1 = per_event(one, "kvaudit_s"), per_event(one, "duckdb_s")
        lines.append(
            f"| {r['multiple']:g}x | {stages} | {ingest_rate} | {requests} "
            f"| {k * 1e6:.2f} ({k / k1:.2f}) | {d * 1e6:.2f} ({d / d1:.2f}) |"
        )
    peak_stages = list(dict.fromkeys(s for r in rows for s in r.get("peak_rss_mb", {})))
    if peak_stages:
        lines += [
            "",
            "Peak RSS in MB once each stage ended (from `--timings`):",
            "",
            "| set | " + " | ".join(peak_stages) + " |",
            "|---|" + "---:|" * len(peak_stages),
        ]
        for r in rows:
            peaks = r.get("peak_rss_mb", {})
            lines.append(
                f"| {r['multiple']:g}x | " + " | ".join(f"{peaks.get(s, 0):,}" for s in peak_stages) + " |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    rows_path, results_path = sys.argv[1], sys.argv[2]
    with open(rows_path) as f:
        rows = [json.loads(l) for l in f if l.strip()]
    text = table(rows)
    with open(results_path, "w") as f:
        f.write("# Benchmark results\n\nWritten by `bench/run.sh`.\n\n" + text)
    if len(sys.argv) > 3:
        readme_path = sys.argv[3]
        with open(readme_path) as f:
            readme = f.read()
        if BEGIN in readme and END in readme:
            head, rest = readme.split(BEGIN, 1)
            _, tail = rest.split(END, 1)
            with open(readme_path, "w") as f:
                f.write(head + BEGIN + "\n" + text + END + tail)
        else:
            print(f"{readme_path} has no bench markers; only {results_path} was written", file=sys.stderr)


if __name__ == "__main__":
    main()
