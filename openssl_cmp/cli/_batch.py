"""``openssl-cmp batch``: enroll many subjects in one process, in parallel
(:func:`openssl_cmp.enroll_many`).

Input: a CSV file with a header line, or JSON lines; the fields are ``subject`` (required),
``sans`` (comma-separated, or a JSON list), ``name`` (file name stem; default: the
subject's CN, else the line number) and ``newkey`` (an existing key file; default: a new EC
P-256 key written next to the certificate).  Each entry gets ``NAME.key.pem`` and
``NAME.crt.pem`` in ``--out-dir``, and one JSON line in ``--results`` (subject, status,
serial, file paths, error).  A rerun skips the entries whose last result is ``ok``
(resumable).  Exit status 0 only if every entry succeeded.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import time
from typing import Any, Callable, TextIO

from openssl_cmp.cli._errors import CLIError, UsageError
from openssl_cmp.cli._files import load_cert, load_key, load_store, split_list, write_key
from openssl_cmp.cli._offline import note
from openssl_cmp.cli._passwords import read_password
from openssl_cmp.context import Context
from openssl_cmp.enums import Option, ReqType
from openssl_cmp.errors import Error
from openssl_cmp.keys import PrivateKey
from openssl_cmp.objects import Certificate

__all__ = ["add_parser", "run", "read_entries"]


def add_parser(sub: Any, formatter: type[argparse.HelpFormatter],
               add_common: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add the ``batch`` subcommand to the subparsers ``sub``."""
    p = sub.add_parser("batch", help="enroll many subjects from a CSV or JSON-lines file",
                       description=(__doc__ or "").split("\n\n")[0],
                       usage="openssl-cmp batch [options] INPUT",
                       formatter_class=formatter)
    add_common(p)
    p.add_argument("input", help="CSV (with a header line) or JSON-lines file; - for stdin")
    g = p.add_argument_group("batch")
    g.add_argument("--workers", type=int, default=4, metavar="N",
                   help="enrollments in flight at once")
    g.add_argument("--out-dir", default=".", metavar="DIR",
                   help="where the keys and certificates go")
    g.add_argument("--results", metavar="FILE", default=None,
                   help="JSON-lines results, appended; entries already ok there are "
                        "skipped (default: DIR/results.jsonl)")
    g.add_argument("--format", choices=("auto", "csv", "jsonl"), default="auto",
                   help="input format")
    g.add_argument("--cmd", choices=("ir", "cr"), default="ir", help="the request to send")
    g.add_argument("--progress", choices=("auto", "bar", "lines", "none"), default="auto",
                   help="progress bar on a terminal (tqdm if installed), else lines")
    c = p.add_argument_group("client (as for ir)")
    for name, kind, text in (
            ("server", str, "[http://]host[:port][/path] of the CMP server; without it an "
                            "embedded MockCA answers"),
            ("path", str, "HTTP path at the server"),
            ("ref", str, "reference value for MAC protection"),
            ("secret", str, "password source of the MAC secret"),
            ("cert", str, "client certificate (signature protection)"),
            ("key", str, "client key"),
            ("keypass", str, "password source of --key"),
            ("trusted", str, "trust anchors for the server"),
            ("srvcert", str, "the server's certificate"),
            ("days", int, "requested validity in days"),
            ("msg-timeout", int, "seconds per message round trip"),
            ("total-timeout", int, "seconds per transaction")):
        c.add_argument("--" + name, type=kind, default=None,
                       metavar="N" if kind is int else "VALUE", help=text)
    c.add_argument("--implicit-confirm", action="store_true",
                   help="ask for implicit confirmation")
    p.set_defaults(func=run)


_FIELDS = ("subject", "sans", "name", "newkey")


