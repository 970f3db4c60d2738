"""Entry point: the TUI, the demo, and the headless commands for cron and scripts.

Exit status (README.md, "Headless"): 0 all done, 1 some rows failed or were
blocked, 2 bad usage or settings, 3 the shop or the database could not be
reached or refused the key.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from tui_connector import config
from tui_connector.errors import ConnectorError, SettingsError
from tui_connector.labels import OUTCOME_WORDS, status_label

# bad usage or settings exit with SettingsError.exit_code (2), like every error its own
EXIT_OK, EXIT_ROWS_FAILED, EXIT_UNREACHABLE = 0, 1, 3

DESCRIPTION = (
    "Tient une base de gestion commerciale Gestan et une boutique PrestaShop en phase, "
    "depuis le terminal: l'application, la démo, et les commandes pour cron et les scripts."
)

# argparse's own words, in French: (its message, as a pattern; ours)
ARGPARSE_WORDS = [
    (r"the following arguments are required: (.*)", r"arguments obligatoires manquants: \1"),
    (r"unrecognized arguments: (.*)", r"arguments non reconnus: \1"),
    (r"invalid choice: (.*) \(choose from (.*)\)", r"choix invalide: \1 (au choix: \2)"),
    (r"invalid (\S+) value: (.*)", r"valeur \1 invalide: \2"),
    (r"expected one argument", "une valeur est attendue"),
    (r"expected at most one argument", "une valeur au plus est attendue"),
    (r"expected at least one argument", "au moins une valeur est attendue"),
    (r"not allowed with argument (.*)", r"incompatible avec l'argument \1"),
    (r"ignored explicit argument (.*)", r"valeur ignorée \1"),
    (r"one of the arguments (.*) is required", r"l'un des arguments \1 est obligatoire"),
    (r"ambiguous option: (.*) could match (.*)", r"option ambiguë: \1 peut désigner \2"),
]


def _french(message: str) -> str:
    """An argparse error message in French (ours, from a type check, already are)."""
    found = re.fullmatch(r"argument (\S+): (.*)", message, re.S)
    if found:
        return f"argument {found.group(1)}: {_french(found.group(2))}"
    for pattern, french in ARGPARSE_WORDS:
        if re.fullmatch(pattern, message, re.S):
            return re.sub(pattern, french, message, count=1, flags=re.S)
    return message


class _Formatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "utilisation: " if prefix is None else prefix)


class _Parser(argparse.ArgumentParser):
    """argparse in French: the usage, the section titles, -h, the error messages."""

    def __init__(self, *args, add_help: bool = True, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = "arguments positionnels"
        self._optionals.title = "options"
        if add_help:
            self.add_argument(
                "-h",
                "--help",
                action="help",
                default=argparse.SUPPRESS,
                help="afficher cette aide et quitter",
            )

    def error(self, message: str):  # argparse exits 2 too; keep its message short
        self.print_usage(sys.stderr)
        raise SettingsError(f"{self.prog}: {_french(message)}")


def _date(value: str):
    import datetime as dt

    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} n'est pas une date AAAA-MM-JJ") from None


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} n'est pas un nombre entier d'au moins 1")
    return int(value)


def build_parser() -> argparse.ArgumentParser:
    from tui_connector.prestashop.versions import SIMULATED
    from tui_connector.sync.registry import FLOWS

    parser = _Parser(prog="tui-connector", description=DESCRIPTION)
    commands = parser.add_subparsers(
        title="commandes",
        dest="command",
        parser_class=_Parser,
        metavar="COMMANDE",
        description="sans commande: l'application, sur la boutique configurée",
    )

    settings = commands.add_parser("settings", help="lire et écrire les réglages")
    settings_commands = settings.add_subparsers(
        title="actions", dest="action", required=True, metavar="ACTION"
    )
    settings_commands.add_parser("list", help="tous les réglages avec leur valeur")
    get = settings_commands.add_parser("get", help="un réglage")
    get.add_argument("key", metavar="CLÉ", help="la clé du réglage, par exemple shop.url")
    set_ = settings_commands.add_parser("set", help="vérifier et enregistrer un réglage")
    set_.add_argument("key", metavar="CLÉ", help="la clé du réglage, par exemple shop.url")
    set_.add_argument(
        "value",
        metavar="VALEUR",
        help="la valeur; pour shop.api_key, - la lit sur l'entrée standard",
    )
    unset = settings_commands.add_parser("unset", help="revenir à la valeur par défaut")
    unset.add_argument("key", metavar="CLÉ", help="la clé du réglage")

    export = commands.add_parser("export", help="exporter des données")
    export_commands = export.add_subparsers(
        title="exports", dest="what", required=True, metavar="EXPORT"
    )
    fec = export_commands.add_parser("fec", help="le fichier des écritures comptables (FEC)")
    fec.add_argument(
        "--year", required=True, metavar="ANNÉE", help="code de l'exercice, par exemple 2026"
    )
    fec.add_argument(
        "--output", type=Path, metavar="CHEMIN", help="fichier ou dossier (par défaut: ici)"
    )
    fec.add_argument(
        "--pipe", action="store_true", help="| au lieu de la tabulation comme séparateur"
    )
    commands.add_parser(
        "check",
        help="version de la boutique, ce que la clé permet, ce qui manque à chaque flux",
    )
    close = commands.add_parser(
        "close-year",
        help="clore un exercice; les soldes de ses clients ouvrent le suivant",
    )
    close.add_argument(
        "--year", required=True, metavar="ANNÉE", help="code de l'exercice, par exemple 2025"
    )

    sync = commands.add_parser(
        "sync", help="lire, puis exécuter chaque ligne qui a quelque chose à faire"
    )
    sync.add_argument(
        "flow",
        choices=list(FLOWS),
        help="le flux: " + "; ".join(f"{name}, {flow.help}" for name, flow in FLOWS.items()),
    )
    sync.add_argument(
        "--dry-run", action="store_true", help="lire et montrer le plan seulement, sans rien écrire"
    )
    sync.add_argument("--json", action="store_true", help="écrire un seul document JSON")
    sync.add_argument(
        "--create-families",
        action="store_true",
        help="products: créer les familles Gestan à partir des catégories de la boutique, "
        "et les associer",
    )
    sync.add_argument(
        "--from",
        dest="date_from",
        type=_date,
        metavar="AAAA-MM-JJ",
        help="orders: premier jour",
    )
    sync.add_argument(
        "--to",
        dest="date_to",
        type=_date,
        metavar="AAAA-MM-JJ",
        help="orders: dernier jour, inclus",
    )
    sync.add_argument("--since-last", action="store_true", help="orders: depuis le dernier import")
    sync.add_argument(
        "--reset-cursor",
        action="store_true",
        help="orders: oublier où le dernier import s'est arrêté",
    )
    sync.add_argument(
        "--orders-first",
        action="store_true",
        help="stock: importer d'abord les commandes et leurs changements, pour qu'aucune "
        "quantité ne défasse la boutique",
    )

    simulator = commands.add_parser(
        "simulator", help="servir un PrestaShop simulé en local (loopback)"
    )
    simulator.add_argument(
        "--port",
        type=int,
        default=0,
        metavar="PORT",
        help="port d'écoute (par défaut: un port libre)",
    )
    simulator.add_argument(
        "--orders",
        type=_positive,
        default=200,
        metavar="N",
        help="commandes de démo (par défaut 200)",
    )
    simulator.add_argument(
        "--products",
        type=_positive,
        metavar="N",
        help="produits de démo (par défaut: un petit catalogue)",
    )
    simulator.add_argument(
        "--version",
        default="8",
        choices=list(SIMULATED),
        help="la version de PrestaShop simulée (par défaut 8)",
    )
    simulator.add_argument(
        "--latency-ms",
        type=float,
        metavar="MS",
        default=0.0,
        help="délai ajouté à chaque réponse, en millisecondes",
    )
    simulator.add_argument(
        "--faults",
        default="",
        metavar="PANNES",
        help="pannes simulées, par exemple 503=0.1,cut=0.05,rate=10,strip-auth",
    )
    simulator.add_argument(
        "--seed", type=int, default=1, metavar="N", help="graine des données de démo (par défaut 1)"
    )
    simulator.add_argument(
        "--life",
        type=_positive,
        metavar="SECONDES",
        help="toutes les SECONDES, quelques commandes sont payées, annulées ou remboursées, "
        "comme dans une vraie boutique",
    )

    demo = commands.add_parser("demo", help="le simulateur et un Gestan de démo, rien à régler")
    demo.add_argument(
        "--orders",
        type=_positive,
        default=200,
        metavar="N",
        help="commandes de démo (par défaut 200)",
    )
    demo.add_argument(
        "--exit", action="store_true", help="vérifier la boutique de démo, puis s'arrêter"
    )
    demo.add_argument(
        "--data",
        type=Path,
        metavar="DOSSIER",
        help="garder le profil et la base de la démo dans ce dossier (sinon un dossier "
        "temporaire, effacé à la fin de la démo)",
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
                value = _read_secret("Clé Webservice: ")
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
    print(f"FEC écrit: {path}")
    return EXIT_OK


def run_close_year(args: argparse.Namespace, profile: config.Profile) -> int:
    from tui_connector.gestan import accounting

    open_gestan(profile)
    entry = accounting.close_year(args.year)
    print(f"exercice {args.year} clos: plus aucune écriture ne peut y être passée")
    if entry is not None:
        print(
            f"écriture d'ouverture {entry.number} de l'exercice {entry.fiscal_year.code}: "
            "les soldes des clients"
        )
    return EXIT_OK


def run_check(args: argparse.Namespace, profile: config.Profile) -> int:
    import asyncio

    from tui_connector.prestashop.check import check
    from tui_connector.prestashop.client import Webservice
    from tui_connector.sync.runner import flow_needs

    if not profile.shop_url or not profile.api_key:
        raise SettingsError(
            "aucune boutique n'est configurée",
            hint="tui-connector settings set shop.url https://... puis shop.api_key ...",
        )

    async def run():
        async with Webservice(
            profile.shop_url,
            profile.api_key,
            auth_mode=profile.auth_mode,
            on_notice=lambda m: print(f"remarque: {m}", file=sys.stderr),
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
        said.append(f"comptabilité non vérifiée: {exc}")
    try:
        with make_client(profile) as client:
            said += advice.shipping_advice(client)
            if books:
                said += advice.civility_advice(client)
    except ConnectorError as exc:
        said.append(f"choix de la boutique non vérifiés: {exc}")
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
    print(f"simulateur PrestaShop {shop.engine.version} à {shop.url}")
    print(f"clé {shop.key}")
    print(
        f"essayez: TUI_CONNECTOR_SHOP_URL={shop.url} TUI_CONNECTOR_API_KEY={shop.key} "
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
                said = ", ".join(
                    f"{LIFE_WORDS.get(kind, kind)} {ids}" for kind, ids in done.items() if ids
                )
                say(f"la boutique vit: {said}", flush=True)

    threading.Thread(target=loop, name="shop-life", daemon=True).start()


LIFE_WORDS = {
    "paid": "payées",
    "cancelled": "annulées",
    "refunded": "remboursées",
    "partial": "remboursées en partie",
}
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
    print(f"boutique de démo: {shop.url} ({args.orders} commandes), Gestan de démo: {database_url}")
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


def _rate_column():
    """Rows a second, once there are a few to tell: a rich.progress column."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            if not speed:
                return Text("", style="progress.data.speed")
            shown = f"{speed:.0f}" if speed >= 10 else f"{speed:.1f}".replace(".", ",")
            return Text(f"{shown} lignes/s", style="progress.data.speed")

    return Rate()


