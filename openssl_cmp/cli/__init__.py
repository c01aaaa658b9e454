"""``openssl-cmp`` / ``python -m openssl_cmp``: the command line.

Subcommands: ``ir cr p10cr kur rr genm`` (the client, with ``openssl cmp``'s options as
long options; without ``--server`` against an embedded MockCA), ``serve`` (a MockCA over
HTTP with the options of OpenSSL's mock server), ``batch`` (enroll many subjects in
parallel) and ``demo`` (the guided tour).  See docs/cli.md.

Errors are one line on stderr: exit status 2 for a wrong command line, 1 for a failure;
``--debug`` (or ``--verbosity 8``) shows the Python traceback.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from typing import Callable, Sequence

from openssl_cmp.cli._config import default_config_file, load_config, split_sections
from openssl_cmp.cli._errors import CLIError, UsageError
from openssl_cmp.cli._options import build_parser, command_of, options_of, tokens_from_config
from openssl_cmp.errors import Error

__all__ = ["main", "build_parser", "CLIError", "UsageError"]


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """Parse twice when a config file applies: its values become options placed before the
    user's, so the command line wins (as with ``openssl cmp``)."""
    args = parser.parse_args(argv)
    command = command_of(argv)
    args.loaded_config = None
    if command is None or getattr(args, "config", "") == "" or command == "demo":
        return args
    explicit = args.config is not None
    config = load_config(args.config if explicit else default_config_file(), explicit)
    if config is None:
        return args
    sections = split_sections(args.section)
    if args.section != "cmp":  # the default section may be absent; named ones may not
        for name in sections:
            if name not in config.sections:
                raise UsageError("--section: no [%s] section in %s" % (name, config.path))
    tokens = tokens_from_config(options_of(parser, command),
                                lambda name: config.get(sections, name))
    if tokens:
        args = parser.parse_args([command, *tokens, *argv[1:]])
    args.loaded_config = config
    return args


def _debugging(argv: Sequence[str]) -> bool:
    if "--debug" in argv:
        return True
    for i, word in enumerate(argv):
        if word == "--verbosity" and i + 1 < len(argv) and argv[i + 1] == "8":
            return True
        if word == "--verbosity=8":
            return True
    return False


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split("\n")[0].split()) if isinstance(exc, CLIError) else \
        " ".join(text.split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 success, 1 failure, 2 usage)."""
    words = list(sys.argv[1:] if argv is None else argv)
    debug = _debugging(words)
    parser = build_parser()
    try:
        args = _parse(parser, words)
        func: Callable[[argparse.Namespace], int] = args.func
        return func(args)
    except SystemExit as exc:  # argparse: --help (0) and usage errors (2)
        return exc.code if isinstance(exc.code, int) else 2
    except KeyboardInterrupt:
        print("openssl-cmp: interrupted", file=sys.stderr)
        return 130
    except (CLIError, Error, ValueError, TypeError, OSError, RuntimeError) as exc:
        if debug:
            traceback.print_exc()
        status = exc.exit_status if isinstance(exc, CLIError) else 1
        print("openssl-cmp: error: %s" % _one_line(exc), file=sys.stderr, flush=True)
        return status


if __name__ == "__main__":
    sys.exit(main())
