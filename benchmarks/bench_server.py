"""Benchmark: the server side: transfer callback, MockCA and HTTP, beside the C baseline.

    python benchmarks/bench_server.py [-n N] [--rounds R] [--http-n M] [--subprocess-n K]
                                      [--http-rounds H] [--warmup W] [--micro-n X]
                                      [--profile | --no-profile]

In-process part (interleaved rounds, N enrollments per runner per round, median µs per
enrollment).  Every runner does IR enrollments with a fresh client context per enrollment:
log verbosity ERR, PBM reference + secret, subject /CN=bench, the EC P-256 key generated
once (before timing) for POPO; every server context has log verbosity ERR too.

* C: the compiled C program of ``harness.py`` (``c/enroll_baseline.c``, the same baseline as
  ``bench_enroll.py``): a C client against a C ``OSSL_CMP_SRV_CTX`` returning a fixed,
  pre-issued certificate, through ``OSSL_CMP_CTX_server_perform``.
* (c) ``ctx.transfer_callback = lambda c, req: server.process(req)``, ``server`` an
  ``openssl_cmp.server.Server`` subclass whose Python ``handle_cert_request`` returns
  ``CertResponse.accepted(fixed_cert)`` (the same certificate as the C server) and whose
  ``handle_cert_conf`` returns True.
* (d) a Context attached to a ``MockCA`` (``mock.attach(ctx)``): Python handlers, and a real
  certificate issued and signed for every request (more work than the C baseline).
* References, to split the differences: "Context -> C server" is the Python loop of
  ``bench_enroll.py`` (``harness.PythonContext``: ``ctx.attach_srv_ctx`` to the C server of
  the cffi module built here);
  "Context -> Server.attach" is the fixed-certificate Python Server of (c) reached through
  ``server.attach(ctx)`` (C fast path, Python handlers, no transfer callback).

Then hot-loop micro-timings of what (d) and (c) add: ``Certificate.create`` as MockCA calls
it, ``crm.public_key``, the bare libcrypto calls inside them, and ``OSSL_CMP_MSG_dup`` of
each message of an enrollment (the transfer trampoline copies every request and response).

HTTP part (``MockCA(...).serve_http()`` on 127.0.0.1, H interleaved rounds):

* h1: M enrollments through our Context with ``ctx.set_url(http.url)`` (default options,
  i.e. keep-alive "if possible").
* h3: the same with ``Option.KEEP_ALIVE`` = 0 (a new connection per message).
* h2: K enrollments, each one ``openssl cmp -config "" -cmd ir -server ADDR -path pkix/ -ref
  … -secret pass:… -newkey key.pem -subject /CN=bench -certout FILE -verbosity 3`` as a
  subprocess; h2' the same with ``-keep_alive 0``; and the cost of spawning
  ``openssl version`` (the floor of any subprocess).

Every enrollment is checked (certificate returned, status accepted, the expected certificate:
the fixed one, or the one the MockCA just issued; the servers' handler counts and
``len(mock.issued)`` grow by one per enrollment; subprocesses exit 0 and their certificate
file parses, is the one issued, and certifies the key).  Any failure exits with status 1.
No timing is asserted: this is a measurement, not a test.  A missed target triggers a
cProfile of (c) and (d) (``--no-profile`` skips it, ``--profile`` forces it).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import timeit

import harness
from harness import REF, SECRET, SUBJECT, BenchError, met

TARGET_C = 1.20   # (c) / C
TARGET_D = 1.35   # (d) / C
TARGET_HTTP = 20.0  # h1 rate / h2 rate

R_C, R_CTX_C, R_ATTACH, R_TRANSFER, R_MOCK = (
    "C", "Context -> C server", "Context -> Server.attach", "(c) transfer_callback",
    "(d) MockCA")
LABELS = {
    R_C: "C (gcc -O2 program, C fixed-cert server)",
    R_CTX_C: "ref: Context -> C fixed-cert server (`attach_srv_ctx`, bench_enroll loop)",
    R_ATTACH: "ref: Context -> Python fixed-cert Server via `server.attach(ctx)`",
    R_TRANSFER: "**(c)** Context, `transfer_callback` -> `server.process` (fixed cert)",
    R_MOCK: "**(d)** Context -> `MockCA` via `mock.attach(ctx)` (issues a cert each)",
}


# -- in-process runners --------------------------------------------------------------------
def make_fixed_server(fixture):
    """The Python Server of (c): the fixed certificate, certConf accepted, handler counts."""
    from openssl_cmp import LogLevel
    from openssl_cmp.server import CertResponse, Server

    class FixedCertServer(Server):
        def __init__(self, cert):
            super().__init__()
            self.cert = cert
            self.cert_requests = 0
            self.cert_confs = 0

        def handle_cert_request(self, request, cert_req_id, crm, csr):
            self.cert_requests += 1
            return CertResponse.accepted(self.cert)

        def handle_cert_conf(self, request, cert_req_id, cert_hash, status):
            self.cert_confs += 1
            return True

    server = FixedCertServer(fixture.cert)
    server.ctx.log_verbosity = LogLevel.ERR
    server.ctx.reference_value = REF
    server.ctx.secret_value = SECRET
    return server


def make_mock(reference):
    from openssl_cmp import LogLevel
    from openssl_cmp.testing import MockCA

    # the fixture's one key is enrolled over and over: allow it (RFC 9483 CAs refuse that)
    mock = MockCA(secret=SECRET, reference=reference, allow_key_reuse=True)
    mock.ctx.log_verbosity = LogLevel.ERR
    return mock


class FixedServerRunner:
    """(c) through the transfer callback, or the reference through ``server.attach``."""

    def __init__(self, fixture, server, mode):
        self.fixture, self.server, self.mode = fixture, server, mode
        if mode == "transfer":
            callback = lambda c, req: server.process(req)  # noqa: E731 - (c) as a user writes it

            def connect(ctx):
                ctx.transfer_callback = callback
        else:
            connect = server.attach
        self.connect = connect
        self.who = R_TRANSFER if mode == "transfer" else R_ATTACH

    def run(self, n):
        server, cert = self.server, self.fixture.cert
        before = (server.cert_requests, server.cert_confs)
        elapsed = self.fixture.enroll_loop(n, self.connect, lambda: cert, self.who)
        seen = (server.cert_requests - before[0], server.cert_confs - before[1])
        if seen != (n, n):
            raise BenchError("%s: the Server saw %d cert requests and %d certConfs for %d "
                             "enrollments" % (self.who, seen[0], seen[1], n))
        return {"us": elapsed / 1e3 / n}


class MockRunner:
    """(d): a Context attached to a MockCA, which issues a new certificate per request."""

    def __init__(self, fixture, mock):
        self.fixture, self.mock = fixture, mock

    def run(self, n):
        mock, issued = self.mock, self.mock.issued
        before = (len(issued), len(mock.confirmed))
        elapsed = self.fixture.enroll_loop(n, mock.attach, lambda: issued[-1], R_MOCK)
        check_issued(mock, before, n, R_MOCK, self.fixture)
        return {"us": elapsed / 1e3 / n}


def check_issued(mock, before, n, who, fixture, last=None):
    """len(mock.issued) and len(mock.confirmed) grew by n; the last certificate is issued by
    the MockCA's CA and certifies our key.  Then the lists are emptied (untimed) so that
    memory stays flat over the rounds."""
    grown = (len(mock.issued) - before[0], len(mock.confirmed) - before[1])
    if grown != (n, n):
        raise BenchError("%s: MockCA issued %d certificates and saw %d certConfs for %d "
                         "enrollments" % (who, grown[0], grown[1], n))
    cert = mock.issued[-1] if last is None else last
    if not cert.is_issued_by(mock.ca_cert) or \
            cert.public_key().to_der() != fixture.key_public_der or \
            cert.subject != fixture.subject:
        raise BenchError("%s: the issued certificate does not certify our key and subject"
                         % who)
    del mock.issued[:]
    del mock.confirmed[:]


# -- micro-timings (what (d) and (c) add) --------------------------------------------------
def micro(fixture, server, mock, number):
    """Hot-loop µs per call, best of 5 timeit repeats."""
    from openssl_cmp import Certificate
    from openssl_cmp.binding import lib

    # one request template as a MockCA handler sees it (crm), and the messages of one
    # enrollment through the transfer callback, recorded as copies
    ctx = harness.pbm_context(fixture.key, fixture.subject)
    crm = ctx.setup_crm()
    ctx.close()
    messages = []

    def recording(c, req):
        rsp = server.process(req)
        messages.extend((req.copy(), rsp.copy()))
        return rsp

    ctx = harness.pbm_context(fixture.key, fixture.subject)
    ctx.transfer_callback = recording
    if ctx.exec_ir() != fixture.cert:
        raise BenchError("micro: the recording enrollment failed")
    ctx.close()

    pub = crm.public_key()
    subject = crm.subject
    ca_key, ca_cert = mock.ca_key, mock.ca_cert
    scratch = Certificate.create(subject, pub, ca_key, issuer=ca_cert)
    env = {"Certificate": Certificate, "crm": crm, "subject": subject, "pub": pub,
           "ca_key": ca_key, "ca_cert": ca_cert, "lib": lib, "x": scratch.ptr,
           "pk": pub.ptr, "cak": ca_key.ptr, "md": lib.EVP_sha256()}

    def t(stmt, n=number):
        return min(timeit.repeat(stmt, number=n, repeat=5, globals=env)) / n * 1e6

    rows = [
        ("`Certificate.create(subject, pub, ca_key, issuer=ca_cert)` (as MockCA, 365 days)",
         t("Certificate.create(subject, pub, ca_key, issuer=ca_cert, days=365)")),
        ("-- inside it: bare `X509_set_pubkey(x, pub)` (provider key)",
         t("lib.X509_set_pubkey(x, pk)")),
        ("-- inside it: bare `X509_sign(x, ca_key, sha256)` (ECDSA P-256)",
         t("lib.X509_sign(x, cak, md)")),
        ("`crm.public_key` (MockCA handler; on 3.0: template re-encoded, `d2i_PUBKEY`)",
         t("crm.public_key()")),
        ("`crm.subject`", t("crm.subject")),
    ]
    for msg in messages:
        env["p"] = msg.ptr
        rows.append(("`OSSL_CMP_MSG_dup` + free of the %s (%d bytes)"
                     % (msg.body_type.name, len(msg.to_der())),
                     t("lib.OSSL_CMP_MSG_free(lib.OSSL_CMP_MSG_dup(p))")))
    return rows


# -- HTTP ----------------------------------------------------------------------------------
class HTTPBench:
    """Enrollments over HTTP against one MockCA, from this process and from subprocesses."""

    def __init__(self, fixture, mock, http, openssl, tmp, key_path):
        self.fixture, self.mock, self.http = fixture, mock, http
        self.openssl, self.tmp, self.key_path = openssl, tmp, key_path
        self.enrollments = 0  # for the request count check (2 messages each)

    def context(self, n, keep_alive):
        """n enrollments through Context over HTTP; returns elapsed seconds."""
        from openssl_cmp import Option

        url, issued = self.http.url, self.mock.issued
        who = "HTTP Context (keep_alive=%s)" % ("default" if keep_alive is None else keep_alive)
        if keep_alive is None:
            def connect(ctx):
                ctx.set_url(url)
        else:
            def connect(ctx):
                ctx.set_url(url)
                ctx.set_option(Option.KEEP_ALIVE, keep_alive)
        before = (len(issued), len(self.mock.confirmed))
        elapsed = self.fixture.enroll_loop(n, connect, lambda: issued[-1], who)
        check_issued(self.mock, before, n, who, self.fixture)
        self.enrollments += n
        return elapsed / 1e9

    def cli(self, n, extra=()):
        """n enrollments by ``openssl cmp`` subprocesses; returns the summed wall time of
        the subprocess runs (the checks between them are not timed)."""
        from openssl_cmp import Certificate

        out = os.path.join(self.tmp, "cli-cert.pem")
        cmd = [self.openssl, "cmp", "-config", "", "-cmd", "ir", "-server", self.http.address,
               "-path", "pkix/", "-ref", REF.decode(), "-secret", "pass:" + SECRET.decode(),
               "-newkey", self.key_path, "-subject", SUBJECT, "-certout", out,
               "-verbosity", "3", *extra]
        total = 0.0
        for _ in range(n):
            if os.path.exists(out):
                os.unlink(out)
            before = (len(self.mock.issued), len(self.mock.confirmed))
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True)
            total += time.perf_counter() - t0
            if proc.returncode != 0:
                raise BenchError("openssl cmp exited %d:\n%s%s" % (proc.returncode,
                                                                  proc.stdout, proc.stderr))
            try:
                cert = Certificate.from_file(out)
            except Exception as exc:  # noqa: BLE001
                raise BenchError("openssl cmp wrote no parseable certificate: %s" % exc)
            if cert != self.mock.issued[-1]:
                raise BenchError("openssl cmp: the certificate written is not the one issued")
            check_issued(self.mock, before, 1, "openssl cmp " + " ".join(extra), self.fixture,
                         last=cert)
            self.enrollments += 1
        return total

    def spawn(self, n):
        """n runs of ``openssl version``: the cost of any subprocess (floor)."""
        total = 0.0
        for _ in range(n):
            t0 = time.perf_counter()
            proc = subprocess.run([self.openssl, "version"], capture_output=True)
            total += time.perf_counter() - t0
            if proc.returncode != 0:
                raise BenchError("openssl version exited %d" % proc.returncode)
        return total

    def check_server(self):
        http = self.http
        if http.errors:
            raise BenchError("the HTTP server recorded handler errors: %r" % http.errors[:3])
        if http.requests != 2 * self.enrollments:
            raise BenchError("the HTTP server answered %d requests for %d enrollments "
                             "(expected 2 each)" % (http.requests, self.enrollments))


def http_rounds(bench, args, preview=False):
    """Interleaved HTTP rounds; returns {row: [rate per round]} and {row: (n, seconds)}."""
    rows = ["h1", "h2"] if preview else ["h1", "h3", "h2", "h2'", "spawn"]
    totals = {r: [0, 0.0] for r in rows}
    rounds = args.http_rounds
    m = max(1, args.http_n // rounds)
    k = max(1, args.subprocess_n // rounds)
    run = {
        "h1": lambda: (m, bench.context(m, None)),
        "h3": lambda: (m, bench.context(m, 0)),
        "h2": lambda: (k, bench.cli(k)),
        "h2'": lambda: (k, bench.cli(k, ("-keep_alive", "0"))),
        "spawn": lambda: (k, bench.spawn(k)),
    }

    def measure(name):
        n, seconds = run[name]()
        totals[name][0] += n
        totals[name][1] += seconds
        return n / seconds

    head = "  %sHTTP round" % ("preview " if preview else "")
    per_round = harness.interleaved_rounds(
        rows, rounds, measure,
        lambda r, res: harness.round_line(head, r, rounds, res, "%s %.1f", " (enrollments/s)"))
    return per_round, totals


# -- reporting -----------------------------------------------------------------------------
def print_inprocess(results, n, rounds, create_us):
    c = statistics.median(results[R_C])
    print()
    print("### In-process: µs per enrollment (%d rounds x %d enrollments per runner)"
          % (rounds, n))
    print()
    print("| runner | median µs | min | max | / C | target |")
    print("|---|---:|---:|---:|---:|---|")
    targets = {R_TRANSFER: TARGET_C, R_MOCK: TARGET_D}
    ratios = {}
    for name in (R_C, R_CTX_C, R_ATTACH, R_TRANSFER, R_MOCK):
        med, lo, hi = harness.summary(results[name])
        ratio = med / c
        ratios[name] = ratio
        target = targets.get(name)
        print("| %s | %.1f | %.1f | %.1f | %.3f | %s |"
              % (LABELS[name], med, lo, hi, ratio,
                 "" if target is None else "<= %.2f: %s" % (target, met(ratio <= target))))
    med = {name: statistics.median(v) for name, v in results.items()}
    print()
    print("| difference (medians) | µs per enrollment |")
    print("|---|---:|")
    print("| Context -> C server  minus  C (the Context layer, as in bench_enroll) | %+.1f |"
          % (med[R_CTX_C] - med[R_C]))
    print("| Server.attach  minus  Context -> C server (Python handlers + pool) | %+.1f |"
          % (med[R_ATTACH] - med[R_CTX_C]))
    print("| (c) transfer_callback  minus  Server.attach (callback + `process`) | %+.1f |"
          % (med[R_TRANSFER] - med[R_ATTACH]))
    print("| (d) MockCA  minus  Server.attach (issuance, bigger responses) | %+.1f |"
          % (med[R_MOCK] - med[R_ATTACH]))
    if create_us is not None:
        rest = med[R_MOCK] - create_us
        print("| (d) minus the hot cost of `crm.public_key` + `Certificate.create` (%.0f µs), "
              "estimate | %.1f (= %.3f x C) |" % (create_us, rest, rest / med[R_C]))
    per_round = {name: harness.per_round_ratio(results[name], results[R_C])
                 for name in (R_TRANSFER, R_MOCK)}
    print("| (c) / C, median of per-round ratios | %.3f |" % per_round[R_TRANSFER])
    print("| (d) / C, median of per-round ratios | %.3f |" % per_round[R_MOCK])
    return ratios


def print_micro(rows, number):
    print()
    print("### What (d) and (c) add, hot loop (best of 5 x %d; µs per call)" % number)
    print()
    print("| call | µs |")
    print("|---|---:|")
    for label, us in rows:
        print("| %s | %.1f |" % (label, us))


def print_http(per_round, totals, preview=False):
    def rate(name):
        return statistics.median(per_round[name])

    def total_rate(name):
        n, seconds = totals[name]
        return n / seconds

    labels = {
        "h1": "h1: Context over HTTP (`set_url`, default keep-alive)",
        "h3": "h3: Context over HTTP, `Option.KEEP_ALIVE` = 0",
        "h2": "h2: `openssl cmp` subprocess per enrollment",
        "h2'": "h2': `openssl cmp -keep_alive 0` subprocess",
        "spawn": "floor: `openssl version` subprocess (no enrollment)",
    }
    print()
    if preview:
        print("### PREVIEW, not the library as shipped: HTTP with TCP_QUICKACK re-armed "
              "after each request (patched in this process)")
    else:
        print("### Loopback HTTP against `MockCA.serve_http()` (%d interleaved rounds)"
              % len(per_round["h1"]))
    print()
    print("| runner | enrollments | median rate /s | overall rate /s | ms per enrollment |")
    print("|---|---:|---:|---:|---:|")
    for name in per_round:
        print("| %s | %d | %.1f | %.1f | %.2f |" % (labels[name], totals[name][0], rate(name),
                                                  total_rate(name), 1e3 / rate(name)))
    print()
    ratio = rate("h1") / rate("h2")
    print("| ratio (median rates) | value | target |")
    print("|---|---:|---|")
    print("| **h1 / h2** (Context over HTTP vs `openssl cmp` subprocess) | %.1f x | >= %.0f x: "
          "%s |" % (ratio, TARGET_HTTP, met(ratio >= TARGET_HTTP)))
    if not preview:
        print("| h3 / h1 (no keep-alive vs keep-alive) | %.1f x | |" % (rate("h3") / rate("h1")))
        print("| h3 / h2' (both without keep-alive) | %.1f x | |" % (rate("h3") / rate("h2'")))
        print("| h3 / h2 | %.1f x | |" % (rate("h3") / rate("h2")))
    return ratio


# -- main ----------------------------------------------------------------------------------
def main(argv=None):
    parser = harness.parser(
        __doc__, n=1000, n_help="in-process enrollments per runner per round (default 1000)",
        rounds=11, rounds_help="in-process rounds, runner order alternating (default 11)",
        warmup=100, warmup_help="untimed warm-up enrollments per in-process runner "
                                "(default 100)", keep_tmp=True)
    parser.add_argument("--http-n", type=int, default=150,
                        help="enrollments through Context over HTTP, per variant (default 150)")
    parser.add_argument("--subprocess-n", type=int, default=30,
                        help="`openssl cmp` subprocess enrollments, per variant (default 30)")
    parser.add_argument("--http-rounds", type=int, default=3,
                        help="interleaved HTTP rounds (default 3)")
    parser.add_argument("--micro-n", type=int, default=300,
                        help="calls per timeit repeat in the micro table (default 300)")
    prof = parser.add_mutually_exclusive_group()
    prof.add_argument("--profile", action="store_true",
                      help="cProfile (c) and (d) even when their targets are met")
    prof.add_argument("--no-profile", action="store_true",
                      help="no cProfile even when a target is missed")
    args = parser.parse_args(argv)
    if min(args.n, args.rounds, args.http_n, args.subprocess_n, args.http_rounds,
           args.micro_n) <= 0 or args.warmup < 0:
        parser.error("counts must be positive (--warmup >= 0)")

    def body(run):
        base = run.baseline()
        c_server = base.server()
        run.on_exit(c_server.close)

        fixture = harness.Fixture(base.cert_pem, base.key_pem)
        fixed_server = make_fixed_server(fixture)
        mock = make_mock(b"bench-mock")
        runners = {
            R_C: base.program(args.warmup),
            R_CTX_C: harness.PythonContext(c_server, fixture),
            R_ATTACH: FixedServerRunner(fixture, fixed_server, "attach"),
            R_TRANSFER: FixedServerRunner(fixture, fixed_server, "transfer"),
            R_MOCK: MockRunner(fixture, mock),
        }
        print("- setup (key, certificate, builds, servers): %.1f s" % run.elapsed())
        print()

        if args.warmup:  # the C program warms up inside each of its processes
            for name in (R_CTX_C, R_ATTACH, R_TRANSFER, R_MOCK):
                runners[name].run(args.warmup)

        results = harness.interleaved_rounds(
            runners, args.rounds, lambda name: runners[name].run(args.n)["us"],
            lambda r, res: harness.round_line("  round", r, args.rounds, res, "%s %.1f",
                                              " (µs)"))

        micro_rows = micro(fixture, fixed_server, mock, args.micro_n)
        create_us = micro_rows[0][1] + micro_rows[3][1]  # Certificate.create + crm.public_key

        http_mock = make_mock(b"bench-http-mock")
        with http_mock.serve_http() as http:
            bench = HTTPBench(fixture, http_mock, http, run.openssl, run.tmp, base.key_path)
            bench.context(5, None)  # warm-up, untimed
            bench.cli(2)
            per_round, totals = http_rounds(bench, args)
            bench.check_server()

        print()
        print("## Results")
        ratios = print_inprocess(results, args.n, args.rounds, create_us)
        print_micro(micro_rows, args.micro_n)
        http_ratio = print_http(per_round, totals)

        missed = [what for what, ok in (
            ("(c)", ratios[R_TRANSFER] <= TARGET_C), ("(d)", ratios[R_MOCK] <= TARGET_D),
            ("HTTP", http_ratio >= TARGET_HTTP)) if not ok]
        print()
        print("Targets: (c) <= %.2f x C: %s; (d) <= %.2f x C: %s; h1/h2 >= %.0f x: %s."
              % (TARGET_C, met(ratios[R_TRANSFER] <= TARGET_C), TARGET_D,
                 met(ratios[R_MOCK] <= TARGET_D), TARGET_HTTP, met(http_ratio >= TARGET_HTTP)))
        if args.profile or (missed and not args.no_profile):
            n_prof = min(args.n, 300)
            harness.profile_runner(runners[R_TRANSFER], n_prof, "(c) transfer_callback -> process")
            harness.profile_runner(runners[R_MOCK], n_prof, "(d) MockCA via attach")

        print()
        print("Every enrollment was checked: certificate returned, status accepted, the "
              "expected certificate (the fixed one, or the one the MockCA just issued, for "
              "our key and subject), handler counts and len(mock.issued) +1 per enrollment, "
              "openssl cmp exit 0 with a parseable certificate file.")
        print("Server pools: fixed-cert Server %d workers, MockCA %d, HTTP MockCA %d."
              % (fixed_server.pool_size, mock.pool_size, http_mock.pool_size))

    return harness.run_main("Server side: transfer callback, MockCA and HTTP vs C", __file__,
                            argv, args, body, "bench_server_")


if __name__ == "__main__":
    sys.exit(main())
