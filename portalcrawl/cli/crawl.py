"""`portalcrawl crawl`: run the portal spider for several sites in one process, for cron."""

from __future__ import annotations

import argparse
import datetime
import logging
import os
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sqlite_utils
from scrapy.crawler import Crawler
from scrapy.settings import Settings
from scrapy.utils.project import get_project_settings
from twisted.python.failure import Failure

from portalcrawl.archive_files import is_sqlite_file, unwritable_reason
from portalcrawl.attachments import MODES as ATTACHMENT_MODES
from portalcrawl.cli import EXIT_FAILED, EXIT_OK, EXIT_TEMPFAIL, EXIT_USAGE
from portalcrawl.cli.options import add_settings_argument
from portalcrawl.crawl_args import CrawlArgumentError, crawl_arguments, crawl_options
from portalcrawl.crawl_process import PortalCrawlerProcess, stats_of
from portalcrawl.lock import CrawlLock, LockHeld, LockUnusable, describe_previous_holder, lock_path_for
from portalcrawl.log_failures import report_log_failures_once
from portalcrawl.notify import NotifyError, check_notify_url, post, summary
from portalcrawl.pages import keep_pages_setting
from portalcrawl.profiles import (
    ProfileError,
    SiteProfile,
    iter_profile_files,
    load_profile,
    load_profile_file,
)
from portalcrawl.sharding import parse_shard, select_shard

logger = logging.getLogger(__name__)

PROGRESS_EXTENSION = "portalcrawl.extensions.progress.CrawlProgress"
# Enough history to look back over a month of daily cron runs without the directory growing forever.
KEEP_LOG_FILES = 30

EXIT_STATUS_HELP = """\
exit status:
  0   every site finished with status ok (dead links are counted and listed in fetch_errors), or
      partial after running to its end with more than one URL in ten failing or attachments left by
      the byte budget (see `portalcrawl runs`)
  1   at least one site failed or was blocked, or did not run to its end (interrupted, timed out,
      closed early); with --strict, partial counts as failure too
  2   usage or configuration error: unknown site, invalid profile, bad -s NAME=VALUE, bad date or URL,
      or an archive (or its lock) that cannot be used: a directory, corrupt, newer schema, read-only
  75  another crawl holds the lock on this database (<db>.lock); nothing was done, retry later

site status (summary table, `portalcrawl runs`; the reason column says why):
  ok       finished; "max_pages=N reached, K listings not complete" when a cap stopped paging (the
           next run pages past it). Caps: --max-pages, the profile's max_pages, PORTALCRAWL_MAX_PAGES
           (200); --full does not lift them
  partial  stopped early (Ctrl-C, SIGTERM, a limit), or more than one URL in ten failed, or
           "attachment budget spent, N files left for the next run" (PORTALCRAWL_ATTACHMENT_BUDGET)
  failed   no_articles_found (listing pages without one article link), extraction_failed,
           storage_error, killed (its process died), nothing fetched
  blocked  answers were a WAF wall or rate limit

The first Ctrl-C stops after in-flight requests and starts no further site; a second aborts.
"""


class ConfigError(ValueError):
    """A command line or configuration problem, reported as one line with exit status 2."""


@dataclass(frozen=True)
class CrawlJob:
    """One crawler of the run: a site (profile slug or ad-hoc host) and its spider arguments."""

    site: str
    spider_args: dict[str, str]


@dataclass
class SiteResult:
    """One line of the summary table: a site's crawl_runs row, or why there is none."""

    site: str
    status: str = "failed"
    pages: int = 0
    new: int = 0
    updated: int = 0
    errors: int = 0
    reason: str = ""
    run_id: int | None = None
    finish_reason: str | None = None

    def is_failure(self, *, strict: bool) -> bool:
        """The exit-status rule of EXIT_STATUS_HELP for this site."""
        if self.finish_reason != "finished":
            return True
        if self.status == "ok":
            return False
        return strict or self.status != "partial"


