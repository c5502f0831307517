"""The ``mxopt`` command: ``mxopt demo`` and ``mxopt schedule plot``."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# subcommand -> (module, help); each module defines add_arguments(parser) and run(args) -> int
_COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("mxopt.demo", "run the seed's example and train a small network"),
    "schedule": ("mxopt.lr_scheduler.cli", "work with learning-rate schedules (plot)"),
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mxopt", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module_path, help_text) in _COMMANDS.items():
        module = importlib.import_module(module_path)
        module.add_arguments(sub.add_parser(name, help=help_text))
        # each subparser remembers which module runs it
        sub.choices[name].set_defaults(_run=module.run)
    args = parser.parse_args(argv)
    return int(args._run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