class RunProgress:
    """A run's progress on a terminal (stderr): what is being done, done/total, the rate,
    the time gone; `progress(done, total, label)` as the flows call it. `stop()` clears
    it (before the report, an error, a signal's message); the next call starts it anew."""

    def __init__(self, console, title: str = ""):
        self.console = console
        self.title = title
        self._progress = None
        self._task = None
        self._done = 0
        self._lock = threading.Lock()

    def __call__(self, done: int, total: int, label: str) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        with self._lock:
            if self._progress is None:
                self._progress = Progress(
                    SpinnerColumn(),
                    TextColumn("[bold]{task.description}"),
                    BarColumn(bar_width=24),
                    MofNCompleteColumn(),
                    _rate_column(),
                    TimeElapsedColumn(),
                    TextColumn("{task.fields[label]}", markup=False),
                    console=self.console,
                    transient=True,
                )
                self._progress.start()
                self._task = self._progress.add_task(
                    self.title, total=total or None, label=label[:40]
                )
            elif done < self._done:  # a new stage (the next page's reading, the rows' doing)
                self._progress.reset(self._task, total=total or None)
            self._done = done
            self._progress.update(self._task, completed=done, total=total or None, label=label[:40])

    def stop(self) -> None:
        with self._lock:
            if self._progress is not None:
                self._progress.stop()
            self._progress, self._task, self._done = None, None, 0