def read_entries(path: str, fmt: str = "auto") -> list[dict[str, Any]]:
    """The entries of a CSV or JSON-lines file (``-``: stdin), each with a ``subject``."""
    try:
        stream: TextIO = sys.stdin if path == "-" else open(path, encoding="utf-8",
                                                            newline="")
    except OSError as exc:
        raise CLIError("cannot read %s: %s" % (path, exc.strerror or exc)) from None
    with stream:
        text = stream.read()
    if fmt == "auto":
        fmt = "jsonl" if text.lstrip().startswith("{") else "csv"
    entries: list[dict[str, Any]] = []
    if fmt == "jsonl":
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError as exc:
                raise CLIError("%s, line %d: not JSON: %s" % (path, number, exc)) from None
            if not isinstance(entry, dict):
                raise CLIError("%s, line %d: not a JSON object" % (path, number))
            entry["_line"] = number
            entries.append(entry)
    else:
        reader = csv.DictReader(text.splitlines())
        if not reader.fieldnames or "subject" not in reader.fieldnames:
            raise CLIError("%s: the CSV header must name a 'subject' column" % path)
        for number, row in enumerate(reader, 2):
            entry = {k: v for k, v in row.items() if k in _FIELDS and v}
            entry["_line"] = number
            entries.append(entry)
    for entry in entries:
        if not isinstance(entry.get("subject"), str) or not entry["subject"]:
            raise CLIError("%s, line %d: no subject" % (path, entry["_line"]))
    return entries


def _stem(entry: dict[str, Any]) -> str:
    name = entry.get("name")
    if not name:
        m = re.search(r"CN=([^/,+]+)", entry["subject"])
        name = m.group(1) if m else "entry-%d" % entry["_line"]
    stem = re.sub(r"[^A-Za-z0-9._@-]+", "_", str(name)).strip("._") or \
        "entry-%d" % entry["_line"]
    return stem


def _done(results_path: str) -> set[str]:
    """Subjects whose last result is ``ok``."""
    done: set[str] = set()
    if not os.path.exists(results_path):
        return done
    with open(results_path, encoding="utf-8") as f:
        for line in f:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash: that entry is redone
            if isinstance(record, dict) and isinstance(record.get("subject"), str):
                if record.get("status") == "ok":
                    done.add(record["subject"])
                else:
                    done.discard(record["subject"])
    return done


