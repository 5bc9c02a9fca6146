"""Print a load test's per-endpoint statistics as Markdown tables.

Usage: python bench/summarize.py OUT/locust_stats.csv [OUT/gunicorn.log]

The first table is what the clients measured, from Locust's CSV file,
including the time a request waited for a free gunicorn worker. Locust
rounds each response time before taking percentiles: to 10 ms above
100 ms and to 100 ms above 1 s. The second table, from gunicorn's access
log, is the time the workers spent on each request, grouped by URL with
ids replaced by "n". Times are in milliseconds.
"""

from __future__ import annotations

import csv
import json
import re
import statistics
import sys
from collections import defaultdict

# Ids in URLs, replaced so that requests group by endpoint.
URL_IDS = [
    (re.compile(r"/[CR]-\d+/"), "/n/"),
    (re.compile(r"/B?\d+/"), "/n/"),
]


def print_client_table(path: str) -> None:
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    print("| Endpoint | Requests | Failures | Median | p95 | p99 | Max | Requests/s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    rows.sort(key=lambda row: (row["Name"] == "Aggregated", row["Name"]))
    for row in rows:
        if row["Request Count"] == "0":
            continue
        print(
            f"| {row['Name']} | {row['Request Count']} | {row['Failure Count']} "
            f"| {row['50%']} | {row['95%']} | {row['99%']} "
            f"| {float(row['Max Response Time']):.0f} "
            f"| {float(row['Requests/s']):.1f} |"
        )


def endpoint_of(record: dict) -> str:
    path = record["path"]
    for pattern, replacement in URL_IDS:
        path = pattern.sub(replacement, path)
    if path == "/queue/" and record["query"]:
        path += "?" + record["query"].partition("=")[0]
    return f"{record['method']} {path}"


def print_server_table(path: str) -> None:
    durations: dict[str, list[int]] = defaultdict(list)
    with open(path) as file:
        for line in file:
            if '"gunicorn.access"' not in line:
                continue
            record = json.loads(line)
            durations[endpoint_of(record)].append(record["duration_ms"])
    total = sum(sum(values) for values in durations.values()) or 1
    print("| Endpoint (server) | Requests | Median | p95 | Share of worker time |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for endpoint, values in sorted(durations.items(), key=lambda item: -sum(item[1])):
        values.sort()
        p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
        print(
            f"| {endpoint} | {len(values)} | {statistics.median(values):.0f} "
            f"| {p95} | {sum(values) / total:.0%} |"
        )


def main(stats_path: str, gunicorn_log: str | None = None) -> None:
    print_client_table(stats_path)
    if gunicorn_log:
        print()
        print_server_table(gunicorn_log)


if __name__ == "__main__":
    main(*sys.argv[1:])
