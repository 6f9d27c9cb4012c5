"""Wall time of `portalcrawl dispatch --all --wait` of N profiles on 1 node against 2 nodes.

Usage: python benchmarks/cluster.py [--profiles 8] [--hosts 4] [--articles 30] [--batch 2] [--delay 0.25]

Starts a redis-server on a Unix socket in a temporary directory (no TCP port, nothing saved), ``--hosts``
sample-portal servers on 127.0.0.1 (each a host; its columns are the profiles, ``--articles`` each), then
for 1 and 2 nodes: that many `portalcrawl worker` processes with fresh shards and `dispatch --all
--batch B --wait`, timed from dispatch to the last batch's outcome. Politeness is emulated per host with
``--delay`` (DOWNLOAD_DELAY, AutoThrottle off) as a real portal's crawl is bound by it, not by CPU. A node
runs its batches one after the other, so 2 nodes should take about half as long once the batches
outweigh interpreter start-up; on a machine with fewer free cores than nodes the crawls compete for CPU.
Every process started is killed by its pid at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from portalcrawl.demo.server import PortalServer

REPO_ROOT = Path(__file__).resolve().parents[1]
FAMILIES = ("trs", "numbered", "dedecms", "destoon")


def portal_toml(columns: int, articles: int) -> str:
    text = 'name = "示例县人民政府"\nsite_code = "4300000009"\n'
    for n in range(columns):
        family = FAMILIES[n % len(FAMILIES)]
        text += (
            f'\n[[columns]]\nname = "c{n}"\nfamily = "{family}"\npath = "/c{n}/"\n'
            f"articles = {articles}\nper_page = 10\nfirst_id = {1000 * (n + 1)}\n"
        )
    return text


def portalcrawl(args: list[str], cwd: Path, log: Path | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
    out = log.open("w") if log else None
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "portalcrawl", *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out or subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    finally:
        if out:
            out.close()


def run_round(nodes: int, broker: str, sites: Path, work: Path, args: argparse.Namespace) -> float:
    names = [f"n{k}" for k in range(1, nodes + 1)]
    settings = ["-s", f"DOWNLOAD_DELAY={args.delay}", "-s", "AUTOTHROTTLE_ENABLED=False"]
    workers = [
        portalcrawl(
            [
                *("worker", "--broker", broker, "--node", name),
                *("--db", str(work / f"{nodes}-{name}.db"), "--dir", str(sites), *settings),
            ],
            work,
            work / f"worker-{nodes}-{name}.log",
        )
        for name in names
    ]
    try:
        time.sleep(3)  # the workers connect; their start-up is not the dispatch's
        started = time.perf_counter()
        dispatch = portalcrawl(
            [
                *("dispatch", "--all", "--dir", str(sites), "--broker", broker),
                *("--nodes", ",".join(names), "--batch", str(args.batch), "--wait"),
            ],
            work,
        )
        out, _ = dispatch.communicate(timeout=1800)
        elapsed = time.perf_counter() - started
        if dispatch.returncode != 0:
            raise SystemExit(f"dispatch on {nodes} node(s) failed:\n{out}")
        return elapsed
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=8)
    parser.add_argument("--hosts", type=int, default=4)
    parser.add_argument("--articles", type=int, default=30, help="articles per profile (column)")
    parser.add_argument("--batch", type=int, default=2, help="profiles per dispatched batch")
    parser.add_argument("--delay", type=float, default=0.25, help="DOWNLOAD_DELAY: per-host politeness")
    args = parser.parse_args()
    if not shutil.which("redis-server"):
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    work = Path(tempfile.mkdtemp(prefix="pc-cluster-"))
    columns = -(-args.profiles // args.hosts)
    portal = work / "portal"
    portal.mkdir()
    (portal / "portal.toml").write_text(portal_toml(columns, args.articles), encoding="utf-8")
    redis = subprocess.Popen(
        [
            "redis-server",
            "--port",
            "0",
            "--unixsocket",
            str(work / "redis.sock"),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    servers = [PortalServer(portal).start() for _ in range(args.hosts)]
    try:
        sites = work / "sites"
        sites.mkdir()
        count = 0
        for h, server in enumerate(servers):
            for column in list(server.columns)[: args.profiles - count]:
                (sites / f"h{h}-{column}.toml").write_text(
                    f'name = "{column}"\nstart_urls = ["{server.start_url(column)}"]\n', encoding="utf-8"
                )
                count += 1
        while not (work / "redis.sock").exists():
            time.sleep(0.1)
        broker = f"redis+socket://{work / 'redis.sock'}"
        times = {nodes: run_round(nodes, broker, sites, work, args) for nodes in (1, 2)}
        print(
            f"{count} profiles over {args.hosts} hosts, {args.articles} articles each, "
            f"batches of {args.batch}, "
            f"DOWNLOAD_DELAY={args.delay}: 1 node {times[1]:.1f} s, 2 nodes {times[2]:.1f} s wall "
            f"({times[1] / times[2]:.2f}x); {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
        )
    finally:
        for server in servers:
            server.stop()
        redis.kill()
        redis.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
