"""Load `/search` with wrk (a C load generator), for a second opinion on HTTP latency.

On two cores the benchmark's own Python client (8 httpx threads sharing one interpreter) takes CPU
from the server it measures, and its threads wait on each other's JSON parsing, so its tail
latencies include the client's. wrk spends far less CPU per request, so its figures are closer to
the server's own. Both are reported; wrk is optional (Debian package `wrk`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

# Each connection cycles through the questions, starting at a different one.
_SCRIPT = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
local counter = 0
function setup(thread) thread:set("offset", math.random(#paths)) end
function request()
  counter = counter + 1
  return wrk.format("GET", paths[(offset + counter) %% #paths + 1])
end
"""
_UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def available() -> bool:
    return shutil.which("wrk") is not None


def run(url: str, questions: Sequence[str], k: int, connections: int, seconds: int) -> dict[str, Any]:
    """GET /search?q=..&k=.. over `connections` connections for `seconds`: rate, latency
    percentiles (ms) and failures (socket errors, timeouts and non-2xx responses)."""
    with tempfile.TemporaryDirectory(prefix="wrk-") as tmp:
        paths = Path(tmp) / "paths.txt"
        paths.write_text("".join(f"/search?{urlencode({'q': q, 'k': k})}\n" for q in questions))
        script = Path(tmp) / "search.lua"
        script.write_text(_SCRIPT % paths)
        threads = min(2, connections)
        command = [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            url,
        ]
        out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    return parse(out)


def parse(out: str) -> dict[str, Any]:
    """Figures from wrk's `--latency` report."""
    percentiles = {
        f"p{p}": float(value) * _UNIT_MS[unit]
        for p, value, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    }
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = (sum(int(n) for n in socket.groups()) if socket else 0) + (
        int(non_2xx.group(1)) if non_2xx else 0
    )
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return {"requests": requests, "req_per_s": rate, "errors": errors, **percentiles}
