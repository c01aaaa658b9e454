"""Benchmark: ``Context.get_ca_certs()`` round trips per second in-process, next to a C loop.

    python benchmarks/bench_support.py [-n N] [--rounds R] [--warmup W] [--keep-tmp]

One round trip = one GENM asking for id-it-caCerts (RFC 9483 §4.3.1) and its GENP, through
a fresh client context, exactly as the C loop does it:

* C: ``c/cacerts_loop.c``, compiled with ``c/cacerts_server.c`` (gcc -O2) into a small cffi
  module loaded into this process (``harness.build_cffi_module``) and called once per
  round for N round trips: ``OSSL_CMP_CTX_new``, log verbosity ERR, PBM reference + secret,
  transfer ``OSSL_CMP_CTX_server_perform`` to the C server, then ``OSSL_CMP_get1_caCerts``
  (OpenSSL 3.2+) or, on 3.0, push a caCerts ITAV + ``OSSL_CMP_exec_GENM_ses``, the first
  caCerts ITAV, its DER decoded and each certificate checked (validity, CA) as
  ``openssl_cmp.support`` does there; free.
* Python -> C server: ``Context()``, ``log_verbosity = ERR``, ``reference_value``,
  ``secret_value``, ``ctx.attach_srv_ctx(srv)`` to the same C server, ``ctx.get_ca_certs()``,
  ``ctx.close()`` -- a new Context per round trip, like the C loop (no ``reinit()``).
* Python -> MockCA (context): the same loop with ``mock.attach(ctx)`` to a ``MockCA`` built
  on the same CA certificate and key (its handlers are Python).

The C server (``c/cacerts_server.c``): an ``OSSL_CMP_SRV_CTX`` whose genm callback answers a
GENM holding one caCerts ITAV without value with one fixed CA certificate (EC P-256,
self-signed, made by ``Certificate.create(..., ca=True)`` before timing); PBM protection; log
verbosity ERR.  Rounds are interleaved (the order reversed every other round); the table
gives the median µs per round trip, round trips per second and the ratio Python / C.

Every round trip is checked: exactly one certificate returned, equal to the fixed one, and
(for the C server) one GENM answered per round trip; any failure exits with status 1.
No timing is asserted: this is a measurement, not a test.
"""

from __future__ import annotations

import sys
import time

import harness
from harness import REF, SECRET, BenchError

CDEF = """
typedef ... OSSL_CMP_SRV_CTX;
OSSL_CMP_SRV_CTX *cacerts_server_new(const char *cert_pem, const unsigned char *ref,
                                     int ref_len, const unsigned char *secret, int secret_len);
void cacerts_server_free(OSSL_CMP_SRV_CTX *srv);
long cacerts_server_genms(OSSL_CMP_SRV_CTX *srv);
int cacerts_c_run(OSSL_CMP_SRV_CTX *srv, const char *expected_pem, const unsigned char *ref,
                  int ref_len, const unsigned char *secret, int secret_len, int n);
"""
R_C, R_PY, R_MOCK = "C", "Python -> C server", "Python -> MockCA"
LABELS = {
    R_C: "C loop (gcc -O2, in this process) -> C server",
    R_PY: "Python `Context.get_ca_certs()` -> C server (`attach_srv_ctx`)",
    R_MOCK: "ref: Python `Context.get_ca_certs()` -> `MockCA` (`mock.attach`)",
}


class CacertsServer(harness.CServer):
    """The C caCerts server of the cffi module, in this process."""

    def __init__(self, module, cert_pem):
        super().__init__(module, cert_pem, "cacerts_server")

    def genms(self):
        return self.module.lib.cacerts_server_genms(self.ptr)

    def check(self, before, n, who):
        seen = self.genms() - before
        if seen != n:
            raise BenchError("%s: the C server answered %d GENMs for %d round trips"
                             % (who, seen, n))


class CLoop:
    """The C loop of cacerts_loop.c: one call, n round trips (the call costs nothing next
    to them)."""

    def __init__(self, server, cert_pem):
        self.server, self.cert_pem = server, cert_pem

    def run(self, n):
        lib = self.server.module.lib
        before = self.server.genms()
        t0 = time.perf_counter_ns()
        ok = lib.cacerts_c_run(self.server.ptr, self.cert_pem, REF, len(REF), SECRET,
                               len(SECRET), n)
        elapsed = time.perf_counter_ns() - t0
        if ok != n:
            raise BenchError("C: %d of %d round trips succeeded" % (ok, n))
        self.server.check(before, n, R_C)
        return elapsed / 1e3 / n


