"""The portal's pages under 20 concurrent clients, next to intake's own GET in the same run.

The whole stack runs as OS processes (serambi_testing.stack). One request is submitted; a tracking
session for it is opened through the portal (the token posted once, as the page's script does).
Then each client, in turn, asks for: the information page, the request form, the tracking page
(portal → intake) and intake's JSON tracking view directly (the baseline). Prints p50/p99 per
page and the portal's RSS. Goal: tracking page p99 ≤ 150 ms.

Run: .venv/bin/python bench/web_bench.py [--rounds N] [--clients C]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import httpx

sys.path.insert(0, str(Path(__file__).parent))
from common import percentile  # noqa: E402
from serambi_ops.commands.demo import DEMO_REQUEST, submit_request  # noqa: E402
from serambi_testing.stack import local_stack  # noqa: E402

GOAL_MS = 150.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_ms(pid: int) -> float:
    """User + system CPU time of a process so far (a figure the machine's load hardly changes)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def tracking_session(web: str, code: str, token: str) -> httpx.Cookies:
    with httpx.Client(base_url=web) as client:
        page = client.get(f"/lacak/audiensi/{code}")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        opened = client.post(f"/lacak/audiensi/{code}", data={"csrf": csrf, "token": token})
        assert opened.status_code == 303, opened.text[:300]
        return client.cookies


async def run(
    web: str, intake: str, code: str, token: str, cookies: httpx.Cookies, rounds: int, clients: int
) -> dict[str, list[float]]:
    """The clients are aiohttp sessions: the load generator shares the machine's two cores with
    the stack, and an aiohttp GET costs a tenth of httpx's CPU (docs/performance.md)."""
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    targets = {
        "informasi (/)": (f"{web}/", {}),
        "form (/audiensi)": (f"{web}/audiensi", {}),
        "tracking (/lacak/audiensi/…)": (f"{web}/lacak/audiensi/{code}", {}),
        "intake GET /api/v1/requests/…": (f"{intake}/api/v1/requests/{code}", {"X-Access-Token": token}),
    }
    latencies: dict[str, list[float]] = {name: [] for name in targets}

    async def client_loop() -> None:
        connector = aiohttp.TCPConnector(limit=4)
        async with aiohttp.ClientSession(
            connector=connector, headers={"Cookie": cookie}, timeout=aiohttp.ClientTimeout(total=10)
        ) as client:
            for _ in range(rounds):
                for name, (url, headers) in targets.items():
                    started = time.perf_counter()
                    async with client.get(url, headers=headers) as response:
                        body = await response.read()
                    latencies[name].append((time.perf_counter() - started) * 1000)
                    assert response.status == 200, (name, response.status)
                    if name.startswith("tracking"):
                        assert b"Permohonan audiensi" in body

    await asyncio.gather(*(client_loop() for _ in range(clients)))
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="serambi-web-bench-") as tmp,
        local_stack(Path(tmp), ("intake", "scheduling", "complaints", "web")) as stack,
    ):
        web, intake = stack.url("web"), stack.url("intake")
        submitted = submit_request(intake, DEMO_REQUEST)
        submitted.raise_for_status()
        code, token = submitted.json()["tracking_code"], submitted.json()["access_token"]
        cookies = tracking_session(web, code, token)
        asyncio.run(run(web, intake, code, token, cookies, 3, args.clients))  # warm-up
        pid, intake_pid = stack.services["web"].pid, stack.services["intake"].pid
        before = rss_mb(pid)
        cpu_before = cpu_ms(pid), cpu_ms(intake_pid)
        client_before = time.process_time()
        latencies = asyncio.run(run(web, intake, code, token, cookies, args.rounds, args.clients))
        client_cpu = (time.process_time() - client_before) * 1000
        web_cpu, intake_cpu = (cpu_ms(p) - b for p, b in zip((pid, intake_pid), cpu_before, strict=True))
        after = rss_mb(pid)
    print(f"portal pages, {args.clients} concurrent clients × {args.rounds} rounds (one GET of each a round)")
    for name, samples in latencies.items():
        print(
            f"  {name:<32} p50 {percentile(samples, 50):7.1f} ms   p99 {percentile(samples, 99):7.1f} ms"
            f"   ({len(samples)} requests)"
        )
    print(f"  web RSS: {before:.0f} MB after warm-up, {after:.0f} MB after the run")
    requests = args.rounds * args.clients  # of each page
    print(
        f"  CPU per round: web {web_cpu / requests:.1f} ms for its 3 pages, intake "
        f"{intake_cpu / requests:.1f} ms for its 2 GETs (the tracking page's and the direct one), "
        f"the bench's clients {client_cpu / requests:.1f} ms for their 4"
    )
    p99 = percentile(latencies["tracking (/lacak/audiensi/…)"], 99)
    verdict = "meets" if p99 <= GOAL_MS else "ABOVE"
    print(f"tracking page p99 {p99:.1f} ms (goal ≤ {GOAL_MS:.0f} ms) {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
