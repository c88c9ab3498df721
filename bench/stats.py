"""Summaries, the printed table and the PNG chart of a benchmark run."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

PERCENTILES = (50, 95, 99)


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def distribution(values: list[float]) -> dict[str, float | None]:
    summary: dict[str, float | None] = {f"p{p}": percentile(values, p) for p in PERCENTILES}
    summary["max"] = max(values) if values else None
    summary["mean"] = sum(values) / len(values) if values else None
    return summary


def summarize_turns(turns: list[dict[str, Any]], elapsed_s: float) -> dict[str, Any]:
    ok = [turn for turn in turns if turn["ok"]]
    errors = [turn for turn in turns if not turn["ok"]]
    return {
        "turns": len(turns),
        "ok": len(ok),
        "errors": len(errors),
        "error_samples": sorted({turn["error"] for turn in errors})[:5],
        "elapsed_s": elapsed_s,
        "turns_per_s": len(ok) / elapsed_s if elapsed_s else 0.0,
        "ttfb_ms": distribution([t["ttfb_ms"] for t in ok if t["ttfb_ms"] is not None]),
        "first_text_ms": distribution(
            [t["first_text_ms"] for t in ok if t["first_text_ms"] is not None]
        ),
        "turn_ms": distribution([t["total_ms"] for t in ok if t["total_ms"] is not None]),
        # A user's first turn creates its thread (and meets a cold token): told apart.
        "first_text_ms_by_turn": {
            kind: distribution(
                [
                    t["first_text_ms"]
                    for t in ok
                    if (t["index"] == 0) == first and t["first_text_ms"] is not None
                ]
            )
            for kind, first in (("new_thread", True), ("later", False))
        },
    }


def _fmt(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def concurrency_table(results: dict[str, Any]) -> str:
    header = (
        f"{'server':<9} {'N':>4} {'turns':>6} {'err':>4} {'turn/s':>7} "
        f"{'ttfb p50':>8} {'text p50':>8} {'text p95':>8} {'text p99':>8} "
        f"{'turn p50':>8} {'turn p95':>8} {'turn p99':>8} {'turn max':>8} "
        f"{'cpu ms/turn':>11} {'rss MB':>7} {'+rss MB':>7}"
    )
    lines = [header, "-" * len(header)]
    for server, levels in results["concurrency"].items():
        for level in levels:
            lines.append(
                f"{server:<9} {level['users']:>4} {level['turns']:>6} {level['errors']:>4} "
                f"{level['turns_per_s']:>7.1f} {_fmt(level['ttfb_ms']['p50']):>8} "
                f"{_fmt(level['first_text_ms']['p50']):>8} "
                f"{_fmt(level['first_text_ms']['p95']):>8} "
                f"{_fmt(level['first_text_ms']['p99']):>8} "
                f"{_fmt(level['turn_ms']['p50']):>8} {_fmt(level['turn_ms']['p95']):>8} "
                f"{_fmt(level['turn_ms']['p99']):>8} {_fmt(level['turn_ms']['max']):>8} "
                f"{_fmt(level['server']['cpu_ms_per_turn'], 1):>11} "
                f"{_fmt(level['server']['rss_peak_mb']):>7} "
                f"{_fmt(level['server']['rss_growth_mb']):>7}"
            )
    return "\n".join(lines)


def length_table(results: dict[str, Any]) -> str:
    lines = []
    growth = results.get("thread_length")
    if growth:
        lines.append(
            f"{'items':>6} {'turn p50 ms':>11} {'turn p95 ms':>11} {'items.list p50 ms':>17}"
        )
        for row in growth["rows"]:
            lines.append(
                f"{row['items']:>6} {_fmt(row['turn_ms']['p50'], 1):>11} "
                f"{_fmt(row['turn_ms']['p95'], 1):>11} {_fmt(row['items_list_ms']['p50'], 1):>17}"
            )
    threads = results.get("threads_list")
    if threads:
        lines.append("")
        lines.append(f"{'threads':>7} {'threads.list p50 ms':>19} {'p95 ms':>7}")
        for row in threads["rows"]:
            p50, p95 = _fmt(row["ms"]["p50"], 1), _fmt(row["ms"]["p95"], 1)
            lines.append(f"{row['threads']:>7} {p50:>19} {p95:>7}")
    queries = results.get("sql_queries")
    if queries:
        lines.append("")
        lines.append(
            "SQL queries per request: " + ", ".join(f"{k}={v}" for k, v in queries.items())
        )
    return "\n".join(lines)


def chart(results: dict[str, Any], path: Path) -> None:
    """Latency percentiles against concurrency, and cost against thread length."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    ax_text, ax_turn, ax_len = axes
    styles = {"p50": "-", "p95": "--", "p99": ":"}
    colors = {"daphne": "tab:blue", "uvicorn": "tab:orange", "baseline": "tab:green"}
    for server, levels in results["concurrency"].items():
        color = colors.get(server)
        users = [level["users"] for level in levels]
        for key, style in styles.items():
            for ax, metric in ((ax_text, "first_text_ms"), (ax_turn, "turn_ms")):
                ax.plot(
                    users,
                    [level[metric][key] for level in levels],
                    style,
                    color=color,
                    marker="o",
                    label=f"{server} {key}",
                )
    delay = results["config"]["token_delay_ms"]
    for ax, title in (
        (ax_text, "Time to first assistant text"),
        (ax_turn, f"Full turn ({delay} ms between chunks)"),
    ):
        ax.set_xscale("symlog", linthresh=1)
        ax.set_yscale("log")
        ax.set_xlabel("concurrent streaming users")
        ax.set_ylabel("ms")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7, ncol=2)
    growth = results.get("thread_length")
    if growth:
        items = [row["items"] for row in growth["rows"]]
        ax_len.plot(
            items,
            [row["turn_ms"]["p50"] for row in growth["rows"]],
            "-o",
            label="one more turn p50",
        )
        ax_len.plot(
            items,
            [row["items_list_ms"]["p50"] for row in growth["rows"]],
            "-s",
            label="items.list p50",
        )
        threads = results.get("threads_list")
        if threads:
            ax_len.plot(
                [row["threads"] for row in threads["rows"]],
                [row["ms"]["p50"] for row in threads["rows"]],
                "-^",
                label="threads.list p50 (x = threads)",
            )
        ax_len.set_xscale("log")
        ax_len.set_xlabel("items in the thread (or threads of the user)")
        ax_len.set_ylabel("ms")
        ax_len.set_ylim(bottom=0)
        ax_len.set_title("Cost against thread length (delay 0)")
        ax_len.grid(True, which="both", alpha=0.3)
        ax_len.legend(fontsize=8)
    fig.suptitle(f"ChatKit backend benchmark: {results['machine']['summary']}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
