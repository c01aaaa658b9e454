"""Benchmark: N IR enrollments through ``openssl_cmp.Context`` vs the same loop in C.

    python benchmarks/bench_enroll.py [-n N] [--rounds R] [--steps S] [--micro] [--profile]

Both sides enroll against the same in-process libcrypto CMP server (``c/fixed_server.c``: an
``OSSL_CMP_SRV_CTX`` whose cert_request callback returns one fixed, pre-issued certificate,
certConf returns 1, PBM protection, log verbosity ERR), reached through
``OSSL_CMP_CTX_server_perform`` as transfer callback.  Each enrollment uses a fresh client
context: new, log verbosity ERR, PBM reference + secret, subject /CN=bench, the EC P-256 key
(generated once, before timing) for POPO, exec IR, read the status, free.

* C: ``c/enroll_baseline.c`` (+ ``c/enroll_loop.c``), built here with ``gcc -O2 ... -lcrypto``
  in a temporary directory, run as a child process once per round; it times its loop itself
  (``clock_gettime``), after an untimed warm-up, and prints microseconds per enrollment.
* Python: the loop through ``openssl_cmp.Context``, in this process, against the same C server
  compiled into a small cffi API-mode module built here on the spot.
  (Both, and the build, live in ``harness.py``, shared with ``bench_server.py``.)
* C in-process (cross-check): the C loop of ``c/enroll_loop.c`` called from this process
  through that cffi module, so process-level effects (allocator state, caches) can be told
  apart from binding overhead.
* bare cffi (reference): the same loop as bare ``openssl_cmp.binding.lib`` calls without
  Context: the floor for any cffi binding (interpreter loop + cffi call overhead), so that
  "Python - bare cffi" is the cost of the Context layer itself.

Rounds alternate the order of the runners; the table gives the median µs/enrollment of each
and the ratio Python / C (target: <= 1.10).  Then (``--steps``) the loop once more on each
side with a clock read between steps, for a per-call table; ``--micro`` times each Context
call in a hot loop next to the bare cffi call(s) it wraps; ``--profile`` runs cProfile.

Every timed enrollment is checked (certificate returned and equal to the pre-issued one,
status accepted, one cert_request and one certConf callback on the server per enrollment);
any failure aborts the benchmark with exit status 1.
No timing is asserted: this is a measurement, not a test.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import statistics
import sys
import time

import harness
from harness import REF, SECRET, STEPS, BenchError

STEP_LABELS = {  # what the Python side does for each step of the C loop
    "new": "Context()",
    "log_verbosity": "ctx.log_verbosity = ERR",
    "reference_value": "ctx.reference_value = ...",
    "secret_value": "ctx.secret_value = ...",
    "subject_name": "ctx.subject_name = Name",
    "set_new_pkey": "ctx.set_new_pkey(key)",
    "transfer": "ctx.attach_srv_ctx(srv)",
    "exec_ir": "ctx.exec_ir()",
    "status": "ctx.status + cert == expected",
    "free": "ctx.close()",
}


# -- the runners besides harness.CProgram and harness.PythonContext ------------------------
class CInProcess:
    """The C loop of enroll_loop.c called from this process (cross-check)."""

    def __init__(self, server, cert_pem, key_pem):
        self.server, self.cert_pem, self.key_pem = server, cert_pem, key_pem

    def run(self, n, steps=False):
        mod = self.server.module
        elapsed = mod.ffi.new("double *")
        step_ns = mod.ffi.new("double[]", mod.lib.BENCH_NSTEPS) if steps else mod.ffi.NULL
        before = self.server.counts()
        ok = mod.lib.bench_c_run(self.server.ptr, self.key_pem, self.cert_pem, REF, len(REF),
                                 SECRET, len(SECRET), n, elapsed, step_ns)
        if ok != n:
            raise BenchError("C in-process: %d of %d enrollments succeeded" % (ok, n))
        self.server.check(before, n, "C in-process")
        result = {"us": elapsed[0] / 1e3 / n}
        if steps:
            result["steps"] = {s: step_ns[i] / 1e3 / n for i, s in enumerate(STEPS)}
        return result


class BareCffi:
    """Reference: the same loop as bare ``openssl_cmp.binding.lib`` calls, no Context (what
    any cffi binding pays at least: the interpreter loop and cffi's call overhead)."""

    def __init__(self, python_runner):
        from openssl_cmp.binding import ffi, lib

        self.ffi, self.lib, self.py = ffi, lib, python_runner
        self.perform = ffi.addressof(lib, "OSSL_CMP_CTX_server_perform")

    def run(self, n, steps=False):
        ffi, lib = self.ffi, self.lib
        new, free = lib.OSSL_CMP_CTX_new, lib.OSSL_CMP_CTX_free
        key, name, expected = self.py.key.ptr, self.py.subject.ptr, self.py.expected.ptr
        srv, perform, null = self.py.srv_ptr, self.perform, ffi.NULL
        ok = 0
        before = self.py.server.counts()
        t0 = time.perf_counter_ns()
        for _ in range(n):
            ctx = new(null, null)
            try:
                lib.OSSL_CMP_CTX_set_option(ctx, lib.OSSL_CMP_OPT_LOG_VERBOSITY,
                                            lib.OSSL_CMP_LOG_ERR)
                lib.OSSL_CMP_CTX_set1_referenceValue(ctx, REF, len(REF))
                lib.OSSL_CMP_CTX_set1_secretValue(ctx, SECRET, len(SECRET))
                lib.OSSL_CMP_CTX_set1_subjectName(ctx, name)
                lib.EVP_PKEY_up_ref(key)
                lib.OSSL_CMP_CTX_set0_newPkey(ctx, 1, key)
                lib.OSSL_CMP_CTX_set_transfer_cb_arg(ctx, srv)
                lib.OSSL_CMP_CTX_set_transfer_cb(ctx, perform)
                cert = lib.OSSL_CMP_exec_certreq(ctx, 0, null)  # 0: OSSL_CMP_IR
                if (cert != null and lib.OSSL_CMP_CTX_get_status(ctx) == 0
                        and lib.X509_cmp(cert, expected) == 0):
                    ok += 1
            finally:
                free(ctx)
        elapsed = time.perf_counter_ns() - t0
        if ok != n:
            raise BenchError("bare cffi: %d of %d enrollments succeeded" % (ok, n))
        self.py.server.check(before, n, "bare cffi")
        return {"us": elapsed / 1e3 / n}


def micro(py, number=20000):
    """Hot-loop µs per call of each public call of the loop, next to the bare cffi call(s)
    it wraps (through openssl_cmp's own ``lib``), and of the pieces every call shares.
    Best of 5 ``timeit`` repeats; one long-lived context.  In the enrollment loop the
    same calls cost about twice as much (caches are cold after exec_ir): see the
    per-step table.  ``py`` is the harness.PythonContext runner (key, subject, server)."""
    import threading
    import timeit

    from openssl_cmp import Certificate, Context, LogLevel, Name, Option, PKIStatus
    from openssl_cmp._boundary import boundary_of
    from openssl_cmp.binding import ffi, lib

    ctx = Context()
    env = {"ctx": ctx, "p": ctx.ptr, "lib": lib, "ffi": ffi, "key": py.key,
           "kp": py.key.ptr, "name": py.subject, "np": py.subject.ptr,
           "srv": py.srv_ptr, "cert": py.expected, "cp": py.expected.ptr,
           "ERR": LogLevel.ERR, "OPT": Option.LOG_VERBOSITY, "REF": REF,
           "SECRET": SECRET, "Context": Context, "Certificate": Certificate,
           "Name": Name, "Option": Option, "PKIStatus": PKIStatus,
           "boundary": boundary_of(ctx), "lock": boundary_of(ctx).lock,
           "threading": threading,
           "perform": ffi.addressof(lib, "OSSL_CMP_CTX_server_perform")}

    def t(stmt, n=number):
        return min(timeit.repeat(stmt, number=n, repeat=5, globals=env)) / n * 1e6

    rows = [
        ("Context() + ctx.close()", t("c = Context(); c.close()", number // 4),
         t("lib.OSSL_CMP_CTX_free(lib.OSSL_CMP_CTX_new(ffi.NULL, ffi.NULL))",
           number // 4)),
        ("ctx.log_verbosity = ERR", t("ctx.log_verbosity = ERR"),
         t("lib.OSSL_CMP_CTX_set_option(p, 0, 3)")),
        ("ctx.reference_value = bytes", t("ctx.reference_value = REF"),
         t("lib.OSSL_CMP_CTX_set1_referenceValue(p, REF, len(REF))")),
        ("ctx.secret_value = bytes", t("ctx.secret_value = SECRET"),
         t("lib.OSSL_CMP_CTX_set1_secretValue(p, SECRET, len(SECRET))")),
        ("ctx.subject_name = Name", t("ctx.subject_name = name"),
         t("lib.OSSL_CMP_CTX_set1_subjectName(p, np)")),
        ("ctx.subject_name = '/CN=bench' (str)", t("ctx.subject_name = '/CN=bench'"),
         t("lib.OSSL_CMP_CTX_set1_subjectName(p, np)")),
        ("ctx.set_new_pkey(key)", t("ctx.set_new_pkey(key)"),
         t("lib.EVP_PKEY_up_ref(kp); lib.OSSL_CMP_CTX_set0_newPkey(p, 1, kp)")),
        ("ctx.attach_srv_ctx(srv)", t("ctx.attach_srv_ctx(srv)"),
         t("lib.OSSL_CMP_CTX_set_transfer_cb_arg(p, srv); "
           "lib.OSSL_CMP_CTX_set_transfer_cb(p, perform)")),
        ("exec_ir result: Certificate._borrowed(ptr) (+ its free)",
         t("Certificate._borrowed(cp)"), t("lib.X509_up_ref(cp); lib.X509_free(cp)")),
        ("ctx.status", t("ctx.status"), t("lib.OSSL_CMP_CTX_get_status(p)")),
        ("cert == expected", t("cert == cert"), t("lib.X509_cmp(cp, cp)")),
        ("-- pieces: ctx._call(f) minus f", t("ctx._call(lib.OSSL_CMP_CTX_get_status)")
         - t("lib.OSSL_CMP_CTX_get_status(p)"), None),
        ("-- with boundary.running(): pass", t("with boundary.running(): pass"), None),
        ("-- with the boundary's lock: pass (RLock)", t("with lock: pass"), None),
        ("-- lib.ERR_clear_error()", t("lib.ERR_clear_error()"), None),
        ("-- Option(0) / PKIStatus(0) (enum lookup)", t("Option(0)"), None),
        ("-- Name._copied(ptr) (+ its free)", t("Name._copied(np)"),
         t("lib.X509_NAME_free(lib.X509_NAME_dup(np))")),
        ("-- ffi.addressof(lib, 'OSSL_CMP_CTX_server_perform')",
         t("ffi.addressof(lib, 'OSSL_CMP_CTX_server_perform')"), None),
    ]
    ctx.close()
    return rows


# -- reporting -----------------------------------------------------------------------------
def print_results(results, n, rounds):
    c = harness.summary(results["C"])
    py = harness.summary(results["Python"])
    cin = harness.summary(results["C in-process"])
    bare = harness.summary(results["bare cffi"])
    print()
    print("Results: %d rounds x %d enrollments per side, µs per enrollment" % (rounds, n))
    print()
    print("| runner | median µs | min µs | max µs |")
    print("|---|---:|---:|---:|")
    print("| C (gcc -O2 program) | %.1f | %.1f | %.1f |" % c)
    print("| Python `openssl_cmp.Context` | %.1f | %.1f | %.1f |" % py)
    print("| C loop inside the Python process (cross-check) | %.1f | %.1f | %.1f |" % cin)
    print("| Python, bare `binding.lib` calls, no Context (reference) | %.1f | %.1f | %.1f |"
          % bare)
    print()
    ratio = py[0] / c[0]
    per_round = harness.per_round_ratio(results["Python"], results["C"])
    print("| ratio | value | target |")
    print("|---|---:|---|")
    print("| Python / C (medians) | %.3f | <= 1.10 %s |"
          % (ratio, "(met)" if ratio <= 1.10 else "(NOT met)"))
    print("| Python / C (median of per-round ratios) | %.3f | |" % per_round)
    print("| Python / C in-process (medians) | %.3f | |" % (py[0] / cin[0]))
    print("| Python - C (medians), µs | %+.1f | |" % (py[0] - c[0]))
    print("| bare cffi / C (medians) | %.3f | |" % (bare[0] / c[0]))
    print("| Python - bare cffi (medians), µs: the Context layer | %+.1f | |"
          % (py[0] - bare[0]))
    return ratio


def print_steps(c_steps, py_steps, n, chunks):
    print()
    print("Per-step µs per enrollment (median of %d interleaved chunks of %d enrollments per "
          "side, clock read between steps; C = standalone program; the exec_ir row is the "
          "noisiest, +-15 µs)" % (chunks, n))
    print()
    print("| step (C call) | Python | C µs | Python µs | Python - C µs |")
    print("|---|---|---:|---:|---:|")
    for s in STEPS:
        print("| %s | `%s` | %.2f | %.2f | %+.2f |"
              % (s, STEP_LABELS[s], c_steps[s], py_steps[s], py_steps[s] - c_steps[s]))
    tc, tp = sum(c_steps.values()), sum(py_steps.values())
    to_c = tc - c_steps["exec_ir"]
    to_p = tp - py_steps["exec_ir"]
    print("| all but exec_ir | | %.2f | %.2f | %+.2f |" % (to_c, to_p, to_p - to_c))
    print("| total | | %.2f | %.2f | %+.2f |" % (tc, tp, tp - tc))


def print_micro(rows):
    print()
    print("Hot-loop µs per call (best of 5 x timeit; one long-lived context; "
          "bare = the same libcrypto call(s) through openssl_cmp.binding.lib)")
    print()
    print("| call | openssl_cmp µs | bare cffi µs | wrapper overhead µs |")
    print("|---|---:|---:|---:|")
    for label, ours, bare in rows:
        if bare is None:
            print("| %s | %.2f | | |" % (label, ours))
        else:
            print("| %s | %.2f | %.2f | %+.2f |" % (label, ours, bare, ours - bare))


def profile_python(runner, n, top):
    profiler = cProfile.Profile()
    profiler.enable()
    runner.run(n)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    print()
    print("cProfile of one Python run of %d enrollments (sorted by tottime; the profiler "
          "itself inflates Python-level costs):" % n)
    print(out.getvalue())


# -- main ----------------------------------------------------------------------------------
def main(argv=None):
    parser = harness.parser(
        __doc__, n=1000, n_help="enrollments per side per round (default 1000)",
        rounds=11, rounds_help="timed rounds, sides alternating (default 11)",
        warmup=100, warmup_help="untimed warm-up enrollments per side (default 100; the C "
                                "program also warms up this many in each of its processes)",
        keep_tmp=True)
    parser.add_argument("--steps", type=int, default=1000,
                        help="enrollments per side for the per-step table "
                             "(default 1000; 0 skips it)")
    parser.add_argument("--profile", action="store_true",
                        help="also cProfile one Python run of N enrollments")
    parser.add_argument("--micro", action="store_true",
                        help="also time each Context call in a hot loop next to the bare "
                             "cffi call(s) it wraps")
    args = parser.parse_args(argv)
    if args.n <= 0 or args.rounds <= 0 or args.warmup < 0 or args.steps < 0:
        parser.error("-n and --rounds must be positive, --warmup and --steps >= 0")

    def body(run):
        base = run.baseline()
        server = base.server()
        run.on_exit(server.close)
        fixture = harness.Fixture(base.cert_pem, base.key_pem)
        python_runner = harness.PythonContext(server, fixture)
        runners = {
            "C": base.program(args.warmup),
            "Python": python_runner,
            "C in-process": CInProcess(server, base.cert_pem, base.key_pem),
            "bare cffi": BareCffi(python_runner),
        }
        print("- setup (key, certificate, builds): %.1f s" % run.elapsed())

        # warm-up: the C program warms up inside each of its processes
        if args.warmup:
            for name in ("Python", "C in-process", "bare cffi"):
                runners[name].run(args.warmup)

        results = harness.interleaved_rounds(
            runners, args.rounds, lambda name: runners[name].run(args.n)["us"],
            lambda r, res: harness.round_line("  round", r, args.rounds, res, "%s %.1f",
                                              " (µs)"))
        print_results(results, args.n, args.rounds)

        if args.steps:
            # interleaved chunks, median per step: the exec_ir row is otherwise noisy
            chunks = 5 if args.steps >= 50 else 1
            size = args.steps // chunks
            per = {"C": [], "Python": []}
            for i in range(chunks):
                for name in (("C", "Python") if i % 2 == 0 else ("Python", "C")):
                    per[name].append(runners[name].run(size, steps=True)["steps"])
            c_steps, py_steps = ({s: statistics.median(c[s] for c in per[name]) for s in STEPS}
                                 for name in ("C", "Python"))
            print_steps(c_steps, py_steps, size, chunks)

        if args.micro:
            print_micro(micro(python_runner))

        if args.profile:
            profile_python(python_runner, args.n, 30)

        print()
        print("Every timed enrollment returned the pre-issued certificate with status "
              "accepted; the server saw one cert request and one certConf for each.")

    return harness.run_main("Enrollment through Context vs C", __file__, argv, args, body,
                            "bench_enroll_")


if __name__ == "__main__":
    sys.exit(main())
