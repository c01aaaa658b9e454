"""Password sources as ``openssl`` takes them (``openssl-passphrase-options(1)``):
``pass:TEXT``, ``env:VAR``, ``file:PATH``, ``fd:N`` and ``stdin``.

For ``file:``, ``fd:`` and ``stdin`` only the first line counts, without its line end.
A source without one of these prefixes is refused rather than taken literally: a typo such
as ``pas:secret`` must not become the password.
"""

from __future__ import annotations

import os
import sys

from openssl_cmp.cli._errors import CLIError, UsageError

__all__ = ["read_password"]

_MAX_LINE = 8192  # a password file is a line, not a document


def _first_line(data: bytes) -> str:
    line = data.split(b"\n", 1)[0]
    if line.endswith(b"\r"):
        line = line[:-1]
    return line.decode("utf-8", "surrogateescape")


def read_password(source: str, option: str) -> str:
    """The password that ``source`` names; ``option`` (``"--secret"``) names the option in
    error messages.  UsageError for a malformed source, CLIError when it cannot be read."""
    kind, sep, rest = source.partition(":")
    if source == "stdin":
        return _first_line(sys.stdin.buffer.readline(_MAX_LINE))
    if not sep:
        raise UsageError("%s: %r is no password source (use pass:TEXT, env:VAR, file:PATH, "
                         "fd:N or stdin)" % (option, source))
    if kind == "pass":
        return rest
    if kind == "env":
        value = os.environ.get(rest)
        if value is None:
            raise CLIError("%s: environment variable %s is not set" % (option, rest))
        return value
    if kind == "file":
        try:
            with open(rest, "rb") as f:
                return _first_line(f.readline(_MAX_LINE))
        except OSError as exc:
            raise CLIError("%s: cannot read %s: %s" % (option, rest, exc.strerror or exc)) \
                from None
    if kind == "fd":
        try:
            fd = int(rest)
        except ValueError:
            raise UsageError("%s: fd:%s is not a file descriptor number" % (option, rest)) \
                from None
        try:
            # read byte by byte up to the line end: the descriptor is not ours to drain
            data = bytearray()
            while len(data) < _MAX_LINE:
                byte = os.read(fd, 1)
                if not byte or byte == b"\n":
                    break
                data += byte
        except OSError as exc:
            raise CLIError("%s: cannot read file descriptor %d: %s"
                           % (option, fd, exc.strerror or exc)) from None
        return _first_line(bytes(data))
    raise UsageError("%s: unknown password source %r (use pass:, env:, file:, fd: or stdin)"
                     % (option, kind + ":"))
