"""``openssl-cmp serve``: a :class:`~openssl_cmp.testing.MockCA` over HTTP(S), with the
options of OpenSSL's mock server (``openssl cmp -port``) under their names.

Options that map onto a MockCA constructor argument are passed only when this MockCA has
the argument (its fault switches grow); one it does not have yet is a usage error naming
the option, never silently ignored.  SIGTERM ends the server like Ctrl-C: the summary is
printed and the exit status is 0.  No temporary file is left behind: the CA certificate is
written only where ``--cacertout`` says.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import os
import signal
import socket
import sys
import threading
from typing import Any, Iterator

from openssl_cmp.cli._errors import UsageError
from openssl_cmp.cli._files import load_cert, load_certs, load_key, load_store, write_certs
from openssl_cmp.cli._passwords import read_password
from openssl_cmp.enums import Option, PKIStatus
from openssl_cmp.objects import CRL, TrustStore
from openssl_cmp.tls import TLS

__all__ = ["run", "mockca_options", "serve_workers"]

_EXTRA = "--workers needs the [server] extra: pip install 'openssl-cmp[server]'"

# option -> (MockCA keyword, how to read the value): switches MockCA may or may not have
_OPTIONAL = {
    "rsp_cert": ("rsp_cert", "cert"),
    "rsp_key": ("rsp_key", "key"),
    "rsp_extracerts": ("rsp_extracerts", "certs"),
    "rsp_capubs": ("rsp_capubs", "certs"),
    "rsp_newwithnew": ("rsp_newwithnew", "cert"),
    "rsp_newwithold": ("rsp_newwithold", "cert"),
    "rsp_oldwithnew": ("rsp_oldwithnew", "cert"),
    "rsp_crl": ("rsp_crl", "crl"),
    "ref_cert": ("ref_cert", "cert"),
    "send_unprotected": ("send_unprotected", "flag"),
    "send_unprot_err": ("send_unprot_err", "flag"),
    "allow_key_reuse": ("allow_key_reuse", "flag"),
}


def mockca_options() -> set[str]:
    """The keyword arguments of this MockCA's constructor."""
    from openssl_cmp.testing import MockCA

    return set(inspect.signature(MockCA.__init__).parameters)


def _say(text: str) -> None:
    print(text, flush=True)


def _value(args: argparse.Namespace, option: str, kind: str) -> Any:
    text = getattr(args, option)
    flag = "--" + option.replace("_", "-")
    if kind == "flag":
        return True
    if kind == "cert":
        return load_cert(text, flag)[0]
    if kind == "certs":
        return load_certs(text, flag)
    if kind == "key":
        keypass = getattr(args, option.replace("key", "keypass"), None)
        return load_key(text, None if keypass is None else read_password(keypass, flag),
                        flag)
    data = open(text, "rb").read()  # a CRL: PEM or DER
    return CRL.from_pem(data) if b"-----BEGIN" in data else CRL.from_der(data)


def _mock_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    secret: str | None = None
    if args.srv_secret is not None:
        secret = read_password(args.srv_secret, "--srv-secret")
    elif args.secret is not None:
        secret = args.secret
    elif args.srv_cert is None:
        secret = "mock-secret"
    kwargs: dict[str, Any] = {
        "secret": None if secret is None else secret.encode(),
        "reference": (args.srv_ref or args.ref or "mock-ca").encode(),
        "protect_with_cert": bool(args.sign or args.srv_cert),
        "poll_count": args.poll_count, "check_after": args.check_after,
        "send_error": args.send_error, "grant_implicit_confirm": args.grant_implicitconf,
        "validity_days": args.days,
    }
    store = getattr(args, "store", None)
    if store is not None:
        kwargs["store"] = store  # an SQLite file: every worker opens it after the fork
    if args.srv_cert is not None and args.srv_key is None:
        raise UsageError("--srv-cert needs --srv-key")
    if args.ca_cert is not None or args.ca_key is not None:
        if args.ca_key is None:
            raise UsageError("--ca-cert needs --ca-key")
        ca_pass = None if args.ca_keypass is None else read_password(args.ca_keypass,
                                                                       "--ca-keypass")
        kwargs["ca_key"] = load_key(args.ca_key, ca_pass, "--ca-key")
        if args.ca_cert is not None:
            kwargs["ca_cert"] = load_cert(args.ca_cert, "--ca-cert")[0]
    fail_info = args.failurebits
    if args.failure is not None:
        if not 0 <= args.failure <= 26:
            raise UsageError("--failure must be a bit number 0..26, not %d" % args.failure)
        fail_info |= 1 << args.failure
    if args.pkistatus is not None:
        if not 0 <= args.pkistatus <= 6:
            raise UsageError("--pkistatus must be 0..6, not %d" % args.pkistatus)
        kwargs["pkistatus"] = PKIStatus(args.pkistatus)
    elif fail_info or args.statusstring:
        kwargs["pkistatus"] = PKIStatus.REJECTION if fail_info else PKIStatus.ACCEPTED
    kwargs["fail_info"] = fail_info
    kwargs["status_string"] = args.statusstring
    have = mockca_options()
    for option, (keyword, kind) in _OPTIONAL.items():
        if getattr(args, option) in (None, False):
            continue
        if keyword not in have:
            raise UsageError("--%s is not supported by this MockCA yet"
                             % option.replace("_", "-"))
        kwargs[keyword] = _value(args, option, kind)
    return kwargs


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