def _progress_printer(enabled: bool, *, console=None, title: str = "") -> RunProgress | None:
    """The progress display of a run, or None: without a terminal on stderr (cron, a pipe)
    or with --json the run is quiet."""
    if not enabled:
        return None
    if console is None:
        from rich.console import Console

        console = Console(stderr=True)
    if not console.is_terminal:
        return None
    return RunProgress(console, title)


def run_sync(args: argparse.Namespace, profile: config.Profile) -> int:
    from tui_connector.sync.registry import FLOWS

    open_gestan(profile)
    dated = [name for name, flow in FLOWS.items() if "since_last" in flow.options]
    order_options = args.date_from or args.date_to or args.since_last or args.reset_cursor
    if args.flow not in dated and order_options:
        raise SettingsError(
            f"--from, --to, --since-last et --reset-cursor ne valent que pour {', '.join(dated)}"
        )
    if args.orders_first and args.flow != "stock":
        raise SettingsError("--orders-first ne vaut que pour stock")
    if args.since_last and (args.date_from or args.date_to):
        raise SettingsError("choisissez --from/--to ou --since-last, pas les deux")
    if args.date_from and args.date_to and args.date_from > args.date_to:
        raise SettingsError(f"--from {args.date_from} est après --to {args.date_to}")
    if args.reset_cursor:
        FLOWS[args.flow].reset_cursor()
        print(f"curseur de {args.flow} remis à zéro: --since-last repart du début", file=sys.stderr)
    progress = _progress_printer(not args.json, title=args.flow)
    try:
        return _sync(args, profile, progress)
    finally:
        if progress:
            progress.stop()  # an error's message or an interruption's on a clean line


