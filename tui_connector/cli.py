"""Entry point: the TUI, the demo, and the headless commands for cron and scripts.

Exit status (DESIGN.md section 6): 0 all done, 1 some rows failed or were
blocked, 2 bad usage or settings, 3 the shop or the database could not be
reached or refused the key.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from tui_connector import config
from tui_connector.errors import ConnectorError, SettingsError

EXIT_OK, EXIT_ROWS_FAILED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse exits 2 too; keep its message short
        self.print_usage(sys.stderr)
        raise SettingsError(f"{self.prog}: {message}")


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
    set_.add_argument("value")
    unset = settings_commands.add_parser("unset", help="back to the default")
    unset.add_argument("key")

    export = commands.add_parser("export", help="export data")
    export_commands = export.add_subparsers(dest="what", required=True)
    fec = export_commands.add_parser("fec", help="the FEC file of a fiscal year")
    fec.add_argument("--year", required=True, help="fiscal year code, e.g. 2026")
    fec.add_argument("--output", type=Path, help="file or folder (default: here)")
    fec.add_argument("--pipe", action="store_true", help="| instead of tab as separator")
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
            updated = config.set_profile_value(key, args.value)
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


def run_export(args: argparse.Namespace, profile: config.Profile) -> int:
    from tui_connector.gestan import fec

    open_gestan(profile)
    path = fec.export(args.year, args.output, separator="|" if args.pipe else "\t")
    print(f"FEC written: {path}")
    return EXIT_OK


HANDLERS = {"settings": run_settings, "export": run_export}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_OK
        profile = config.load()
        return HANDLERS[args.command](args, profile)
    except ConnectorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