class PythonLoop:
    """n round trips through ``Context.get_ca_certs()`` (``harness.context_loop``: a new
    Context each, as the C loop), reaching the server through ``connect(ctx)``;
    ``check(counter() before, n, who)`` checks the server's side."""

    def __init__(self, who, expected, connect, counter=None, check=None):
        self.who, self.expected, self.connect = who, expected, connect
        self.counter, self.check = counter, check

    def run(self, n):
        expected = self.expected

        def get_ca_certs(ctx):
            certs = ctx.get_ca_certs()
            return None if len(certs) == 1 and certs[0] == expected else "got %r" % (certs,)

        before = self.counter() if self.counter else None
        elapsed = harness.context_loop(n, self.connect, get_ca_certs, self.who, "round trips")
        if self.check:
            self.check(before, n, self.who)
        return elapsed / 1e3 / n


def path_used():
    from openssl_cmp import binding

    if binding.has("OSSL_CMP_get1_caCerts"):
        return "`OSSL_CMP_get1_caCerts` (OpenSSL 3.2+), on both sides"
    return ("generic GENM on both sides (OpenSSL 3.0: push a caCerts ITAV, "
            "`OSSL_CMP_exec_GENM_ses`, decode the DER, check validity and CA flag)")


def print_results(results, n, rounds):
    print()
    print("Results: %d rounds x %d round trips per runner (interleaved), µs per round trip"
          % (rounds, n))
    print()
    print("| runner | median µs | round trips/s | min µs | max µs |")
    print("|---|---:|---:|---:|---:|")
    for name, values in results.items():
        med, lo, hi = harness.summary(values)
        print("| %s | %.1f | %.0f | %.1f | %.1f |" % (LABELS[name], med, 1e6 / med, lo, hi))
    c = harness.summary(results[R_C])[0]
    print()
    print("| ratio (time per round trip) | value |")
    print("|---|---:|")
    for name in (R_PY, R_MOCK):
        med = harness.summary(results[name])[0]
        print("| %s / C (medians) | %.3f |" % (name, med / c))
        print("| %s / C (median of per-round ratios) | %.3f |"
              % (name, harness.per_round_ratio(results[name], results[R_C])))
        print("| %s - C (medians), µs | %+.1f |" % (name, med - c))


def main(argv=None):
    parser = harness.parser(
        __doc__, n=500, n_help="round trips per runner per round (default 500)",
        rounds=21, rounds_help="timed rounds, runners alternating (default 21)",
        warmup=200, warmup_help="untimed warm-up round trips per runner (default 200)",
        keep_tmp=True)
    args = parser.parse_args(argv)
    if args.n <= 0 or args.rounds <= 0 or args.warmup < 0:
        parser.error("-n and --rounds must be positive, --warmup >= 0")

    def body(run):
        from openssl_cmp import Certificate, LogLevel, PrivateKey
        from openssl_cmp.testing import MockCA

        ca_key = PrivateKey.generate("EC")
        ca_cert = Certificate.create("/CN=bench CA", ca_key, ca_key, ca=True)
        cert_pem = ca_cert.to_pem()
        module = harness.build_cffi_module(run.tmp, "bench_cacerts_server", CDEF,
                                           ("cacerts_server.c", "cacerts_loop.c"))
        server = CacertsServer(module, cert_pem)
        run.on_exit(server.close)
        srv = harness.srv_pointer(module, server.ptr)
        mock = MockCA(ca_key, ca_cert, secret=SECRET, reference=REF)
        mock.ctx.log_verbosity = LogLevel.ERR
        runners = {
            R_C: CLoop(server, cert_pem),
            R_PY: PythonLoop(R_PY, ca_cert, lambda ctx: ctx.attach_srv_ctx(srv),
                             server.genms, server.check),
            R_MOCK: PythonLoop(R_MOCK, ca_cert, mock.attach),
        }
        print("- path: %s" % path_used())
        print("- setup (CA certificate, build): %.1f s" % run.elapsed())
        for runner in runners.values():
            if args.warmup:
                runner.run(args.warmup)
        results = harness.interleaved_rounds(
            runners, args.rounds, lambda name: runners[name].run(args.n),
            lambda r, res: harness.round_line("  round", r, args.rounds, res, "%s %.1f",
                                              " (µs)"))
        print_results(results, args.n, args.rounds)
        print()
        print("Every timed round trip returned exactly the fixed CA certificate; the C "
              "server answered one GENM for each of its round trips.")

    return harness.run_main("CA certificates (GENM caCerts) through Context vs C", __file__,
                            argv, args, body, "bench_support_")


if __name__ == "__main__":
    sys.exit(main())