def _sync(args: argparse.Namespace, profile: config.Profile, progress) -> int:
    from tui_connector.sync.runner import make_client

    try:
        with make_client(profile) as client, _stopped_by_signals(at_once=args.dry_run) as stop:
            return _sync_with(args, client, progress, stop)
    except _Interrupted as interrupted:
        name = signal.Signals(interrupted.signum).name
        if args.json:
            import json

            print(json.dumps({"flow": args.flow, "dry_run": True, "stopped": True, "rows": []}))
        print(f"arrêté par {name}: --dry-run, rien n'a été écrit", file=sys.stderr)
        return 128 + interrupted.signum


def _stopped_message(stop: _Stop) -> int:
    print(
        f"arrêté par {signal.Signals(stop.signal).name} entre deux lignes: "
        "ce qui a été fait est gardé, la prochaine exécution reprend à partir de là",
        file=sys.stderr,
    )
    return 128 + stop.signal


def _exit_code(report) -> int:
    if report.error:
        return EXIT_UNREACHABLE
    return EXIT_OK if report.ok else EXIT_ROWS_FAILED


def _sync_with(args: argparse.Namespace, client, progress, stop: _Stop) -> int:
    import json

    from tui_connector.sync.core import unattended
    from tui_connector.sync.registry import FLOWS
    from tui_connector.sync.runner import make_flow

    orders_code = EXIT_OK
    if args.orders_first and not args.dry_run:
        # what did not import (a blocked order) still blocks its products' stock rows
        if progress:
            progress.title = "orders"
        orders = make_flow("orders", client, since_last=True).stream(
            progress=progress, cancel=stop.event
        )
        if progress:
            progress.stop()
            progress.title = args.flow
        print(orders.summary(), file=sys.stderr)
        if stop.signal:  # the stock is not written past a stop
            if args.json:
                print(json.dumps(orders.as_json(), ensure_ascii=False))
            return _stopped_message(stop)
        orders_code = _exit_code(orders)
    given = {
        "date_from": args.date_from,
        "date_to": args.date_to,
        "since_last": args.since_last,
    }
    taken = FLOWS[args.flow].options  # the flow's own options, as the registry says
    flow = make_flow(
        args.flow,
        client,
        create_families=args.create_families,
        **{name: value for name, value in given.items() if name in taken},
    )
    if not args.dry_run:
        # page by page: read, do, forget; memory stays flat
        report = flow.stream(progress=progress, cancel=stop.event)
        code = _print_report(report, args, progress)
        if stop.signal:
            return _stopped_message(stop)
        return max(code, orders_code)  # 3 (unreachable) over 1 (rows failed) over 0
    # the plan: what has work to do; cancelled orders are listed but left unless chosen
    rows = flow.read(progress=progress)
    if progress:
        progress.stop()
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
                f"{status_label(row.status):<24} {row.columns.get('label', row.key)[:50]}"
                + (f"  ({row.reason})" if row.reason else "")
            )
        print(
            f"{_rows(len(todo))} sur {len(rows)} "
            f"{'ont' if len(todo) > 1 else 'a'} quelque chose à faire "
            "(--dry-run: rien n'a été écrit)"
        )
    return EXIT_OK


