"""Benchmark: loopback enrollments/s over HTTPS next to HTTP, with and without keep-alive.

    python benchmarks/bench_https.py [-n N] [--rounds R]

One ``MockCA`` served twice on 127.0.0.1 by a child process (this script with ``--serve``):
``serve_http()`` and ``serve_http(tls=TLS(cert=…, key=…))`` (server certificate: EC P-256,
issued by a test CA).  Client and server live in different processes, as they do in real
use; in one process the server's Python threads and the client would share one GIL.
Each runner does N IR enrollments per round with a fresh ``Context`` per enrollment (PBM,
subject /CN=bench, one EC P-256 key generated before timing, log verbosity ERR), rounds
interleaved in alternating order so that drift hits every runner alike:

* ``http``       ``ctx.set_url(http.url)``; KEEP_ALIVE default (1: IR and certConf share
  one connection when the server agrees)
* ``http-ka0``   the same with ``Option.KEEP_ALIVE`` = 0 (a connection per message)
* ``https``      ``ctx.tls = tls`` (one ``TLS(trusted=ca)`` shared by every context),
  ``ctx.set_url(https.url)``; KEEP_ALIVE default (one handshake per enrollment)
* ``https-ka0``  the same with KEEP_ALIVE = 0 (two handshakes per enrollment)

Every enrollment is checked (a certificate for /CN=bench issued by the MockCA's CA).  The
client shares one ``TLS`` object, so after the first handshake each new connection resumes
the last TLS session (TLS 1.3 ticket) instead of verifying the certificate chain again.  Printed: the
median enrollments/s of each runner over the rounds, and the ratios HTTPS / HTTP (target for
keep-alive: >= 0.8).  The reference here is our own HTTP path, itself measured against C in
``bench_server.py``.  No timing is asserted anywhere: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import harness
from harness import REF, SECRET


def serve(directory: str) -> None:
    """The child: a MockCA over HTTP and HTTPS until stdin closes."""
    from openssl_cmp import TLS, LogLevel
    from openssl_cmp.testing import MockCA

    ca, srv, srv_key = harness.loopback_tls("/CN=bench TLS CA")
    with open(os.path.join(directory, "tls-ca.pem"), "wb") as f:
        f.write(ca.to_pem())
    mock = MockCA(secret=SECRET, reference=REF, allow_key_reuse=True)  # one key, every run
    mock.ctx.log_verbosity = LogLevel.ERR
    with open(os.path.join(directory, "mock-ca.pem"), "wb") as f:
        f.write(mock.ca_cert.to_pem())
    with mock.serve_http() as http, mock.serve_http(tls=TLS(cert=srv, key=srv_key)) as https:
        print(http.url, https.url, flush=True)
        sys.stdin.read()  # until the parent closes our stdin
        if http.errors or https.errors:
            sys.exit("server errors: %r" % (http.errors + https.errors)[:3])


def main(argv=None) -> int:
    parser = harness.parser(__doc__, n=200, n_help="enrollments per runner per round",
                            rounds=5)
    parser.add_argument("--serve", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0

    from openssl_cmp import TLS, Certificate, Option, PrivateKey, binding

    tmp = tempfile.mkdtemp(prefix="bench-https-")
    child = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--serve", tmp],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    http_url, https_url = child.stdout.readline().split()
    client_tls = TLS(trusted=Certificate.from_file(os.path.join(tmp, "tls-ca.pem")))
    mock_ca = Certificate.from_file(os.path.join(tmp, "mock-ca.pem"))
    key = PrivateKey.generate("EC")

    def runner(url, keep_alive, tls):
        def run(n):
            t0 = time.perf_counter()
            for _ in range(n):
                ctx = harness.pbm_context(key, "/CN=bench")
                ctx.set_option(Option.TOTAL_TIMEOUT, 30)
                if keep_alive is not None:
                    ctx.set_option(Option.KEEP_ALIVE, keep_alive)
                if tls is not None:
                    ctx.tls = tls
                ctx.set_url(url)
                cert = ctx.exec_ir()
                if not cert.is_issued_by(mock_ca) or str(cert.subject) != "CN=bench":
                    raise SystemExit("an enrollment returned an unexpected certificate")
                ctx.close()
            return n / (time.perf_counter() - t0)
        return run

    try:
        runners = {
            "http": runner(http_url, None, None),
            "http-ka0": runner(http_url, 0, None),
            "https": runner(https_url, None, client_tls),
            "https-ka0": runner(https_url, 0, client_tls),
        }
        for run in runners.values():  # warm-up
            run(max(5, args.n // 10))
        names = list(runners)
        rates = harness.interleaved_rounds(
            names, args.rounds, lambda name: runners[name](args.n),
            lambda r, res: harness.round_line("round", r, args.rounds, res, "%s %.0f/s"))
    finally:
        child.stdin.close()
        if child.wait(30) != 0:
            raise SystemExit("the server process failed (exit %d)" % child.returncode)

    med = {name: statistics.median(v) for name, v in rates.items()}
    print()
    print("OpenSSL %s, %d rounds x %d enrollments, median enrollments/s:"
          % (binding.OPENSSL_VERSION, args.rounds, args.n))
    for name in names:
        print("  %-10s %7.1f /s  (%.2f ms each)" % (name, med[name], 1000 / med[name]))
    ratio = med["https"] / med["http"]
    print("  HTTPS/HTTP, keep-alive:     %.2f  (target >= 0.80: %s)"
          % (ratio, "met" if ratio >= 0.8 else "MISSED"))
    print("  HTTPS/HTTP, no keep-alive:  %.2f" % (med["https-ka0"] / med["http-ka0"]))
    print("  TLS handshakes that resumed a session: %d" % client_tls.resumptions)
    return 0


if __name__ == "__main__":
    sys.exit(main())