@dataclass
class _Launch:
    job: CrawlJob
    crawler: Crawler | None = None
    failure: list[str] = field(default_factory=list)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "crawl",
        help="crawl sites (profiles or ad-hoc URLs) into the archive",
        description="Crawl the named site profiles (or all enabled ones, or ad-hoc listing URLs) in one "
        "process, one crawl_runs row per site, with a log file per run and a summary table.",
        epilog=EXIT_STATUS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("sites", nargs="*", metavar="SITE", help="profile slug (sites/<SITE>.toml)")
    parser.add_argument("--all", action="store_true", help="crawl every enabled profile")
    parser.add_argument(
        "--shard",
        metavar="I/N",
        help="with --all: only the profiles whose host hashes to shard I of N (I from 1), "
        "for N machines sharing the work",
    )
    parser.add_argument(
        "--url", action="append", default=[], metavar="URL", help="ad-hoc listing URL (repeatable)"
    )
    parser.add_argument("--since", metavar="DATE", help="stop paging at articles older than YYYY-MM-DD")
    parser.add_argument(
        "--full", action="store_true", help="page every listing to its end (no incremental stop)"
    )
    parser.add_argument("--max-pages", type=int, metavar="N", help="listing pages per start URL")
    parser.add_argument(
        "--max-time",
        metavar="DURATION",
        help="stop each site's crawl after this long, as partial (seconds, or 90m, 6h; "
        "default: setting CLOSESPIDER_TIMEOUT, 6h)",
    )
    parser.add_argument("--db", metavar="PATH", help="SQLite archive (default: setting PORTALCRAWL_DB_PATH)")
    parser.add_argument("--dir", metavar="DIR", help="profiles directory (default: the packaged sites/)")
    add_settings_argument(
        parser, help="override a Scrapy/portalcrawl setting, as with `scrapy crawl -s` (repeatable)"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when any site is only partial")
    parser.add_argument(
        "--attachments",
        choices=ATTACHMENT_MODES,
        metavar="MODE",
        help="document links: off, links (default), download (also the files, at most "
        "PORTALCRAWL_ATTACHMENT_BUDGET bytes a run), text (also their text)",
    )
    parser.add_argument(
        "--notify",
        metavar="URL",
        help="POST a JSON summary to this webhook when a site fails (as the exit status counts failure)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="sites crawled at once; the others wait their turn (default: setting PORTALCRAWL_JOBS, 16)",
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    try:
        settings = crawl_settings(args.set, db=args.db, sites_dir=args.dir, max_time=args.max_time)
        if args.attachments:
            settings.set("PORTALCRAWL_ATTACHMENTS", args.attachments, "cmdline")
        if settings.get("PORTALCRAWL_ATTACHMENTS") not in ATTACHMENT_MODES:
            raise ConfigError(
                f"PORTALCRAWL_ATTACHMENTS: expected one of {', '.join(ATTACHMENT_MODES)}, "
                f"got {settings.get('PORTALCRAWL_ATTACHMENTS')!r}"
            )
        if args.jobs is not None:
            if args.jobs < 1:
                raise ConfigError(f"--jobs {args.jobs}: must be a positive integer")
            settings.set("PORTALCRAWL_JOBS", args.jobs, priority="cmdline")
        if args.notify:
            try:
                check_notify_url(args.notify)
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
        jobs = plan_jobs(args, settings)
    except (ConfigError, ProfileError) as exc:
        print(f"portalcrawl: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not jobs:
        # A shard that owns no host is normal when there are fewer hosts than machines.
        print(f"no enabled site profile in shard {args.shard}; nothing to crawl")
        return EXIT_OK
    db_path = settings["PORTALCRAWL_DB_PATH"]
    lock = CrawlLock(lock_path_for(db_path))
    try:
        lock.acquire()
    except LockHeld as exc:
        print(locked_message(exc, db_path), file=sys.stderr)
        return EXIT_TEMPFAIL
    except LockUnusable as exc:
        print(f"portalcrawl: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        # Said now, in one line, rather than as a summary of sites that all failed for no shown reason.
        problem = unwritable_reason(db_path)
        if problem:
            print(f"portalcrawl: error: cannot crawl into {db_path}: {problem}", file=sys.stderr)
            return EXIT_USAGE
        log_file = prepare_log_file(settings, "crawl")
        # The extension itself stays silent (NotConfigured) when stderr is not a terminal.
        settings.set("EXTENSIONS", {**settings.getdict("EXTENSIONS"), PROGRESS_EXTENSION: 900}, "cmdline")
        results = run_crawls(settings, jobs, lock=lock)
    finally:
        lock.release()
    print(format_summary(results))
    if log_file:
        print(f"log: {log_file}")
    failed = [r for r in results if r.is_failure(strict=args.strict)]
    if failed and args.notify:
        notify_failures(args.notify, str(db_path), failed, len(results))
    return EXIT_FAILED if failed else EXIT_OK


def notify_failures(url: str, db_path: str, failed: list[SiteResult], checked: int) -> None:
    sites = [
        {"site": r.site, "status": r.status, "reason": r.reason, "run_id": r.run_id, "errors": r.errors}
        for r in failed
    ]
    try:
        post(url, summary("crawl", db_path, sites, checked))
    except NotifyError as error:
        print(f"portalcrawl: {error}", file=sys.stderr)


def locked_message(held: LockHeld, db_path: str | Path) -> str:
    holder = f"pid {held.pid}" if held.pid is not None else "another process"
    return f"portalcrawl: another crawl ({holder}) is running on {db_path}; not starting"


def crawl_settings(
    overrides: Iterable[str],
    *,
    db: str | None = None,
    sites_dir: str | None = None,
    max_time: str | None = None,
) -> Settings:
    """Project settings plus ``-s NAME=VALUE`` overrides at the priority ``scrapy crawl -s`` uses."""
    # The command belongs to portalcrawl: a scrapy.cfg of some other project in the working directory
    # (or an inherited SCRAPY_SETTINGS_MODULE) must not swap its settings for foreign ones.
    os.environ["SCRAPY_SETTINGS_MODULE"] = "portalcrawl.settings"
    settings = get_project_settings()
    for override in overrides:
        name, sep, value = override.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ConfigError(f"-s {override!r}: expected NAME=VALUE")
        if name.startswith("PORTALCRAWL_") and name not in settings:
            raise ConfigError(f"-s {override!r}: unknown setting {name}")
        default = settings.get(name)
        try:
            settings.set(name, value, priority="cmdline")
        except ValueError:
            raise ConfigError(f"-s {override!r}: {name} must be a JSON object") from None
        _check_setting_type(settings, name, default, override)
    try:
        keep_pages_setting(settings.get("PORTALCRAWL_KEEP_PAGES"))
    except ValueError as error:
        raise ConfigError(f"-s {error}") from None
    if settings.get("LOG_FILE") and is_sqlite_file(settings["LOG_FILE"]):
        raise ConfigError(f"-s LOG_FILE={settings['LOG_FILE']}: is a SQLite database; not logging into it")
    if max_time is not None:
        settings.set("CLOSESPIDER_TIMEOUT", parse_duration(max_time), priority="cmdline")
    if db:
        settings.set("PORTALCRAWL_DB_PATH", db, priority="cmdline")
    if sites_dir:
        settings.set("PORTALCRAWL_SITES_DIR", sites_dir, priority="cmdline")
    return settings


def parse_duration(text: str) -> float:
    """Seconds in ``90``, ``45s``, ``90m`` or ``6h``; a ConfigError for anything else."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text)
    seconds = float(match[1]) * {"": 1, "s": 1, "m": 60, "h": 3600}[match[2]] if match else 0.0
    if not 0 < seconds < 10**9:
        raise ConfigError(f"--max-time {text!r}: expected a positive duration such as 600, 90m or 6h")
    return seconds


def _check_setting_type(settings: Settings, name: str, default: Any, override: str) -> None:
    """Fail now, as a usage error, on a value Scrapy would only reject with a traceback mid-start."""
    getters: dict[type, Callable[[str], Any]] = {
        bool: settings.getbool,
        int: settings.getint,
        float: settings.getfloat,
        dict: settings.getdict,
    }
    getter = getters.get(type(default))
    if getter is None:
        return
    try:
        getter(name)
    except ValueError:
        kind = {bool: "True or False", int: "an integer", float: "a number", dict: "a JSON object"}
        raise ConfigError(f"-s {override!r}: {name} must be {kind[type(default)]}") from None


def plan_jobs(args: argparse.Namespace, settings: Settings) -> list[CrawlJob]:
    """Validate the sites, URLs and options and turn them into one job per site."""
    if not (args.sites or args.all or args.url):
        raise ConfigError("name at least one SITE, or use --all or --url URL (see portalcrawl crawl --help)")
    common: dict[str, str] = {}
    if args.since is not None:
        common["since"] = args.since
    if args.full:
        common["full"] = "1"
    if args.max_pages is not None:
        common["max_pages"] = str(args.max_pages)
    try:
        crawl_options(**common)
    except CrawlArgumentError as exc:
        raise _config_error(exc) from None
    sites_dir = settings.get("PORTALCRAWL_SITES_DIR") or None
    profiles: dict[str, SiteProfile] = {}
    if args.shard is not None and not args.all:
        raise ConfigError("--shard selects among the enabled profiles: use it with --all")
    if args.all:
        paths = list(iter_profile_files(sites_dir))
        enabled = [p for p in map(load_profile_file, paths) if p.enabled]
        if not enabled:
            raise ConfigError(f"--all: no enabled site profile in {sites_dir or 'the packaged sites/'}")
        if args.shard is not None:
            try:
                enabled = select_shard(enabled, parse_shard(args.shard))
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
        profiles.update((p.slug, p) for p in enabled)
    for slug in args.sites:
        profiles[slug] = load_profile(slug, sites_dir)
    jobs = [CrawlJob(slug, {"site": slug, **common}) for slug in profiles]
    urls_by_host: dict[str, list[str]] = {}
    for url in args.url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"--url {url!r}: not an http(s) URL")
        urls_by_host.setdefault(SiteProfile.ad_hoc([url]).slug, []).append(url)
    jobs += [CrawlJob(host, {"url": ",".join(urls), **common}) for host, urls in urls_by_host.items()]
    for job in jobs:
        _check_arguments(job, settings)
    return jobs


def _check_arguments(job: CrawlJob, settings: Settings) -> None:
    """Check a job exactly as its spider will (crawl_args), so a bad value stops the run before it starts."""
    try:
        crawl_arguments(
            **job.spider_args,
            sites_dir=settings.get("PORTALCRAWL_SITES_DIR") or None,
            default_max_pages=settings.getint("PORTALCRAWL_MAX_PAGES"),
            default_timezone=settings.get("PORTALCRAWL_TIMEZONE") or None,
        )
    except CrawlArgumentError as exc:
        raise _config_error(exc) from None


def _config_error(exc: CrawlArgumentError) -> ConfigError:
    """The argument's problem, named as this command's option (``--max-pages``) or setting (``-s``)."""
    option = f"-s {exc.key}" if exc.key.isupper() else f"--{exc.key.replace('_', '-')}"
    return ConfigError(f"{option}: {exc}")


def prepare_log_file(settings: Settings, kind: str) -> Path | None:
    """Point LOG_FILE at ``<db dir>/logs/<kind>-<time>-<pid>.log`` unless set, pruning old logs."""
    if settings.get("LOG_FILE"):
        return None
    logs_dir = Path(settings["PORTALCRAWL_DB_PATH"]).parent / "logs"
    logs_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    log_file = logs_dir / f"{kind}-{stamp}-{os.getpid()}.log"
    settings.set("LOG_FILE", str(log_file), priority="cmdline")
    old_logs = sorted(logs_dir.glob(f"{kind}-*.log"), key=lambda p: p.stat().st_mtime)
    for old in old_logs[: max(len(old_logs) - (KEEP_LOG_FILES - 1), 0)]:
        old.unlink(missing_ok=True)
    return log_file


def run_crawls(
    settings: Settings, jobs: list[CrawlJob], *, lock: CrawlLock | None = None
) -> list[SiteResult]:
    """Run the jobs in one process, ``PORTALCRAWL_JOBS`` at a time, and read back each crawl_runs row."""
    report_log_failures_once()
    process = PortalCrawlerProcess(
        settings, jobs=settings.getint("PORTALCRAWL_JOBS"), db_path=settings["PORTALCRAWL_DB_PATH"]
    )
    if lock is not None and lock.previous_pid is not None:
        logger.info(
            "took over the lock %s left by %s", lock.path, describe_previous_holder(lock.previous_pid)
        )
    launches = []
    for job in jobs:
        launch = _Launch(job)
        deferred = process.crawl_in_turn(partial(setattr, launch, "crawler"), **job.spider_args)
        deferred.addErrback(_record_failure, launch)
        launches.append(launch)
    process.start()
    return [_result(launch, settings["PORTALCRAWL_DB_PATH"]) for launch in launches]


def _record_failure(failure: Failure, launch: _Launch) -> None:
    logger.error("crawl of %s could not run: %s", launch.job.site, failure.getErrorMessage())
    launch.failure.append(failure.getErrorMessage() or repr(failure.value))


def _result(launch: _Launch, db_path: str) -> SiteResult:
    if launch.crawler is None:
        return SiteResult(site=launch.job.site, reason="not started: the crawl was interrupted")
    stats = stats_of(launch.crawler)
    result = SiteResult(site=launch.job.site, finish_reason=stats.get("finish_reason"))
    result.run_id = stats.get("portalcrawl/run_id")
    row, top_error = _crawl_run_row(db_path, result.run_id)
    if row is None:
        result.pages = stats.get("response_received_count", 0)
        result.new = stats.get("portalcrawl/storage/new", 0)
        result.updated = stats.get("portalcrawl/storage/updated", 0)
        result.reason = (
            "; ".join(launch.failure) or f"no crawl_runs row (finish reason {result.finish_reason})"
        )
        return result
    result.status = "failed" if launch.failure else row["status"]
    result.pages = row.get("pages_fetched") or 0
    result.new = row.get("new_articles") or 0
    result.updated = row.get("updated_articles") or 0
    result.errors = row.get("errors") or 0
    # What a cron user would look for first: why it failed or stopped, and which cap cut it short.
    reasons = [*launch.failure]
    if row.get("blocked_kind"):
        reasons.append(f"blocked: {row['blocked_kind']}")
    if row.get("reason") and row["reason"] != "finished":
        reasons.append(row["reason"])
    if result.errors:
        failed = f"{result.errors} URL{'s' if result.errors > 1 else ''} failed"
        if top_error and not any(top_error in reason for reason in reasons):
            failed += f", mostly {top_error}"
        reasons.append(failed)
    result.reason = "; ".join(reasons)
    return result


def _crawl_run_row(db_path: str, run_id: int | None) -> tuple[dict[str, Any] | None, str | None]:
    """The run's crawl_runs row and the most frequent reason among its fetch_errors."""
    if run_id is None or not Path(db_path).is_file():
        return None, None
    db = sqlite_utils.Database(db_path)
    try:
        rows = list(db.query("select * from crawl_runs where id = ?", [run_id]))
        top = list(
            db.query(
                "select reason from fetch_errors where run_id = ? "
                "group by reason order by count(*) desc limit 1",
                [run_id],
            )
        )
    finally:
        db.close()
    return (rows[0] if rows else None), (top[0]["reason"] if top else None)


def format_summary(results: list[SiteResult]) -> str:
    headers = ("site", "status", "pages", "new", "updated", "errors", "reason")
    rows = [
        (r.site, r.status, str(r.pages), str(r.new), str(r.updated), str(r.errors), r.reason) for r in results
    ]
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers) - 1)]
    numeric = {2, 3, 4, 5}
    lines = []
    for row in [headers, *rows]:
        cells = [
            cell.rjust(widths[i]) if i in numeric and row is not headers else cell.ljust(widths[i])
            for i, cell in enumerate(row[:-1])
        ]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)
