"""The ``chatd`` command: serve, migrate, config show (and the admin commands of ``chatd.admin``).

Exit codes: 0 success, 1 failure at run time (the message says why), 2 usage or configuration
error (a bad flag, an unknown command, an invalid configuration value).
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import trio

from chatd import __version__, admin
from chatd.config import Config, ConfigError, load_config
from chatd.dbctx import open_db_for_cli
from chatd.log import setup_logging
from chatd.runner import EXIT_FAILURE, EXIT_USAGE, run_async
from chatd.store.migrate import apply_migrations

log = logging.getLogger("chatd.cli")

EPILOG_MAIN = """\
examples:
  chatd serve                          run with the embedded database and a self-signed certificate
  chatd serve --data-dir ./chatd-data --port 9443
  chatd migrate                        apply database migrations and exit
  chatd config show                    print the effective configuration (secrets masked)
"""


class _Parser(argparse.ArgumentParser):
    """argparse with the usage-error exit code fixed at 2 and a hint line."""

    def error(self, message: str) -> Any:
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}\n(run '{self.prog} --help' for help)", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="TOML configuration file (default: DATA_DIR/chatd.toml)")
    p.add_argument("--data-dir", type=Path, help="where chatd keeps its database, certificate and files")
    p.add_argument("--database-url", help="use this PostgreSQL instead of the embedded one")
    p.add_argument("--log-level", choices=["debug", "info", "warning", "error"])


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="chatd",
        description="chatd — a self-hosted real-time chat server.",
        epilog=EPILOG_MAIN,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"chatd {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser(
        "serve",
        help="run the chat server",
        description="Run the chat server until SIGTERM or Ctrl-C (a second one forces exit).",
        epilog="examples:\n  chatd serve\n  chatd serve --data-dir /var/lib/chatd --host 127.0.0.1 --port 8443\n"
        "  chatd serve --no-tls --port 8080          (plain HTTP behind HAProxy on loopback)\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(p)
    p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to listen on (default 8443; 0 picks a free one)")
    p.add_argument("--unix-socket", help="listen on this unix socket instead of host:port")
    p.add_argument("--no-tls", dest="tls", action="store_const", const=False, help="plain HTTP (behind a TLS proxy)")
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser(
        "migrate",
        help="apply database migrations",
        description="Apply pending migrations from sql/ in order, each once, then exit.",
        epilog="examples:\n  chatd migrate\n  chatd migrate --database-url postgresql://chatd@localhost/chatd\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(p)
    p.set_defaults(handler=cmd_migrate)

    p = sub.add_parser(
        "config",
        help="configuration tools",
        description="Configuration tools.",
        epilog="examples:\n  chatd config show\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    csub = p.add_subparsers(dest="config_command", metavar="SUBCOMMAND", parser_class=_Parser)
    csub.required = True
    ps = csub.add_parser(
        "show",
        help="print the effective configuration (secrets masked)",
        description="Print the merged configuration (defaults < file < CHATD_* < flags) as TOML-ish lines.",
        epilog="examples:\n  chatd config show\n  CHATD_PORT=9443 chatd config show --json\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(ps)
    ps.add_argument("--json", action="store_true", help="print JSON")
    ps.set_defaults(handler=cmd_config_show)

    admin.add_commands(sub, _common)  # user, sessions, invite, post, backup, status, files, search
    return parser


def config_from_args(args: argparse.Namespace) -> Config:
    overrides: dict[str, Any] = {}
    for key in ("data_dir", "host", "port", "unix_socket", "tls", "database_url", "log_level"):
        value = getattr(args, key, None)
        if value is not None:
            overrides[key] = value
    return load_config(
        config_file=getattr(args, "config", None),
        overrides=overrides,
        warn=lambda m: print(f"chatd: warning: {m}", file=sys.stderr),
    )


def cmd_config_show(args: argparse.Namespace, cfg: Config) -> int:
    values = cfg.masked()
    if args.json:
        print(json.dumps(values, indent=2, ensure_ascii=False))
    else:
        for key, value in values.items():
            print(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    return 0


def cmd_migrate(args: argparse.Namespace, cfg: Config) -> int:
    async def run() -> int:
        async with open_db_for_cli(cfg) as db:
            applied = await apply_migrations(db)
        print(f"applied {len(applied)} migration(s)" + "".join(f"\n  {m.path.name}" for m in applied))
        return 0

    return run_async(run)


def cmd_serve(args: argparse.Namespace, cfg: Config) -> int:
    # Only serve needs the web stack (Quart, Hypercorn: ~0.25 s to import); the other commands skip it.
    from chatd.server import StartupError, print_banner, serve

    async def run() -> int:
        shutdown = trio.Event()
        forced = trio.CancelScope()
        started: list[Any] = []  # the ServeInfo, once serving: SIGHUP reloads its certificate
        with forced:
            async with trio.open_nursery() as outer:
                outer.start_soon(_signals, shutdown, forced, lambda: [info.reload() for info in started])
                async with trio.open_nursery() as inner:
                    info = await inner.start(lambda task_status: serve(cfg, shutdown=shutdown, task_status=task_status))
                    started.append(info)
                    print_banner(info, cfg)
                outer.cancel_scope.cancel()  # serve() has drained and returned: stop listening for signals
        return EXIT_FAILURE if forced.cancelled_caught else 0

    return run_async(run, also_known=(StartupError,))


async def _signals(
    shutdown: trio.Event, root: trio.CancelScope, reload: Callable[[], object] = lambda: None
) -> None:
    """First SIGTERM/SIGINT: graceful drain. Second: cancel everything now. SIGHUP: ``reload()``
    (certificate files, e.g. after a renewal)."""
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGHUP) as signals:
        async for signum in signals:
            if signum == signal.SIGHUP:
                log.info("event=signal signal=SIGHUP action=reload")
                reload()
            elif not shutdown.is_set():
                log.info("event=signal signal=%s action=drain", signal.Signals(signum).name)
                shutdown.set()
            else:
                log.warning("event=signal signal=%s action=force", signal.Signals(signum).name)
                root.cancel()
                return


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        cfg = config_from_args(args)
    except ConfigError as exc:
        print(f"chatd: {exc}", file=sys.stderr)
        return EXIT_USAGE
    setup_logging(cfg.log_level, cfg.access_log)
    code: int = args.handler(args, cfg)
    return code


if __name__ == "__main__":
    sys.exit(main())
