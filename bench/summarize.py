"""Print Locust's per-endpoint CSV statistics as a Markdown table.

Usage: python bench/summarize.py OUT/locust_stats.csv

Times are in milliseconds. Locust rounds each response time before taking
percentiles: to 10 ms above 100 ms and to 100 ms above 1 s.
"""

from __future__ import annotations

import csv
import sys


def main(path: str) -> None:
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    print("| Endpoint | Requests | Failures | Median | p95 | p99 | Max | Requests/s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    rows.sort(key=lambda row: (row["Name"] == "Aggregated", row["Name"]))
    for row in rows:
        print(
            f"| {row['Name']} | {row['Request Count']} | {row['Failure Count']} "
            f"| {row['50%']} | {row['95%']} | {row['99%']} "
            f"| {float(row['Max Response Time']):.0f} "
            f"| {float(row['Requests/s']):.1f} |"
        )


if __name__ == "__main__":
    main(*sys.argv[1:])
