"""Entry point: the TUI, the demo, and the headless commands for cron and scripts.

Exit status (README.md, "Headless"): 0 all done, 1 some rows failed or were
blocked, 2 bad usage or settings, 3 the shop or the database could not be
reached or refused the key.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from tui_connector import config
from tui_connector.errors import ConnectorError, SettingsError

EXIT_OK, EXIT_ROWS_FAILED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse exits 2 too; keep its message short
        self.print_usage(sys.stderr)
        raise SettingsError(f"{self.prog}: {message}")


def _date(value: str):
    import datetime as dt

    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date YYYY-MM-DD") from None


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of at least 1")
    return int(value)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tui-connector", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)

    settings = commands.add_parser("settings", help="read and write settings")
    settings_commands = settings.add_subparsers(dest="action", required=True)
    settings_commands.add_parser("list", help="every setting with its value")
    get = settings_commands.add_parser("get", help="one setting")
    get.add_argument("key")
    set_ = settings_commands.add_parser("set", help="validate and store a setting")
    set_.add_argument("key")
    set_.add_argument("value", help="the value; for shop.api_key, - reads it from standard input")
    unset = settings_commands.add_parser("unset", help="back to the default")
    unset.add_argument("key")

    export = commands.add_parser("export", help="export data")
    export_commands = export.add_subparsers(dest="what", required=True)
    fec = export_commands.add_parser("fec", help="the FEC file of a fiscal year")
    fec.add_argument("--year", required=True, help="fiscal year code, e.g. 2026")
    fec.add_argument("--output", type=Path, help="file or folder (default: here)")
    fec.add_argument("--pipe", action="store_true", help="| instead of tab as separator")
    commands.add_parser("check", help="shop version, what the key may do, what each flow lacks")
    close = commands.add_parser(
        "close-year", help="close a fiscal year; its customers' balances open the next one"
    )
    close.add_argument("--year", required=True, help="fiscal year code, e.g. 2025")

    sync = commands.add_parser("sync", help="read, then execute every row that has work to do")
    sync.add_argument("flow", choices=["contacts", "products", "stock", "orders"])
    sync.add_argument("--dry-run", action="store_true", help="read and show the plan only")
    sync.add_argument("--json", action="store_true", help="print one JSON document")
    sync.add_argument(
        "--create-families",
        action="store_true",
        help="products: Gestan families from the shop's categories, mapped",
    )
    sync.add_argument("--from", dest="date_from", type=_date, help="orders: first day, YYYY-MM-DD")
    sync.add_argument("--to", dest="date_to", type=_date, help="orders: last day, included")
    sync.add_argument("--since-last", action="store_true", help="orders: since the last import")
    sync.add_argument(
        "--reset-cursor", action="store_true", help="orders: forget where the last import stopped"
    )
    sync.add_argument(
        "--orders-first",
        action="store_true",
        help="stock: import the orders and their changes first, so no quantity undoes the shop",
    )

    simulator = commands.add_parser("simulator", help="serve a simulated PrestaShop on loopback")
    simulator.add_argument("--port", type=int, default=0, help="default: a free port")
    simulator.add_argument(
        "--orders", type=_positive, default=200, help="demo orders (default 200)"
    )
    simulator.add_argument(
        "--products", type=_positive, help="demo products (default: a small catalogue)"
    )
    simulator.add_argument("--version", default="8", choices=["1.6", "1.7", "8", "9"])
    simulator.add_argument("--latency-ms", type=float, default=0.0)
    simulator.add_argument("--faults", default="", help="e.g. 503=0.1,cut=0.05,rate=10,strip-auth")
    simulator.add_argument("--seed", type=int, default=1)
    simulator.add_argument(
        "--life",
        type=_positive,
        metavar="SECONDS",
        help="every SECONDS, a few orders are paid, cancelled or refunded, as in a real shop",
    )

    demo = commands.add_parser("demo", help="the simulator and a demo Gestan, nothing to set up")
    demo.add_argument("--orders", type=_positive, default=200)
    demo.add_argument("--exit", action="store_true", help="check the demo shop, then stop")
    demo.add_argument(
        "--data",
        type=Path,
        help="keep the demo's profile and database in this folder (else a temporary one, "
        "gone when the demo ends)",
    )
    return parser


def open_gestan(profile: config.Profile):
    from tui_connector.gestan.database import open_database

    return open_database(profile.effective_database_url())


def run_settings(args: argparse.Namespace, profile: config.Profile) -> int:
    from tui_connector.gestan import settings

    if args.action == "list":
        for key in config.PROFILE_KEYS:
            print(f"{key} = {config.profile_value_for_display(profile, key)}")
        open_gestan(profile)
        for key, value, description in settings.listing():
            print(f"{key} = {value}    # {description}")
        return EXIT_OK
    key = args.key
    if key in config.PROFILE_KEYS:
        if args.action == "get":
            print(config.profile_value_for_display(profile, key))
        elif args.action == "set":
            value = args.value
            if key == "shop.api_key" and value == "-":  # never in the shell's history or ps
                value = _read_secret("Webservice key: ")
            updated = config.set_profile_value(key, value)
            print(f"{key} = {config.profile_value_for_display(updated, key)}")
        else:
            config.set_profile_value(key, "" if key != "shop.auth_mode" else "basic")
        return EXIT_OK
    settings.spec_for(key)  # unknown keys fail before the database is touched
    open_gestan(profile)
    if args.action == "get":
        value = settings.get(key)
        print(str(value).lower() if isinstance(value, bool) else value)
    elif args.action == "set":
        print(f"{key} = {settings.set_value(key, args.value)}")
    else:
        settings.unset(key)
    return EXIT_OK


def _read_secret(prompt: str) -> str:
    """A secret typed (not echoed) or piped on standard input."""
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass(prompt)
    return sys.stdin.readline().strip()


def run_export(args: argparse.Namespace, profile: config.Profile) -> int:
    from tui_connector.gestan import fec

    open_gestan(profile)
    path = fec.export(args.year, args.output, separator="|" if args.pipe else "\t")
    print(f"FEC written: {path}")
    return EXIT_OK


def run_close_year(args: argparse.Namespace, profile: config.Profile) -> int:
    from tui_connector.gestan import accounting

    open_gestan(profile)
    entry = accounting.close_year(args.year)
    print(f"fiscal year {args.year} closed: no entry can be posted in it any more")
    if entry is not None:
        print(f"opening entry {entry.number} of {entry.fiscal_year.code}: the customers' balances")
    return EXIT_OK


def run_check(args: argparse.Namespace, profile: config.Profile) -> int:
    import asyncio

    from tui_connector.prestashop.check import check
    from tui_connector.prestashop.client import Webservice
    from tui_connector.sync.runner import flow_needs

    if not profile.shop_url or not profile.api_key:
        raise SettingsError(
            "no shop is configured",
            hint="tui-connector settings set shop.url https://... and shop.api_key ...",
        )

    async def run():
        async with Webservice(
            profile.shop_url,
            profile.api_key,
            auth_mode=profile.auth_mode,
            on_notice=lambda m: print(f"note: {m}", file=sys.stderr),
        ) as client:
            return await check(client, flow_needs())

    report = asyncio.run(run())
    report.warnings += _advice(profile)
    print("\n".join(report.lines()))
    return EXIT_OK if report.ready else EXIT_ROWS_FAILED


def _advice(profile: config.Profile) -> list[str]:
    """The shop's VAT choices and the books' warnings; what cannot be read is said."""
    import datetime as dt

    from tui_connector.errors import ConnectorError
    from tui_connector.gestan.database import open_database
    from tui_connector.sync import advice
    from tui_connector.sync.runner import make_client

    said = []
    try:
        open_database(profile.effective_database_url(), create=False)  # an existing one only
        books = True
        said += advice.books_advice(dt.date.today())
    except ConnectorError as exc:
        books = False
        said.append(f"books not checked: {exc}")
    try:
        with make_client(profile) as client:
            said += advice.shipping_advice(client)
            if books:
                said += advice.civility_advice(client)
    except ConnectorError as exc:
        said.append(f"shop's choices not checked: {exc}")
    return said


def _start_simulator(
    orders: int,
    *,
    port: int = 0,
    version: str = "8",
    seed: int = 1,
    faults: str = "",
    latency_ms: float = 0.0,
    products: int | None = None,
):
    from tui_connector.simulator.demo_data import build
    from tui_connector.simulator.server import Faults, SimulatedShop

    try:
        plan = Faults.parse(faults)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    plan.latency_ms = latency_ms or plan.latency_ms
    data = build(orders=orders, products=products, seed=seed, real_shapes=True)
    # served over HTTP only, so its id filters may use indexes
    return SimulatedShop(data, port=port, version=version, faults=plan, indexed=True)


def run_simulator(args: argparse.Namespace, profile: config.Profile) -> int:
    shop = _start_simulator(
        args.orders,
        port=args.port,
        version=args.version,
        seed=args.seed,
        faults=args.faults,
        latency_ms=args.latency_ms,
        products=args.products,
    )
    # Printing the key is the point here: it is the simulator's own, made for this run.
    print(f"PrestaShop {shop.engine.version} simulator at {shop.url}")
    print(f"key {shop.key}")
    print(
        f"try: TUI_CONNECTOR_SHOP_URL={shop.url} TUI_CONNECTOR_API_KEY={shop.key} "
        "tui-connector check",
        flush=True,
    )
    if args.life:
        _live(shop, args.life, args.seed, say=print)
    with contextlib.suppress(KeyboardInterrupt):
        shop.serve_forever()
    return EXIT_OK


def _live(shop, every: int, seed: int, say=None) -> None:
    """The simulated shop's life in a thread: a few changes every `every` seconds."""
    import random
    import threading
    import time

    from tui_connector.simulator.life import ShopLife

    life, rng = ShopLife(shop.data), random.Random(seed)

    def loop() -> None:
        while True:
            time.sleep(every)
            done = life.live(rng, life.now(), share=0)
            if say:
                said = ", ".join(f"{kind} {ids}" for kind, ids in done.items() if ids)
                say(f"the shop lives: {said}", flush=True)

    threading.Thread(target=loop, name="shop-life", daemon=True).start()


