"""`portalcrawl merge`: fold shard archives (one per node) into the central archive."""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from pathlib import Path

from portalcrawl.cli import EXIT_FAILED, EXIT_OK, EXIT_TEMPFAIL, EXIT_USAGE
from portalcrawl.cli.crawl import locked_message
from portalcrawl.cli.runs import add_db_argument
from portalcrawl.database import DatabaseError, open_database
from portalcrawl.lock import CrawlLock, LockHeld, lock_path_for
from portalcrawl.merge import MergeError, merge_shard


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "merge",
        help="merge shard archives into the central archive",
        description="Merge each SHARD.db into the central archive (--db): articles by canonical URL, the "
        "newest fetch winning and older content kept in article_versions; crawl runs and fetch errors "
        "with the node that ran them. Each shard is read from a consistent snapshot, so its node may "
        "keep crawling; searches may read the central archive meanwhile. Merging again adds nothing new.",
        epilog="exit status: 0 merged, 1 some shard could not be merged, 2 usage error, "
        "75 a crawl or merge holds the central archive's lock",
    )
    add_db_argument(parser)
    parser.add_argument("shards", nargs="+", metavar="SHARD.db", help="shard archive written by a node")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    central_path = Path(args.db)
    shards = [Path(shard) for shard in args.shards]
    for shard in shards:
        if not shard.is_file():
            print(f"portalcrawl merge: error: {shard}: no such file", file=sys.stderr)
            return EXIT_USAGE
        if central_path.exists() and shard.resolve() == central_path.resolve():
            print(f"portalcrawl merge: error: {shard} is the central archive itself", file=sys.stderr)
            return EXIT_USAGE
    # One writer at a time on the central archive: a second merge (or a crawl into it) waits for cron.
    lock = CrawlLock(lock_path_for(central_path))
    try:
        lock.acquire()
    except LockHeld as held:
        print(locked_message(held, central_path), file=sys.stderr)
        return EXIT_TEMPFAIL
    try:
        try:
            central = open_database(central_path)
        except (DatabaseError, sqlite3.Error) as error:
            print(f"portalcrawl merge: error: {central_path}: {error}", file=sys.stderr)
            return EXIT_FAILED
        status = EXIT_OK
        try:
            for shard in shards:
                started = time.monotonic()
                try:
                    node, counts = merge_shard(central, shard, central_path.parent)
                except (MergeError, DatabaseError, sqlite3.Error) as error:
                    print(f"portalcrawl merge: error: {shard}: {error}", file=sys.stderr)
                    status = EXIT_FAILED
                    continue
                elapsed = time.monotonic() - started
                print(f"{shard} (node {node}): {counts}; {counts.rows} rows in {elapsed:.1f} s")
        finally:
            central.close()
    finally:
        lock.release()
    return status
