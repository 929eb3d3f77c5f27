"""The `hezo-gateway` command line. The only place that turns outcomes into exit codes."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.config import Settings, load_settings
from gateway.errors import GatewayError
from gateway.schema import CHANNELS, MAILBOXES


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, default=str), flush=True)


def _cmd_parse(args: argparse.Namespace) -> int:
    from parsers import ParseError, parse_bytes

    status = 0
    received_at = datetime.now(UTC)
    for name in args.files:
        try:
            raw = Path(name).read_bytes()
            parsed = parse_bytes(raw, channel=args.channel, mailbox=args.mailbox, received_at=received_at)
            print(parsed.request.model_dump_json(), flush=True)
        except (OSError, ParseError) as exc:
            _print_json({"file": name, "error": str(exc)})
            status = 1
        except Exception as exc:  # one bad file must never stop the batch
            _print_json({"file": name, "error": f"{type(exc).__name__}: {exc}"})
            status = 1
    return status


def _cmd_sla_due(args: argparse.Namespace) -> int:
    from gateway.sla import due, format_rfc3339

    try:
        received_at = datetime.fromisoformat(args.received_at)
    except ValueError:
        print(f"--received-at: not an RFC 3339 timestamp: {args.received_at!r}", file=sys.stderr)
        return 2
    if received_at.tzinfo is None:
        print("--received-at needs a time zone offset, e.g. 2026-12-23T16:30:00+01:00", file=sys.stderr)
        return 2
    print(format_rfc3339(due(received_at, args.window, args.hours)))
    return 0


def _cmd_smtp_password(args: argparse.Namespace) -> int:
    from gateway.passwords import hash_password, read_new_password

    try:
        password = read_new_password()
    except ValueError as exc:
        print(f"hezo-gateway: {exc}", file=sys.stderr)
        return 2
    if not password:
        print("hezo-gateway: an empty password cannot protect a relay account", file=sys.stderr)
        return 2
    print(hash_password(password))
    return 0


async def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.service import serve

    return await serve(settings)


def _cmd_serve_workers(args: argparse.Namespace, settings: Settings) -> int | None:
    """Several processes fork before any event loop exists; None: one process, the usual async command."""
    if settings.serve.workers == 1:
        return None
    from gateway.workers import run_workers

    return run_workers(settings)


async def _cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.store import Store

    store = await Store.open(settings.database.url)
    await store.close()
    print("database is at the newest migration")
    return 0


async def _cmd_requests_list(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.api import request_view
    from gateway.store import Store, reads

    store = await Store.open(settings.database.url)
    try:
        async with store.reading() as conn:
            items = await reads.list_requests(conn, reads.RequestFilter(status=args.status, limit=args.limit))
    finally:
        await store.close()
    for item in items:
        view = request_view(item)
        if args.json:
            _print_json(view)
        else:
            missing = ",".join(view.get("missing", [])) or "-"
            flag = "!" if view.get("escalation") else " "
            print(
                f"{item.reference} {flag} {view['channel']:<6} {item.status:<12} missing={missing:<32} "
                f"{(view.get('subject') or view.get('description') or '')[:60]}"
            )
    return 0


async def _cmd_requests_show(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.api import request_view
    from gateway.store import Store, reads

    store = await Store.open(settings.database.url)
    try:
        async with store.reading() as conn:
            stored = await reads.request_by_reference(conn, args.reference)
            if stored is None:
                print(f"no request {args.reference}", file=sys.stderr)
                return 1
            view = {
                **request_view(stored),
                "messages": await reads.messages_of(conn, stored.id),
                "acknowledgements": await reads.outbox_of(conn, stored.id),
            }
    finally:
        await store.close()
    print(json.dumps(view, ensure_ascii=False, indent=2, default=str))
    return 0


async def _cmd_quarantine_list(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.store import Store, reads

    store = await Store.open(settings.database.url)
    try:
        async with store.reading() as conn:
            items = await reads.quarantined(conn, status=None if args.all else "held")
    finally:
        await store.close()
    for item in items:
        print(f"{item['id']:>6} {item['status']:<8} {item['channel']:<6} {item['received_at']} {item['error'][:100]}")
    return 0


async def _cmd_quarantine_retry(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.quarantine import retry
    from gateway.service import Gateway
    from gateway.store import Store

    store = await Store.open(settings.database.url)
    try:
        message = await retry(Gateway(settings=settings, store=store).deps, args.id)
    finally:
        await store.close()
    print(message)
    return 0


AsyncCommand = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hezo-gateway", description="myHEZO omnichannel intake gateway")
    parser.add_argument("--config", type=Path, default=None, help="configuration file (default config/gateway.toml)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run every enabled door, the dispatcher and the HTTP app")
    serve.add_argument("--config", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    serve.set_defaults(run=_cmd_serve, before_loop=_cmd_serve_workers)

    parse = commands.add_parser("parse", help="parse files without storing; one JSON line per file")
    parse.add_argument("--channel", required=True, choices=CHANNELS)
    parse.add_argument("--mailbox", choices=MAILBOXES, default=None)
    parse.add_argument("files", nargs="+")
    parse.set_defaults(plain=_cmd_parse)

    sla = commands.add_parser("sla", help="service-level clocks").add_subparsers(dest="sla_command", required=True)
    sla_due = sla.add_parser("due", help="print the response deadline (RFC 3339, Europe/Warsaw)")
    sla_due.add_argument("--received-at", required=True)
    sla_due.add_argument("--window", required=True, choices=("8x5", "24x7"))
    sla_due.add_argument("--hours", type=float, default=1.0)
    sla_due.set_defaults(plain=_cmd_sla_due)

    smtp_password = commands.add_parser(
        "smtp-password", help="print an scrypt hash for [smtp] auth_users (password asked for, or read from stdin)"
    )
    smtp_password.set_defaults(plain=_cmd_smtp_password)

    db = commands.add_parser("db", help="database maintenance").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply migrations").set_defaults(run=_cmd_db_upgrade)

    requests = commands.add_parser("requests", help="stored requests").add_subparsers(
        dest="requests_command", required=True
    )
    listing = requests.add_parser("list", help="newest first")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.add_argument("--status", default=None, help="a status, or 'open'")
    listing.add_argument("--limit", type=int, default=100)
    listing.set_defaults(run=_cmd_requests_list)
    show = requests.add_parser("show", help="one request with its messages and acknowledgements")
    show.add_argument("reference")
    show.set_defaults(run=_cmd_requests_show)

    quarantine = commands.add_parser("quarantine", help="inputs that could not be parsed").add_subparsers(
        dest="quarantine_command", required=True
    )
    q_list = quarantine.add_parser("list", help="held inputs")
    q_list.add_argument("--all", action="store_true", help="released ones too")
    q_list.set_defaults(run=_cmd_quarantine_list)
    q_retry = quarantine.add_parser("retry", help="parse and store a held input again")
    q_retry.add_argument("id", type=int)
    q_retry.set_defaults(run=_cmd_quarantine_retry)

    from channels.call_log import register_cli as register_calls_cli

    register_calls_cli(commands)

    from gateway.agents import register_cli as register_agents_cli

    register_agents_cli(commands)

    from gateway.contracts.cli import register_cli as register_contracts_cli

    register_contracts_cli(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if hasattr(args, "plain"):
        plain: Callable[[argparse.Namespace], int] = args.plain
        return plain(args)
    try:
        settings = load_settings(args.config)
        from gateway.logs import configure_logging

        configure_logging(settings.log.level, settings.log.format)
        if hasattr(args, "before_loop"):
            done: int | None = args.before_loop(args, settings)
            if done is not None:
                return done
        command: AsyncCommand = args.run
        return asyncio.run(command(args, settings))
    except GatewayError as exc:
        print(f"hezo-gateway: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
