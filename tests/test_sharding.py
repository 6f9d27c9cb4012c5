"""`--shard I/N`: a stable partition of profiles by host, and profiles loadable from a zipped package."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import sqlite_utils

from portalcrawl.cli import main
from portalcrawl.profiles import SiteProfile
from portalcrawl.sharding import Shard, host_key, owner_node, parse_shard, select_shard, shard_of
from tests.conftest import FAST_SETTINGS, REPO_ROOT, PortalFactory, run_cli


def profile(slug: str, *urls: str) -> SiteProfile:
    return SiteProfile(slug=slug, name=slug, start_urls=urls)


def test_parse_shard_counts_from_one() -> None:
    assert parse_shard("1/3") == Shard(1, 3)
    assert str(parse_shard(" 3/3 ")) == "3/3"
    for bad in ("0/3", "4/3", "1", "a/b", "1/0", "-1/2"):
        with pytest.raises(ValueError, match="--shard"):
            parse_shard(bad)


def test_host_key_uses_the_schemes_default_port_and_only_the_first_start_url() -> None:
    assert host_key(profile("a", "https://WWW.A.gov.cn/xwzx/", "http://b.gov.cn/")) == "www.a.gov.cn:443"
    assert host_key(profile("b", "http://b.gov.cn/tzgg/")) == "b.gov.cn:80"
    assert host_key(profile("c", "http://127.0.0.1:8123/x/")) == "127.0.0.1:8123"


def test_the_partition_is_fixed_across_versions_and_processes() -> None:
    # A change of hash would move sites between machines whose shards hold their incremental state.
    hosts = [f"https://www.site{n}.gov.cn/" for n in range(8)]
    assert [shard_of(profile(f"s{n}", url), 3) for n, url in enumerate(hosts)] == [3, 3, 1, 1, 1, 2, 2, 3]


def test_every_profile_is_in_exactly_one_shard_and_hosts_stay_together() -> None:
    profiles = [profile(f"s{n}", f"http://h{n % 7}.gov.cn/col{n}/") for n in range(40)]
    shards = [select_shard(profiles, Shard(i, 4)) for i in range(1, 5)]
    assert sorted(p.slug for shard in shards for p in shard) == sorted(p.slug for p in profiles)
    for shard in shards:
        hosts = {host_key(p) for p in shard}
        assert all(host_key(p) in hosts for p in profiles if p in shard)
        assert not any(host_key(p) in hosts for other in shards if other is not shard for p in other)


def test_adding_a_shard_moves_hosts_only_to_the_new_shard() -> None:
    profiles = [profile(f"s{n}", f"http://h{n}.gov.cn/") for n in range(200)]
    moved = [p for p in profiles if shard_of(p, 4) != shard_of(p, 5)]
    assert moved and all(shard_of(p, 5) == 5 for p in moved)
    assert 20 < len(moved) < 70  # about a fifth


def test_the_kth_node_owns_what_shard_k_of_n_selects() -> None:
    profiles = [profile(f"s{n}", f"http://h{n}.gov.cn/") for n in range(30)]
    for p in profiles:
        assert owner_node(p, ["a", "b", "c"]) == "abc"[shard_of(p, 3) - 1]


def write_profiles(directory: Path, urls: dict[str, str], *, disabled: tuple[str, ...] = ()) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for slug, url in urls.items():
        enabled = "false" if slug in disabled else "true"
        (directory / f"{slug}.toml").write_text(
            f'name = "{slug}"\nstart_urls = ["{url}"]\nenabled = {enabled}\n', encoding="utf-8"
        )


def test_sites_shard_lists_each_enabled_profile_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    urls = {f"s{n}": f"http://h{n % 5}.gov.cn/c{n}/" for n in range(12)}
    write_profiles(tmp_path, urls, disabled=("s0",))
    listed: list[str] = []
    for index in (1, 2, 3):
        assert main(["sites", "--dir", str(tmp_path), "--shard", f"{index}/3"]) == 0
        out = capsys.readouterr().out
        listed += [line.split()[0] for line in out.splitlines()[1:] if line.startswith("s")]
    assert sorted(listed) == sorted(set(urls) - {"s0"})
    assert main(["sites", "--dir", str(tmp_path), "--shard", "4/3"]) == 2
    assert "--shard '4/3'" in capsys.readouterr().err


def run_portalcrawl(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(args, cwd, timeout=120)


def test_crawl_all_shard_crawls_only_its_hosts(tmp_path: Path, portal_server: PortalFactory) -> None:
    servers = [portal_server("numbered") for _ in range(3)]
    urls = {f"p{n}": servers[n % 3].start_url("tzgg") for n in range(6)}
    sites = tmp_path / "sites"
    write_profiles(sites, urls)
    fast = [arg for name, value in FAST_SETTINGS.items() for arg in ("-s", f"{name}={value}")]
    profiles = [profile(slug, url) for slug, url in urls.items()]
    for index in (1, 2):
        db = tmp_path / f"shard{index}.db"
        args = ["crawl", "--all", "--shard", f"{index}/2", "--dir", str(sites), "--db", str(db), *fast]
        done = run_portalcrawl([*args, "--max-pages", "1"], tmp_path)
        expected = {p.slug for p in select_shard(profiles, Shard(index, 2))}
        if not expected:
            assert done.returncode == 0 and "nothing to crawl" in done.stdout
            continue
        assert done.returncode == 0, done.stderr
        crawled = {row["site"] for row in sqlite_utils.Database(db).query("select site from crawl_runs")}
        assert crawled == expected
    refused = run_portalcrawl(["crawl", "p1", "--shard", "1/2", "--dir", str(sites)], tmp_path)
    assert refused.returncode == 2 and "use it with --all" in refused.stderr


def test_packaged_profiles_load_from_a_zipped_package(tmp_path: Path) -> None:
    # scrapyd runs a deployed project from an egg: the package is imported from a zip file.
    archive = tmp_path / "portalcrawl.egg"
    with zipfile.ZipFile(archive, "w") as egg:
        for path in (REPO_ROOT / "portalcrawl").rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                egg.write(path, path.relative_to(REPO_ROOT))
    code = (
        "import portalcrawl, portalcrawl.profiles as p;"
        "print(portalcrawl.__file__);"
        "print(sorted(f.name for f in p.iter_profile_files()));"
        "print(p.load_profile('zj-fgw').cms)"
    )
    env = {**os.environ, "PYTHONPATH": str(archive)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    where, names, cms = done.stdout.splitlines()
    assert where.startswith(str(archive))
    assert "'zj-fgw.toml'" in names and "'beijing-gzdt.toml'" in names
    assert cms == "hanweb"


def test_the_scrapy_settings_entry_point_is_declared() -> None:
    # Without it scrapyd-deploy fails: 'NoneType' object has no attribute 'module_name'.
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["entry-points"]["scrapy"] == {"settings": "portalcrawl.settings"}