def run(args: argparse.Namespace) -> int:
    """The ``serve`` subcommand."""
    from openssl_cmp.testing import MockCA  # the test CA is loaded only by this command

    if args.max_msgs < 0 or args.seconds < 0:
        raise UsageError("--max-msgs and --seconds must be >= 0")
    mock = MockCA(**_mock_kwargs(args))
    if args.srv_cert is not None:
        keypass = None if args.srv_keypass is None else read_password(args.srv_keypass,
                                                                      "--srv-keypass")
        mock.ctx.cert = load_cert(args.srv_cert, "--srv-cert")[0]
        mock.ctx.pkey = load_key(args.srv_key, keypass, "--srv-key")
        if args.srv_ref is None and args.ref is None:
            # as OpenSSL's mock: the signer's key identifier names the sender, not a
            # reference value (which the client would look up as senderKID)
            mock.ctx.reference_value = None
    if args.srv_trusted is not None:
        mock.ctx.trusted = TrustStore([mock.ca_cert, *load_store(args.srv_trusted,
                                                                 "--srv-trusted").certs])
    if args.srv_untrusted is not None:
        mock.ctx.untrusted = load_certs(args.srv_untrusted, "--srv-untrusted")
    if args.ra_certs is not None:
        mock.ra_certs = load_certs(args.ra_certs, "--ra-certs")
    mock.accept_unprotected = args.accept_unprotected
    mock.accept_raverified = args.accept_raverified
    if args.accept_unprot_err:
        mock.ctx.set_option(Option.UNPROTECTED_ERRORS, 1)
    if args.send_unprot_err and "send_unprot_err" not in mockca_options():
        mock.send_unprotected_errors = True
    if args.send_unprotected and "send_unprotected" not in mockca_options():
        mock.ctx.set_option(Option.UNPROTECTED_SEND, 1)
    tls = None
    if args.tls_cert is not None:
        tls_cert, tls_chain = load_cert(args.tls_cert, "--tls-cert")
        keypass = None if args.tls_keypass is None else read_password(args.tls_keypass,
                                                                      "--tls-keypass")
        tls = TLS(cert=tls_cert, key=load_key(args.tls_key or args.tls_cert, keypass,
                                              "--tls-key"), extra_certs=tls_chain)
    elif args.tls_key is not None:
        raise UsageError("--tls-key needs --tls-cert")
    if args.cacertout:
        write_certs(args.cacertout, [mock.ca_cert], "--cacertout")
    workers = getattr(args, "workers", None)
    if workers is not None:
        if tls is not None or args.max_msgs:
            raise UsageError("--workers cannot be combined with --tls-cert or --max-msgs")
        return serve_workers(mock, args.host, args.port, workers, args.seconds)
    with mock.serve_http(args.host, args.port, tls=tls) as http:
        _say("MockCA %s serving CMP at %s" % (mock.ca_cert.subject, http.url))
        ref = (args.srv_ref or args.ref or "mock-ca")
        if mock.secret is not None:
            _say("  PBM: -ref %s -secret pass:%s%s" % (
                ref, mock.secret.decode("utf-8", "replace"),
                "    CA certificate: %s" % args.cacertout if args.cacertout else ""))
            _say("  try: openssl cmp -config '' -server %s -path pkix/ -ref %s -secret "
                 "pass:%s -cmd ir -subject /CN=me -newkey <key.pem> -certout me.pem"
                 % (http.address, ref, mock.secret.decode("utf-8", "replace")))
        stop = threading.Event()
        with _stop_on_sigterm(stop):
            try:
                if args.max_msgs:
                    # OpenSSL's -max_msgs: stop after that many messages
                    deadline = args.seconds or None
                    waited = 0.0
                    while http.requests < args.max_msgs and not stop.wait(0.05):
                        waited += 0.05
                        if deadline is not None and waited >= deadline:
                            break
                else:
                    stop.wait(args.seconds if args.seconds else None)
            except KeyboardInterrupt:
                pass
        _say("served %d requests; issued %d certificates, revoked %d"
             % (http.requests, len(mock.issued), len(mock.revoked)))
    sys.stdout.flush()
    return 0


def serve_workers(mock: Any, host: str, port: int, workers: int, seconds: float = 0) -> int:
    """``serve --workers N``: ``mock.asgi_app()`` under uvicorn in ``workers`` processes
    forked from this one after the MockCA was made (so they share its CA, as gunicorn's
    ``--preload``) on one listening socket; this process only waits for Ctrl-C, SIGTERM or
    ``seconds``, then ends the workers.  Each worker keeps its own transactions; the
    records are shared when the MockCA has a database store (``--store``; docs/scale.md)."""
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 256:
        raise UsageError("--workers must be between 1 and 256")
    try:
        import uvicorn
    except ImportError:
        raise UsageError(_EXTRA) from None
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=1024)
    app = mock.asgi_app()
    children: list[int] = []
    try:
        for _ in range(workers):
            pid = os.fork()
            if pid == 0:  # a worker: uvicorn's loop until SIGTERM/SIGINT
                code = 1
                try:
                    server = uvicorn.Server(uvicorn.Config(app, log_level="warning",
                                                           lifespan="off"))
                    server.run(sockets=[sock])
                    code = 0
                finally:
                    os._exit(code)
            children.append(pid)
        bound = sock.getsockname()
        shown = "[%s]" % bound[0] if family == socket.AF_INET6 else bound[0]
        _say("MockCA %s serving CMP at http://%s:%d/pkix/ with %d uvicorn worker(s)"
             % (mock.ca_cert.subject, shown, bound[1], workers))
        stop = threading.Event()
        with _stop_on_sigterm(stop):
            try:
                stop.wait(seconds if seconds else None)
            except KeyboardInterrupt:
                pass
    finally:
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for pid in children:
            os.waitpid(pid, 0)
        sock.close()
    _say("served by %d worker(s)" % workers)
    sys.stdout.flush()
    return 0
