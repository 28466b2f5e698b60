#!/usr/bin/env python3
"""The Python SDK's floor for users(), for BENCHMARKS.md: a benchmark
helper, never run by go test or CI (BenchmarkUsers in cmd/wandb-lua runs
it when asked to with -bench).

    WANDB_BASE_URL=... WANDB_API_KEY=... python3 users_floor.py [runs]

It sends the SDK's own SearchUsers document (testdata/sdk/SearchUsers.graphql)
with {"query": ""}, as Api.users("") does, and times requests.post plus
json.loads of the body on a warm keep-alive connection: what any Python
client must at least do to list the users. It prints one line:

    users=N bytes=B runs=R total=SECONDS min=SECONDS median=SECONDS maxrss=KIB
"""
import json
import os
import pathlib
import resource
import statistics
import sys
import time

import requests

DOC = (pathlib.Path(__file__).resolve().parents[2] / "testdata" / "sdk" / "SearchUsers.graphql").read_text()


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    url = os.environ["WANDB_BASE_URL"].rstrip("/") + "/graphql"
    s = requests.Session()
    s.auth = ("api", os.environ["WANDB_API_KEY"])
    s.headers.update({"User-Agent": "W&B Public Client 0.28.2", "Use-Admin-Privileges": "true"})
    body = {"query": DOC, "variables": {"query": ""}, "operationName": ""}
    # Open the connection first, as the Go and Lua benchmarks do.
    s.post(url, json={"query": "query GetViewer { viewer { id } }", "variables": {}, "operationName": ""}).raise_for_status()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = s.post(url, json=body)
        r.raise_for_status()
        data = json.loads(r.content)
        times.append(time.perf_counter() - t0)
        n = len(data["data"]["users"]["edges"])
        size = len(r.content)
        del r, data
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"users={n} bytes={size} runs={runs} total={sum(times):.6f} min={min(times):.6f} "
          f"median={statistics.median(times):.6f} maxrss={maxrss}")


main()
