"""The ``spendwise`` command line.

Errors a user can cause end the command with one line on standard error,
``spendwise: error: ...``, and exit status 2; no traceback, no partial output.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from typing import NoReturn, TextIO

from api import service_cli
from api.cli import attribution as attribution_cli
from api.cli import optimizer as optimizer_cli
from api.cli.common import write_outputs
from api.errors import ServiceError
from attribution.errors import AttributionError
from optimizer.errors import OptimizerError
from spendwise import __version__

EXIT_USAGE = 2


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are a single line, like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"spendwise: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``spendwise`` parser with every sub-command."""
    parser = OneLineParser(
        prog="spendwise",
        description="Where advertising money works: attribution, response curves, budget plans.",
    )
    parser.add_argument("--version", action="version", version=f"spendwise {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     parser_class=OneLineParser)
    attribution_cli.register(commands)
    optimizer_cli.register(commands)
    service_cli.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # usage errors, --help and --version end here
        return int(exc.code or 0)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warning
            # nutpie compiles the model with numba; PyTensor's C BLAS is not used.
            warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")
            return int(args.handler(args, write_outputs))
    except (AttributionError, OptimizerError, ServiceError) as exc:
        print(f"spendwise: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"spendwise: error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _one_line_warning(
    message: Warning | str, category: type[Warning], filename: str, lineno: int,
    file: TextIO | None = None, line: str | None = None,
) -> None:
    print(f"spendwise: warning: {message}", file=sys.stderr)


def entry() -> NoReturn:
    """Console-script entry point."""
    sys.exit(main())