class _Progress:
    """A bar on a terminal (tqdm when installed), else a line per entry (or nothing)."""

    def __init__(self, mode: str, total: int) -> None:
        self.total, self.count, self.failed = total, 0, 0
        self.bar: Any = None
        self.lines = mode == "lines" or (mode == "auto" and not sys.stderr.isatty())
        if mode in ("auto", "bar") and sys.stderr.isatty():
            try:
                from tqdm import tqdm  # type: ignore[import-untyped,unused-ignore]  # [cli]

                self.bar = tqdm(total=total, unit="cert", file=sys.stderr)
            except ImportError:
                self.lines = True
        if mode == "none":
            self.lines = False

    def update(self, subject: str, ok: bool, detail: str) -> None:
        self.count += 1
        self.failed += not ok
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(failed=self.failed)
        elif self.lines:
            print("[%d/%d] %s %s%s" % (self.count, self.total, "ok" if ok else "FAILED",
                                       subject, "" if ok else ": " + detail),
                  file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run(args: argparse.Namespace) -> int:
    """The ``batch`` subcommand; exit status 0 only if every entry succeeded."""
    from openssl_cmp.batch import enroll_many

    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    entries = read_entries(args.input, args.format)
    os.makedirs(args.out_dir, exist_ok=True)
    results_path = args.results or os.path.join(args.out_dir, "results.jsonl")
    done = _done(results_path)
    todo = [e for e in entries if e["subject"] not in done]
    if len(todo) < len(entries):
        note("%d of %d entries already enrolled (%s): skipped"
             % (len(entries) - len(todo), len(entries), results_path))
    mock = None
    secret = None if args.secret is None else read_password(args.secret, "--secret")
    if not args.server:
        from openssl_cmp.testing import MockCA

        mock = MockCA(secret=(secret or "mock-secret").encode(), protect_with_cert=True)
        note("no --server given: using an embedded MockCA (%s), in-process"
             % mock.ca_cert.subject)
    trusted = load_store(args.trusted, "--trusted") if args.trusted else None
    srvcert = load_cert(args.srvcert, "--srvcert")[0] if args.srvcert else None
    cert = key = None
    if args.cert:
        if not args.key:
            raise UsageError("--cert needs --key")
        cert = load_cert(args.cert, "--cert")[0]
        key = load_key(args.key, None if args.keypass is None else
                       read_password(args.keypass, "--keypass"), "--key")
    server = path = None
    port = 80
    if args.server:
        from openssl_cmp.cli._client import _split_server

        https, server, given_port, path = _split_server(args.server)
        if https:
            raise UsageError("batch: https:// servers are not supported yet")
        port = given_port or 80
    req_type = ReqType.CR if args.cmd == "cr" else ReqType.IR
    contexts: list[Context] = []
    keys: list[tuple[PrivateKey, bool]] = []
    try:
        for entry in todo:
            ctx = Context()
            contexts.append(ctx)
            if server is not None:
                ctx.server, ctx.server_port = server, port
                ctx.server_path = args.path or path or "/"
            elif mock is not None:
                mock.attach(ctx)
                if trusted is None and srvcert is None:
                    ctx.trusted = [mock.ca_cert]
            if args.ref is not None:
                ctx.reference_value = args.ref
            if secret is not None or mock is not None:
                ctx.secret_value = secret or "mock-secret"
            if trusted is not None:
                ctx.trusted = trusted
            if srvcert is not None:
                ctx.server_cert = srvcert
            if cert is not None and key is not None:
                ctx.cert, ctx.pkey = cert, key
            for option, value in ((Option.VALIDITY_DAYS, args.days),
                                  (Option.MSG_TIMEOUT, args.msg_timeout),
                                  (Option.TOTAL_TIMEOUT, args.total_timeout)):
                if value is not None:
                    ctx.set_option(option, value)
            if args.implicit_confirm:
                ctx.set_option(Option.IMPLICIT_CONFIRM, 1)
            try:
                ctx.subject_name = entry["subject"]
                sans = entry.get("sans") or []
                for san in (split_list(sans) if isinstance(sans, str) else sans):
                    from openssl_cmp.cli._client import _general_name

                    ctx.push_subject_alt_name(_general_name(str(san)))
                if entry.get("newkey"):
                    new_key = load_key(str(entry["newkey"]), None, "newkey")
                    keys.append((new_key, False))
                else:
                    new_key = PrivateKey.generate("EC", curve="P-256")
                    keys.append((new_key, True))
                ctx.set_new_pkey(new_key)
            except (Error, CLIError, ValueError, TypeError) as exc:
                raise CLIError("%s, line %d: %s" % (args.input, entry["_line"],
                                                    str(exc).splitlines()[0])) from None
        progress = _Progress(args.progress, len(todo))
        failed = 0
        started = time.monotonic()
        with open(results_path, "a", encoding="utf-8") as out:
            def record(index: int, result: Certificate | Exception) -> None:
                nonlocal failed
                entry = todo[index]
                stem = os.path.join(args.out_dir, _stem(entry))
                line: dict[str, Any] = {"subject": entry["subject"]}
                if isinstance(result, Certificate):
                    new_key, generated = keys[index]
                    key_path = stem + ".key.pem" if generated else str(entry["newkey"])
                    if generated:
                        write_key(key_path, new_key, "--out-dir")
                    with open(stem + ".crt.pem", "wb") as f:
                        f.write(result.to_pem())
                    line.update(status="ok", serial="%#x" % result.serial_number,
                                cert=stem + ".crt.pem", key=key_path, error=None)
                    progress.update(entry["subject"], True, "")
                else:
                    failed += 1
                    text = " ".join(str(result).split()) or type(result).__name__
                    line.update(status="error", serial=None, cert=None, key=None,
                                error=text)
                    progress.update(entry["subject"], False, text)
                out.write(json.dumps(line) + "\n")
                out.flush()  # a crash loses no finished entry: the rerun resumes here

            try:
                enroll_many([(ctx, req_type) for ctx in contexts], workers=args.workers,
                            progress=record)
            finally:
                progress.close()
        elapsed = time.monotonic() - started
        note("%d enrolled, %d failed in %.2f s (%.1f/s); results in %s"
             % (len(todo) - failed, failed, elapsed, len(todo) / elapsed if elapsed else 0,
                results_path))
        return 0 if failed == 0 else 1
    finally:
        for ctx in contexts:
            ctx.close()
