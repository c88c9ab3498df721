"""The targets of a run (issue 12): ratios against the FastAPI baseline measured in the
same run, absolute limits, and a PASS/MISS line for each."""

from __future__ import annotations

from typing import Any

# Server CPU per turn, ours / baseline, at most (daphne gets 10 % for Twisted).
CPU_RATIO_LIMIT = {"uvicorn": 1.0, "daphne": 1.1}
FIRST_TEXT_LEVELS = (1, 50, 200)
THROUGHPUT_LEVELS = (50, 200)
FANOUT_LIMIT_S = 1.0


def _pooled_cpu_ms(levels: list[dict[str, Any]]) -> float | None:
    ok = sum(level["ok"] for level in levels)
    cpu = sum(level["server"]["cpu_s"] for level in levels)
    return cpu * 1000 / ok if ok else None


def _ratio(ours: float | None, theirs: float | None) -> float | None:
    return ours / theirs if ours is not None and theirs else None


def ratios(concurrency: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Per app server and level: p95 first text, CPU per turn and turns/s over the baseline's."""
    baseline = {level["users"]: level for level in concurrency.get("baseline", [])}
    table: dict[str, list[dict[str, Any]]] = {}
    for kind, levels in concurrency.items():
        if kind == "baseline" or not baseline:
            continue
        rows = []
        for level in levels:
            base = baseline.get(level["users"])
            if base is None:
                continue
            rows.append(
                {
                    "users": level["users"],
                    "first_text_p95": _ratio(
                        level["first_text_ms"]["p95"], base["first_text_ms"]["p95"]
                    ),
                    "cpu_ms": (
                        level["server"]["cpu_ms_per_turn"],
                        base["server"]["cpu_ms_per_turn"],
                    ),
                    "cpu": _ratio(
                        level["server"]["cpu_ms_per_turn"], base["server"]["cpu_ms_per_turn"]
                    ),
                    "turns_per_s": _ratio(level["turns_per_s"], base["turns_per_s"]),
                }
            )
        table[kind] = rows
    return table


def evaluate(results: dict[str, Any]) -> list[dict[str, Any]]:
    targets: list[dict[str, Any]] = []

    def add(name: str, value: float | None, limit: float, *, below: bool = True) -> None:
        met = value is not None and (value <= limit if below else value >= limit)
        targets.append({"name": name, "value": value, "limit": limit, "below": below, "met": met})

    concurrency = results["concurrency"]
    baseline = concurrency.get("baseline")
    base_cpu = _pooled_cpu_ms(baseline) if baseline else None
    for kind, levels in concurrency.items():
        if kind == "baseline":
            continue
        by_users = {level["users"]: level for level in levels}
        add(f"{kind}: failed streams, N up to {max(by_users)}",
            sum(level["errors"] for level in levels), 0)  # fmt: skip
        if base_cpu:
            ratio = _ratio(_pooled_cpu_ms(levels), base_cpu)
            add(f"{kind}: server CPU per turn / baseline (all levels)",
                ratio, CPU_RATIO_LIMIT.get(kind, 1.0))  # fmt: skip
        for row in results.get("ratios", {}).get(kind, []):
            if row["users"] in FIRST_TEXT_LEVELS:
                add(f"{kind}: p95 first text / baseline at N={row['users']}",
                    row["first_text_p95"], 1.0)  # fmt: skip
            if row["users"] in THROUGHPUT_LEVELS:
                add(f"{kind}: turns/s / baseline at N={row['users']}",
                    row["turns_per_s"], 1.0, below=False)  # fmt: skip
        if 200 in by_users:
            add(f"{kind}: RSS growth MB under 200 streams",
                by_users[200]["server"]["rss_growth_mb"], 150.0)  # fmt: skip
    for kind, sockets in results.get("sockets", {}).items():
        add(f"{kind}: failed sockets, storm of {sockets['storm']['sockets']}",
            sockets["storm"]["failed"], 0)  # fmt: skip
        fanout = sockets["fanout"]
        add(f"{kind}: failed sockets, {fanout['sockets']} open + changes",
            fanout["failed"], 0)  # fmt: skip
        add(f"{kind}: s until a change reaches all {fanout['sockets']}",
            fanout["fanout_max_s"], FANOUT_LIMIT_S)  # fmt: skip
    openai = results.get("openai", {})
    if "baseline" in openai:
        theirs = _pooled_cpu_ms(openai["baseline"])
        for kind, levels in openai.items():
            if kind != "baseline":
                ratio = _ratio(_pooled_cpu_ms(levels), theirs)
                add(f"{kind}, OpenAI client path: CPU per turn / baseline",
                    ratio, CPU_RATIO_LIMIT.get(kind, 1.0))  # fmt: skip
    growth = results.get("thread_length")
    if growth and len(growth["rows"]) > 1:
        first, last = growth["rows"][0], growth["rows"][-1]
        add(f"turn p50 at {last['items']} / at {first['items']} items",
            last["turn_ms"]["p50"] / first["turn_ms"]["p50"], 1.2)  # fmt: skip
        add(f"items.list p50 at {last['items']} / at {first['items']} items (flat)",
            last["items_list_ms"]["p50"] / first["items_list_ms"]["p50"], 1.2)  # fmt: skip
    threads = results.get("threads_list")
    if threads and len(threads["rows"]) > 1:
        first, last = threads["rows"][0], threads["rows"][-1]
        add(f"threads.list p50 at {last['threads']} / at {first['threads']} threads (flat)",
            last["ms"]["p50"] / first["ms"]["p50"], 1.2)  # fmt: skip
    return targets


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def ratios_table(table: dict[str, list[dict[str, Any]]]) -> str:
    lines = [f"{'server':<9} {'N':>4} {'p95 text ratio':>15} {'CPU ms/turn (ours/base)':>24} "
             f"{'CPU ratio':>9} {'turns/s ratio':>13}"]  # fmt: skip
    for kind, rows in table.items():
        for row in rows:
            ours, theirs = row["cpu_ms"]
            lines.append(
                f"{kind:<9} {row['users']:>4} {_fmt(row['first_text_p95']):>15} "
                f"{_fmt(ours, 1) + ' / ' + _fmt(theirs, 1):>24} {_fmt(row['cpu']):>9} "
                f"{_fmt(row['turns_per_s']):>13}"
            )
    return "\n".join(lines)


def targets_table(targets: list[dict[str, Any]]) -> str:
    lines = []
    for target in targets:
        sign = "<=" if target["below"] else ">="
        lines.append(
            f"{'PASS' if target['met'] else 'MISS'}  {target['name']:<58} "
            f"{_fmt(target['value']):>9} {sign} {_fmt(target['limit'])}"
        )
    return "\n".join(lines)
