"""``openssl-cmp`` / ``python -m openssl_cmp``: the command line.

Subcommands so far:

* ``demo`` – a whole CMP lifecycle (IR with PBM, CR and KUR with signatures, GENM, RR)
  against an embedded :class:`~openssl_cmp.testing.MockCA`, in-process; prints what
  happens.  No network, no files.
* ``serve`` – run a MockCA over HTTP (RFC 6712) for other CMP clients, e.g.
  ``openssl cmp -server 127.0.0.1:PORT -path pkix/ -ref x -secret pass:SECRET …``.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import tempfile
import threading
from typing import Callable, Iterator, Sequence

from openssl_cmp import binding
from openssl_cmp.enums import LogLevel, Option
from openssl_cmp.errors import Error
from openssl_cmp.keys import PrivateKey
from openssl_cmp.message import ITAV
from openssl_cmp.objects import Certificate
from openssl_cmp.testing import CA_CERTS_OID, MockCA


def _say(text: str) -> None:
    print(text, flush=True)


def _describe(cert: Certificate) -> str:
    return "%s (serial %#x, issuer %s, valid until %s)" % (
        cert.subject, cert.serial_number, cert.issuer,
        cert.not_valid_after.strftime("%Y-%m-%d"))


def demo(args: argparse.Namespace) -> int:
    """The ``demo`` subcommand."""
    _say("openssl_cmp demo on %s" % binding.OPENSSL_VERSION)
    mock = MockCA(protect_with_cert=True)
    _say("MockCA: %s" % mock.ca_cert.subject)
    key = PrivateKey.generate("EC", curve="P-256")
    with mock.client(subject_name=args.subject, new_pkey=key) as ctx:
        if args.verbose:
            ctx.log_verbosity = LogLevel.DEBUG
        ctx.push_subject_alt_name("DNS:" + args.dns)

        cert = ctx.exec_ir()
        _say("IR   (PBM)        -> %s" % _describe(cert))

        ctx.reinit()
        ctx.cert, ctx.pkey = cert, key  # from now on: signature protection
        ctx.secret_value = None
        ctx.reference_value = None
        cert2 = ctx.exec_cr()
        _say("CR   (signature)  -> %s" % _describe(cert2))

        ctx.reinit()
        new_key = PrivateKey.generate("EC", curve="P-256")
        ctx.old_cert = cert
        ctx.set_new_pkey(new_key)
        renewed = ctx.exec_kur()
        _say("KUR  (new key)    -> %s" % _describe(renewed))

        ctx.reinit()
        ctx.push_genm_itav(ITAV(CA_CERTS_OID))
        itavs = ctx.exec_genm()
        _say("GENM (caCerts)    -> %s" % ", ".join("%s (%d bytes)" % (i.name, len(
            i.value_der or b"")) for i in itavs))

        ctx.reinit()
        ctx.old_cert = cert
        ctx.set_option(Option.REVOCATION_REASON, 4)  # superseded
        ctx.exec_rr()
        _say("RR   (superseded) -> revoked serial %#x" % cert.serial_number)
    _say("MockCA issued %d certificates, revoked %d." % (len(mock.issued), len(mock.revoked)))
    if args.certout:
        with open(args.certout, "wb") as f:
            f.write(renewed.to_pem())
        _say("wrote %s" % args.certout)
    return 0


def serve(args: argparse.Namespace) -> int:
    """The ``serve`` subcommand."""
    mock = MockCA(secret=args.secret.encode(), reference=args.ref.encode(),
                  protect_with_cert=args.sign, poll_count=args.poll_count,
                  check_after=args.check_after)
    ca_path = args.cacertout or os.path.join(tempfile.mkdtemp(prefix="openssl-cmp-"),
                                             "mock-ca.pem")
    with open(ca_path, "wb") as f:
        f.write(mock.ca_cert.to_pem())
    with mock.serve_http(args.host, args.port) as http:
        _say("MockCA %s serving CMP at %s" % (mock.ca_cert.subject, http.url))
        _say("  PBM: -ref %s -secret pass:%s    CA certificate: %s"
             % (args.ref, args.secret, ca_path))
        _say("  try: openssl cmp -config '' -server %s -path pkix/ -ref %s -secret pass:%s "
             "-cmd ir -subject /CN=me -newkey <key.pem> -certout me.pem"
             % (http.address, args.ref, args.secret))
        stop = threading.Event()
        with _stop_on_sigterm(stop):
            try:
                stop.wait(args.seconds if args.seconds else None)
            except KeyboardInterrupt:
                pass
        _say("served %d requests; issued %d certificates, revoked %d"
             % (http.requests, len(mock.issued), len(mock.revoked)))
    return 0


@contextlib.contextmanager
def _stop_on_sigterm(stop: threading.Event) -> Iterator[None]:
    """SIGTERM (``kill``, a service manager, a container runtime) ends ``serve`` the way
    Ctrl-C does: the summary is printed and the HTTP server closed.  Only from the main
    thread, where Python allows signal handlers; elsewhere SIGTERM keeps its default."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def build_parser() -> argparse.ArgumentParser:
    """The command line parser."""
    parser = argparse.ArgumentParser(prog="openssl-cmp",
                                     description=(__doc__ or "").split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="run IR, CR, KUR, GENM and RR against an embedded MockCA")
    p.add_argument("--subject", default="/CN=openssl-cmp demo")
    p.add_argument("--dns", default="demo.example")
    p.add_argument("--certout", help="write the renewed certificate (PEM) here")
    p.add_argument("-v", "--verbose", action="store_true", help="show OpenSSL's CMP log")
    p.set_defaults(func=demo)
    s = sub.add_parser("serve", help="run a MockCA over HTTP")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=0, help="0 picks a free port")
    s.add_argument("--ref", default="mock-ca")
    s.add_argument("--secret", default="mock-secret")
    s.add_argument("--sign", action="store_true", help="also sign responses with the CA key")
    s.add_argument("--poll-count", type=int, default=0)
    s.add_argument("--check-after", type=int, default=1)
    s.add_argument("--cacertout", help="write the CA certificate (PEM) here")
    s.add_argument("--seconds", type=float, default=0, help="stop after this long (0: never)")
    s.set_defaults(func=serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    if getattr(args, "verbose", False):
        logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
    try:
        func: Callable[[argparse.Namespace], int] = args.func
        return func(args)
    except Error as exc:
        print("openssl-cmp: %s" % exc, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
