"""Celery cluster on loopback: a real redis-server, real `portalcrawl worker` nodes, real portal crawls."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlite_utils

from portalcrawl.demo.server import PortalServer
from portalcrawl.lock import CrawlLock, lock_path_for
from portalcrawl.profiles import load_profile_file
from portalcrawl.sharding import owner_node
from tests.conftest import FAST_SETTINGS, REPO_ROOT
from tests.test_merge import archive

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed")

PASSWORD = "s3cret-pw"
# Two small columns per host: 8 profiles over 4 hosts.
PORTAL_TOML = """\
name = "示例县人民政府"
site_code = "4300000001"

[[columns]]
name = "tzgg"
title = "通知公告"
family = "numbered"
path = "/tzgg/"
articles = 14
per_page = 5
first_id = 9100

[[columns]]
name = "jrjj"
title = "今日聚焦"
family = "trs"
path = "/xwzx/jrjj/"
articles = 12
per_page = 5
first_id = 5661600
"""
NODES = ["a", "b"]
VISIBILITY_TIMEOUT = 20
SETTINGS = [arg for name, value in FAST_SETTINGS.items() for arg in ("-s", f"{name}={value}")]


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


def start_redis(directory: Path, *, port: int = 0) -> tuple[subprocess.Popen[bytes], str]:
    """redis-server on a Unix socket in ``directory`` (or on 127.0.0.1:``port``), nothing saved."""
    sock = directory / "redis.sock"
    command = ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"]
    command += ["--requirepass", PASSWORD, "--dir", str(directory)]
    if port:
        command += ["--bind", "127.0.0.1"]
        url = f"redis://:{PASSWORD}@127.0.0.1:{port}/0"
    else:
        command += ["--unixsocket", str(sock), "--unixsocketperm", "700"]
        url = f"redis+socket://:{PASSWORD}@{sock}"
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import redis

        client = redis.Redis.from_url(url.replace("redis+socket://", "unix://"))

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.exceptions.ConnectionError:
                return False

        wait_for(answers, 10, "redis-server")
    except BaseException:
        process.kill()
        process.wait()
        raise
    return process, url


@pytest.fixture
def broker() -> Iterator[str]:
    # A short directory: a Unix socket path must stay under 108 bytes.
    directory = Path(tempfile.mkdtemp(prefix="redis-"))
    process, url = start_redis(directory)
    yield url
    process.kill()
    process.wait()
    shutil.rmtree(directory, ignore_errors=True)


class Processes:
    """Every process a test starts, killed by pid at the end."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[str]] = []

    def portalcrawl(self, args: list[str], cwd: Path, log: Path | None = None) -> subprocess.Popen[str]:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]),
        }
        out = log.open("w") if log else None
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "portalcrawl", *args],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out or subprocess.PIPE,
                stderr=subprocess.STDOUT if out else subprocess.PIPE,
                text=True,
            )
        finally:
            if out:
                out.close()
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
            process.wait()


@pytest.fixture
def processes() -> Iterator[Processes]:
    started = Processes()
    yield started
    started.stop_all()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its dead parent's reaper) counts as gone.
    status = Path(f"/proc/{pid}/stat")
    return status.exists() and status.read_text().split()[2] != "Z"


def serve_hosts(directory: Path, count: int) -> list[PortalServer]:
    """``count`` portal servers (hosts), restarted on new ports until both nodes own at least one."""
    portal = directory / "portal"
    portal.mkdir()
    (portal / "portal.toml").write_text(PORTAL_TOML, encoding="utf-8")
    servers = [PortalServer(portal).start() for _ in range(count)]
    while len({owner_node(profile, NODES) for profile in host_profiles(servers)}) < 2:
        servers.pop().stop()
        servers.append(PortalServer(portal).start())
    return servers


def host_profiles(servers: list[PortalServer]) -> list:
    from portalcrawl.profiles import SiteProfile

    return [
        SiteProfile(slug=f"h{n}-{column}", name=column, start_urls=(server.start_url(column),))
        for n, server in enumerate(servers)
        for column in server.columns
    ]


def write_sites(directory: Path, servers: list[PortalServer]) -> Path:
    sites = directory / "sites"
    sites.mkdir()
    for profile in host_profiles(servers):
        (sites / f"{profile.slug}.toml").write_text(
            f'name = "{profile.name}"\nstart_urls = ["{profile.start_urls[0]}"]\n', encoding="utf-8"
        )
    return sites


def start_worker(
    processes: Processes, broker: str, node: str, tmp: Path, sites: Path, *, settings: tuple[str, ...] = ()
) -> subprocess.Popen[str]:
    args = [
        "worker",
        "--broker",
        broker,
        "--node",
        node,
        "--db",
        str(tmp / f"{node}.db"),
        "--dir",
        str(sites),
    ]
    args += ["--visibility-timeout", str(VISIBILITY_TIMEOUT), *SETTINGS, *settings]
    log = tmp / f"worker-{node}-{len(processes.started)}.log"
    return processes.portalcrawl(args, tmp, log)


