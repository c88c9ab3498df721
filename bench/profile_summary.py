"""Summarise a py-spy `--format raw` profile: the functions with the most samples.

`python -m bench.profile_summary PROFILE.txt [--top 40] [--match TEXT]`
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path


def summarize(path: Path, top: int, match: str | None, exclude: list[str]) -> str:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        # Idle event-loop waits are not CPU; start-up (imports) is not a turn.
        if "select (selectors.py" in frames[-1] or any(text in stack for text in exclude):
            continue
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    lines = [f"{total} busy samples", "", "inclusive:"]
    for frame, count in inclusive.most_common():
        if match and match not in frame:
            continue
        lines.append(f"{100 * count / total:6.1f}%  {frame}")
        if len(lines) > top + 3:
            break
    lines += ["", "self:"]
    for frame, count in own.most_common(top):
        lines.append(f"{100 * count / total:6.1f}%  {frame}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--match", default=None, help="only list frames containing this")
    parser.add_argument(
        "--exclude",
        action="append",
        default=["importlib._bootstrap"],
        help="drop samples whose stack contains this (repeatable; imports by default)",
    )
    args = parser.parse_args()
    print(summarize(args.profile, args.top, args.match, args.exclude))


if __name__ == "__main__":
    main()
