"""The two ways a command fails: the user's input (exit 2) and the operation (exit 1)."""

from __future__ import annotations

__all__ = ["CLIError", "UsageError"]


class CLIError(Exception):
    """A failure to report as one line on stderr, exit status 1 (a file that cannot be read,
    a wrong password, a transaction the server refused)."""

    exit_status = 1


class UsageError(CLIError):
    """The command line itself is wrong (a missing or contradictory option): exit status 2,
    like argparse's own usage errors."""

    exit_status = 2