@pytest.mark.slow
def test_two_nodes_crawl_their_hosts_survive_a_killed_worker_and_merge_into_one_archive(
    tmp_path: Path, broker: str, processes: Processes
) -> None:
    servers = serve_hosts(tmp_path, 4)
    try:
        sites = write_sites(tmp_path, servers)
        profiles = [load_profile_file(path) for path in sorted(sites.glob("*.toml"))]
        assert len(profiles) == 8
        owners = {p.slug: owner_node(p, NODES) for p in profiles}
        # Node a's crawls are slowed down so that the test can kill it in the middle of a batch.
        slow_a = ("-s", "DOWNLOAD_DELAY=0.15")
        single = processes.portalcrawl(
            ["crawl", "--all", "--dir", str(sites), "--db", str(tmp_path / "single.db"), *SETTINGS], tmp_path
        )
        start_worker(processes, broker, "b", tmp_path, sites)
        worker_a = start_worker(processes, broker, "a", tmp_path, sites, settings=slow_a)
        dispatch = processes.portalcrawl(
            [
                "dispatch",
                "--all",
                "--dir",
                str(sites),
                "--broker",
                broker,
                "--nodes",
                "a,b",
                "--batch",
                "2",
                "--wait",
            ],
            tmp_path,
        )
        a_db = tmp_path / "a.db"

        def running_crawl_pid() -> int | None:
            if not a_db.exists():
                return None
            db = sqlite_utils.Database(a_db)
            try:
                row = db.execute("select pid from crawl_runs where status = 'running'").fetchone()
            except sqlite3.Error:
                return None
            finally:
                db.close()
            return int(row[0]) if row else None

        wait_for(running_crawl_pid, 60, "node a to start a crawl")
        crawl_pid = running_crawl_pid()
        assert crawl_pid is not None
        worker_a.send_signal(signal.SIGKILL)
        worker_a.wait()
        # The crawl does not outlive its worker: it gets SIGTERM and stops, releasing the shard's lock.
        wait_for(lambda: not pid_alive(crawl_pid), 30, "the killed worker's crawl to stop")
        start_worker(processes, broker, "a", tmp_path, sites)
        out, err = dispatch.communicate(timeout=240)
        assert dispatch.returncode == 0, out + err
        sent = [line for line in out.splitlines() if line.startswith("batch ") and " → node " in line]
        assert len(sent) >= 4 and out.count(": crawl exit 0") == len(sent), out

        single_out, single_err = single.communicate(timeout=120)
        assert single.returncode == 0, single_out + single_err
        for node in NODES:
            db = sqlite_utils.Database(tmp_path / f"{node}.db")
            ran = {row[0] for row in db.execute("select site from crawl_runs")}
            finished = {row[0] for row in db.execute("select site from crawl_runs where status = 'ok'")}
            db.close()
            assert ran == finished == {slug for slug, owner in owners.items() if owner == node}
        a = sqlite_utils.Database(a_db)
        interrupted = a.execute("select count(*) from crawl_runs where status != 'ok'").fetchone()[0]
        a.close()
        assert interrupted >= 1  # the killed batch's run, redelivered and run again

        central = tmp_path / "central.db"
        merge = subprocess.run(
            [
                sys.executable,
                "-m",
                "portalcrawl",
                "merge",
                "--db",
                str(central),
                str(a_db),
                str(tmp_path / "b.db"),
            ],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert merge.returncode == 0, merge.stderr
        merged, expected = archive(central), archive(tmp_path / "single.db")
        for key in ("articles", "versions", "searches", "fts"):
            assert merged[key] == expected[key], key
        db = sqlite_utils.Database(central)
        assert db.execute("select count(*) = count(distinct url) from articles").fetchone()[0] == 1
        nodes = {row[0] for row in db.execute("select node from crawl_runs")}
        db.close()
        assert nodes == set(NODES)
        again = subprocess.run(
            [
                sys.executable,
                "-m",
                "portalcrawl",
                "merge",
                "--db",
                str(central),
                str(a_db),
                str(tmp_path / "b.db"),
            ],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert again.returncode == 0 and again.stdout.count("; 0 rows in ") == 2, again.stdout
    finally:
        for server in servers:
            server.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_a_tcp_broker_with_a_password_runs_a_batch_and_a_wrong_password_is_one_line(
    tmp_path: Path, processes: Processes
) -> None:
    directory = Path(tempfile.mkdtemp(prefix="redis-"))
    redis_server, url = start_redis(directory, port=free_port())
    server = PortalServer(REPO_ROOT / "tests" / "portals" / "numbered").start()
    try:
        sites = tmp_path / "sites"
        sites.mkdir()
        (sites / "num.toml").write_text(f'name = "num"\nstart_urls = ["{server.start_url("tzgg")}"]\n')
        start_worker(processes, url, "solo", tmp_path, sites)
        # A crawl (here: this test) holds the shard's lock: the batch exits 75 and is retried later.
        lock = CrawlLock(lock_path_for(tmp_path / "solo.db"))
        lock.acquire()
        done = processes.portalcrawl(
            ["dispatch", "num", "--dir", str(sites), "--broker", url, "--nodes", "solo", "--wait"], tmp_path
        )
        worker_log = tmp_path / "worker-solo-0.log"
        wait_for(lambda: "Retry in" in worker_log.read_text(), 60, "the locked batch to be retried")
        lock.release()
        out, err = done.communicate(timeout=120)
        assert done.returncode == 0, out + err
        assert "batch 1 on node solo (num): crawl exit 0 (attempt 2, the shard was locked)" in out
        db = sqlite_utils.Database(tmp_path / "solo.db")
        assert db.execute("select count(*) from articles").fetchone()[0] == 35
        db.close()
        wrong = processes.portalcrawl(
            [
                "dispatch",
                "num",
                "--dir",
                str(sites),
                "--broker",
                url.replace(PASSWORD, "wrong"),
                "--nodes",
                "solo",
            ],
            tmp_path,
        )
        out, err = wrong.communicate(timeout=60)
        assert wrong.returncode == 1 and "Traceback" not in err
        assert err.startswith("portalcrawl dispatch: error: cannot use the broker"), err
        assert len(err.strip().splitlines()) == 1 and "wrong" not in err  # the password is masked
    finally:
        server.stop()
        redis_server.kill()
        redis_server.wait()
        shutil.rmtree(directory, ignore_errors=True)