DEMO_LIFE_SECONDS = 30


def run_demo(args: argparse.Namespace, profile: config.Profile) -> int:
    import os
    import shutil
    import tempfile

    # The demo never touches the user's files: its profile and database are its own,
    # in --data or a temporary folder (two demos at once do not meet)
    folder = args.data or Path(tempfile.mkdtemp(prefix="tui-connector-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    previous = os.environ.get("TUI_CONNECTOR_CONFIG")
    os.environ["TUI_CONNECTOR_CONFIG"] = str(folder / "profile.ini")
    demo_file = folder / "demo-gestan.db"
    for stale in demo_file.parent.glob(demo_file.name + "*"):  # a fresh demo every time
        stale.unlink()
    try:
        return _demo(args, demo_file)
    finally:
        if previous is None:
            os.environ.pop("TUI_CONNECTOR_CONFIG", None)
        else:
            os.environ["TUI_CONNECTOR_CONFIG"] = previous
        if args.data is None:
            shutil.rmtree(folder, ignore_errors=True)


def _demo(args: argparse.Namespace, demo_file: Path) -> int:
    import asyncio

    from tui_connector.gestan.database import open_database
    from tui_connector.prestashop.check import check
    from tui_connector.prestashop.client import Webservice
    from tui_connector.simulator import demo_gestan
    from tui_connector.sync.runner import flow_needs

    shop = _start_simulator(args.orders).start()
    _live(shop, DEMO_LIFE_SECONDS, seed=1)  # the demo shop lives: read again to follow it
    database_url = f"sqlite:///{demo_file}"
    open_database(database_url)
    demo_gestan.seed(shop.data)

    async def run():
        async with Webservice(shop.url, shop.key) as client:
            return await check(client, flow_needs())

    report = asyncio.run(run())
    print(f"demo shop: {shop.url} ({args.orders} orders), demo Gestan: {database_url}")
    print("\n".join(report.lines()))
    if args.exit or not sys.stdin.isatty():
        shop.stop()
        return EXIT_OK
    from tui_connector.ui.app import run as run_tui

    # the demo's own profile (what Paramètres saves goes to the demo's folder)
    demo_profile = config.Profile(
        shop_url=shop.url, api_key=config.Secret(shop.key), database_url=database_url
    )
    try:
        return run_tui(demo_profile)
    finally:
        shop.stop()


def _progress_printer(enabled: bool):
    def show(done: int, total: int, label: str) -> None:
        width = 30
        filled = int(width * done / total) if total else width
        print(
            f"\r{'█' * filled}{'░' * (width - filled)} {done}/{total} {label[:30]:<30}",
            end="",
            file=sys.stderr,
            flush=True,
        )

    return show if enabled else None


def run_sync(args: argparse.Namespace, profile: config.Profile) -> int:
    import json

    from tui_connector.sync.core import unattended
    from tui_connector.sync.runner import make_client, make_flow

    open_gestan(profile)
    order_options = args.date_from or args.date_to or args.since_last or args.reset_cursor
    if args.flow != "orders" and order_options:
        raise SettingsError("--from, --to, --since-last and --reset-cursor are for orders")
    if args.orders_first and args.flow != "stock":
        raise SettingsError("--orders-first is for stock")
    if args.since_last and (args.date_from or args.date_to):
        raise SettingsError("choose --from/--to or --since-last, not both")
    if args.date_from and args.date_to and args.date_from > args.date_to:
        raise SettingsError(f"--from {args.date_from} is after --to {args.date_to}")
    if args.reset_cursor:
        from tui_connector.sync.orders import reset_cursor

        reset_cursor()
        print("orders cursor reset: --since-last starts from the beginning", file=sys.stderr)
    progress = _progress_printer(sys.stderr.isatty() and not args.json)
    with make_client(profile) as client, _stopped_by_signals() as stop:
        if args.orders_first and not args.dry_run:
            # what did not import (a blocked order) still blocks its products' stock rows
            orders = make_flow("orders", client, since_last=True).stream(
                progress=progress, cancel=stop.event
            )
            print(orders.summary(), file=sys.stderr)
        flow = make_flow(
            args.flow,
            client,
            create_families=args.create_families,
            **(
                {
                    "date_from": args.date_from,
                    "date_to": args.date_to,
                    "since_last": args.since_last,
                }
                if args.flow == "orders"
                else {}
            ),
        )
        if not args.dry_run:
            # page by page: read, do, forget; memory stays flat
            report = flow.stream(progress=progress, cancel=stop.event)
            code = _print_report(report, args, progress)
            if stop.signal:
                print(
                    f"stopped by {signal.Signals(stop.signal).name} between two rows: "
                    "what was done is kept, the next run goes on from there",
                    file=sys.stderr,
                )
                return 128 + stop.signal
            return code
        # the plan: what has work to do; cancelled orders are listed but left unless chosen
        rows = flow.read(progress=progress)
        todo = unattended(rows)
        plan = {
            "flow": args.flow,
            "dry_run": True,
            "rows": [
                {
                    "shop_id": r.shop_id,
                    "shop_sub_id": r.shop_sub_id,
                    "gestan_id": r.gestan_id,
                    "status": r.status,
                    "outcome": None,
                    "invoice": None,
                    "message": r.reason,
                }
                for r in todo
            ],
        }
        if args.json:
            print(json.dumps(plan, ensure_ascii=False))
        else:
            for row in todo:
                print(
                    f"{row.status:<24} {row.columns.get('label', row.key)[:50]}"
                    + (f"  ({row.reason})" if row.reason else "")
                )
            print(f"{len(todo)} of {len(rows)} rows have something to do (dry run)")
        return EXIT_OK


class _Stop:
    def __init__(self):
        self.event = threading.Event()
        self.signal = 0

    def __call__(self, signum, frame) -> None:
        self.signal = signum
        self.event.set()  # the run stops between two rows, its record closed


@contextlib.contextmanager
def _stopped_by_signals():
    """SIGTERM and SIGINT stop a run between two rows (exit 128 + the signal's number,
    the report printed), never in the middle of one."""
    stop = _Stop()
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _print_report(report, args: argparse.Namespace, progress) -> int:
    import json

    if progress:
        print(file=sys.stderr)
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        for result in report.results:
            if result.outcome in ("failed", "blocked"):
                print(f"{result.outcome:<8} {result.status:<24} {result.message}")
        print(report.summary())
    if report.error:
        return EXIT_UNREACHABLE
    return EXIT_OK if report.ok else EXIT_ROWS_FAILED


HANDLERS = {
    "sync": run_sync,
    "settings": run_settings,
    "export": run_export,
    "close-year": run_close_year,
    "check": run_check,
    "simulator": run_simulator,
    "demo": run_demo,
}


def _configure_logging() -> None:
    """TUI_CONNECTOR_LOG=debug|info|warning: log lines on stderr (the key is never in them)."""
    import logging
    import os

    level = os.environ.get("TUI_CONNECTOR_LOG", "").upper()
    if level:
        logging.basicConfig(
            level=getattr(logging, level, logging.INFO),
            stream=sys.stderr,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )


def main(argv: Sequence[str] | None = None) -> int:
    _configure_logging()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        profile = config.load()
        if args.command is None:  # the application, on the configured shop
            if not (sys.stdin.isatty() and sys.stdout.isatty()):
                raise SettingsError(
                    "tui-connector is a terminal application and there is no terminal here",
                    hint="from cron or a script use `tui-connector sync ...` (see --help)",
                )
            from tui_connector.ui.app import run as run_tui

            return run_tui(profile)
        return HANDLERS[args.command](args, profile)
    except ConnectorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if "--json" in (argv if argv is not None else sys.argv[1:]):  # a document, always
            import json

            print(
                json.dumps(
                    {"error": exc.message, "hint": exc.hint, "exit_code": exc.exit_code},
                    ensure_ascii=False,
                )
            )
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the database gone under us: its cause, never a traceback
        from tui_connector.gestan.database import database_trouble

        cause = database_trouble(exc)
        if cause is None:
            raise
        print(f"error: {cause}", file=sys.stderr)
        return EXIT_UNREACHABLE