class _Interrupted(Exception):
    """A signal during a read that writes nothing: there is no row to finish first."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


class _Stop:
    def __init__(self, *, at_once: bool = False):
        self.event = threading.Event()
        self.signal = 0
        self.at_once = at_once

    def __call__(self, signum, frame) -> None:
        self.signal = signum
        self.event.set()  # the run stops between two rows, its record closed
        if self.at_once:
            raise _Interrupted(signum)


@contextlib.contextmanager
def _stopped_by_signals(*, at_once: bool = False):
    """SIGTERM and SIGINT stop a run between two rows (exit 128 + the signal's number,
    the report printed), never in the middle of one; with `at_once` (a dry run, which
    writes nothing), at once."""
    stop = _Stop(at_once=at_once)
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _rows(count: int) -> str:
    return f"{count} ligne{'s' if count > 1 else ''}"


def _print_report(report, args: argparse.Namespace, progress) -> int:
    import json

    if progress:
        progress.stop()
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        for result in report.results:
            if result.outcome in ("failed", "blocked"):  # the others are in the summary
                word = OUTCOME_WORDS[result.outcome]
                print(f"{word:<8} {status_label(result.status):<24} {result.message}")
        print(report.summary())
    return _exit_code(report)


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
                    "tui-connector est une application en terminal, et il n'y a pas de "
                    "terminal ici",
                    hint="depuis cron ou un script, utilisez `tui-connector sync ...` "
                    "(voir --help)",
                )
            from tui_connector.ui.app import run as run_tui

            return run_tui(profile)
        return HANDLERS[args.command](args, profile)
    except ConnectorError as exc:
        print(f"erreur: {exc}", file=sys.stderr)
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
        print("interrompu", file=sys.stderr)
        return 130
    except Exception as exc:  # the database gone under us: its cause, never a traceback
        from tui_connector.gestan.database import database_trouble

        cause = database_trouble(exc)
        if cause is None:
            raise
        print(f"erreur: {cause}", file=sys.stderr)
        return EXIT_UNREACHABLE
