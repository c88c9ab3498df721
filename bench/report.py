"""Markdown tables of a run, for docs/performance.md: `python -m bench.report <results.json>`."""
# ruff: noqa: RUF001 - the tables are for people: en dashes and multiplication signs

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _n(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def concurrency(levels_by_server: dict[str, list[dict[str, Any]]], proxy: bool = False) -> str:
    head = ("| server | N | turns | errors | turns/s | first text p50 / p95 / p99 | "
            "turn p50 / p95 / max | CPU ms/turn | peak RSS (growth) |")  # fmt: skip
    if proxy:
        head += " nginx CPU ms/turn |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for server, levels in levels_by_server.items():
        for lv in levels:
            text, turn, srv = lv["first_text_ms"], lv["turn_ms"], lv["server"]
            row = (
                f"| {server} | {lv['users']} | {lv['turns']} | {lv['errors']} | "
                f"{lv['turns_per_s']:.1f} | {_n(text['p50'])} / {_n(text['p95'])} / "
                f"{_n(text['p99'])} | {_n(turn['p50'])} / {_n(turn['p95'])} / {_n(turn['max'])} | "
                f"{_n(srv['cpu_ms_per_turn'], 1)} | {_n(srv['rss_peak_mb'])} MB "
                f"(+{_n(srv['rss_growth_mb'])}) |"
            )
            if proxy:
                row += f" {_n(lv.get('proxy_cpu_ms_per_turn'), 1)} |"
            lines.append(row)
    return "\n".join(lines)


def ratios(table: dict[str, list[dict[str, Any]]]) -> str:
    lines = ["| server | N | p95 first text, ours / baseline | CPU ms per turn, ours vs baseline "
             "| turns/s, ours / baseline |", "|---|---|---|---|---|"]  # fmt: skip
    for kind, rows in table.items():
        for row in rows:
            ours, theirs = row["cpu_ms"]
            lines.append(
                f"| {kind} | {row['users']} | {_n(row['first_text_p95'], 2)}× | "
                f"{_n(ours, 1)} vs {_n(theirs, 1)} ({_n(row['cpu'], 2)}×) | "
                f"{_n(row['turns_per_s'], 2)}× |"
            )
    return "\n".join(lines)


def sockets(results: dict[str, Any]) -> str:
    lines = ["| server | storm: failed / sockets (all connected in) | open sockets: failed / "
             "open | change → every socket, worst of 3 (server CPU) | memory per socket |",
             "|---|---|---|---|---|"]  # fmt: skip
    for kind, s in results.items():
        storm, fan = s["storm"], s["fanout"]
        cpu = max((r.get("server_cpu_s") or 0) for r in fan["rounds"]) if fan["rounds"] else None
        lines.append(
            f"| {kind} | {storm['failed']} / {storm['sockets']} ({storm['connect_all_s']:.1f} s) | "
            f"{fan['failed']} / {fan['connected']} | {_n(fan['fanout_max_s'], 2)} s "
            f"({_n(cpu, 2)} s) | {_n(s['kib_per_socket'])} KiB |"
        )
    return "\n".join(lines)


def lengths(results: dict[str, Any]) -> str:
    lines = ["| items in thread | one more turn p50 / p95 | `items.list` p50 (20 items) |",
             "|---|---|---|"]  # fmt: skip
    for row in results.get("thread_length", {}).get("rows", []):
        lines.append(
            f"| {row['items']:,} | {_n(row['turn_ms']['p50'], 1)} / "
            f"{_n(row['turn_ms']['p95'], 1)} | {_n(row['items_list_ms']['p50'], 1)} |"
        )
    lines += ["", "| threads of the user | `threads.list` p50 / p95 (20 threads) |", "|---|---|"]
    for row in results.get("threads_list", {}).get("rows", []):
        lines.append(
            f"| {row['threads']:,} | {_n(row['ms']['p50'], 1)} / {_n(row['ms']['p95'], 1)} |"
        )
    queries = results.get("sql_queries")
    if queries:
        lines += [
            "",
            "SQL statements per request: " + ", ".join(f"`{k}` {v}" for k, v in queries.items()),
        ]
    return "\n".join(lines)


def targets(items: list[dict[str, Any]]) -> str:
    lines = ["| target | measured | limit | |", "|---|---|---|---|"]
    for t in items:
        sign = "≤" if t["below"] else "≥"
        verdict = "PASS" if t["met"] else "**MISS**"
        lines.append(
            f"| {t['name']} | {_n(t['value'], 2)} | {sign} {_n(t['limit'], 2)} | {verdict} |"
        )
    return "\n".join(lines)


def main() -> None:
    results = json.loads(Path(sys.argv[1]).read_text())
    print(concurrency(results["concurrency"]))
    print()
    print(ratios(results["ratios"]))
    if results.get("sockets"):
        print()
        print(sockets(results["sockets"]))
    if results.get("openai"):
        print()
        print(concurrency(results["openai"]))
    if results.get("nginx"):
        print()
        print(concurrency(results["nginx"], proxy=True))
    print()
    print(lengths(results))
    print()
    print(targets(results["targets"]))


if __name__ == "__main__":
    main()
