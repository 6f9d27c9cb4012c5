"""`portalcrawl worker`: a cluster node; runs the batches dispatched to it, one crawl at a time."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path

from portalcrawl.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from portalcrawl.cli.crawl import ConfigError, crawl_settings
from portalcrawl.cli.options import add_settings_argument
from portalcrawl.database import DatabaseError, open_database


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "worker",
        help="run a cluster node: crawl the batches `portalcrawl dispatch` sends it (needs [cluster])",
        description="Consume this node's queue on the broker and run each batch as a `portalcrawl crawl "
        "SITE… --db SHARD` subprocess (its lock, log file, summary and exit status unchanged), one batch "
        "at a time. A batch is acknowledged when its crawl has ended; a batch whose node died is delivered "
        "again after the visibility timeout; a batch that finds the shard locked is retried later. Each "
        "crawl is bounded to 90% of the visibility timeout (CLOSESPIDER_TIMEOUT) unless -s sets one.",
        epilog="Broker URLs: redis://:PASSWORD@HOST:6379/0 or redis+socket://:PASSWORD@/PATH/redis.sock",
    )
    parser.add_argument("--broker", required=True, metavar="URL", help="Redis broker URL")
    parser.add_argument(
        "--node", required=True, metavar="NAME", help="this node's name, as in dispatch --nodes"
    )
    parser.add_argument("--db", required=True, metavar="SHARD", help="this node's archive (shard)")
    parser.add_argument("--dir", metavar="DIR", help="profiles directory (default: the packaged sites/)")
    parser.add_argument(
        "--visibility-timeout",
        type=float,
        metavar="S",
        help="seconds after which a batch whose worker died is delivered again (default: 21600, 6 h)",
    )
    add_settings_argument(
        parser, help="setting passed to every crawl of this node, as `portalcrawl crawl -s` (repeatable)"
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    try:
        from portalcrawl import cluster, merge  # noqa: PLC0415 - Celery is an optional extra
    except ImportError as error:
        print(
            f"portalcrawl worker: error: {error.name} is missing; pip install 'portalcrawl[cluster]'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if not args.node or any(c in args.node for c in " /@"):
        print(f"portalcrawl worker: error: --node {args.node!r}: no spaces, / or @", file=sys.stderr)
        return EXIT_USAGE
    visibility = (
        cluster.DEFAULT_VISIBILITY_TIMEOUT if args.visibility_timeout is None else args.visibility_timeout
    )
    if visibility <= 0:
        print("portalcrawl worker: error: --visibility-timeout must be positive", file=sys.stderr)
        return EXIT_USAGE
    if args.dir and not Path(args.dir).is_dir():
        print(f"portalcrawl worker: error: --dir {args.dir}: no such directory", file=sys.stderr)
        return EXIT_USAGE
    try:
        crawl_settings(args.set)
    except ConfigError as error:
        print(f"portalcrawl worker: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        shard = open_database(args.db)
    except (DatabaseError, sqlite3.Error) as error:
        print(f"portalcrawl worker: error: {args.db}: {error}", file=sys.stderr)
        return EXIT_FAILED
    try:
        merge.set_node_name(shard, args.node)
    finally:
        shard.close()
    config = cluster.NodeConfig(
        node=args.node,
        db=str(Path(args.db).resolve()),
        sites_dir=str(Path(args.dir).resolve()) if args.dir else None,
        settings=tuple(args.set),
        visibility_timeout=visibility,
    )
    app = cluster.make_app(args.broker, visibility_timeout=visibility)
    try:
        cluster.check_broker(app)
    except cluster.BrokerUnavailable as error:
        print(f"portalcrawl worker: error: {error}", file=sys.stderr)
        return EXIT_FAILED
    cluster.register_worker_task(app, config)
    # solo: one batch at a time in this process; two crawls on one shard would only meet its lock.
    app.worker_main(
        [
            "worker",
            "--pool=solo",
            "--concurrency=1",
            f"--queues={cluster.queue_name(args.node)}",
            f"--hostname={args.node}@%h",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
        ]
    )
    return EXIT_OK
