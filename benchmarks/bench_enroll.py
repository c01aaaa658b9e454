"""Benchmark: N IR enrollments through ``openssl_cmp.Context`` vs the same loop in C (issue 3).

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

import argparse
import cProfile
import datetime
import importlib.util
import io
import os
import platform
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
C_DIR = os.path.join(HERE, "c")
REF = b"bench-ref"
SECRET = b"bench-secret"
SUBJECT = "/CN=bench"
STEPS = ["new", "log_verbosity", "reference_value", "secret_value", "subject_name",
         "set_new_pkey", "transfer", "exec_ir", "status", "free"]
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

CDEF = """
typedef ... OSSL_CMP_SRV_CTX;
OSSL_CMP_SRV_CTX *bench_server_new(const char *cert_pem, const unsigned char *ref, int ref_len,
                                   const unsigned char *secret, int secret_len);
void bench_server_free(OSSL_CMP_SRV_CTX *srv);
void bench_server_counts(OSSL_CMP_SRV_CTX *srv, long *cert_requests, long *cert_confs);
int bench_c_run(OSSL_CMP_SRV_CTX *srv, const char *key_pem, const char *cert_pem,
                const unsigned char *ref, int ref_len, const unsigned char *secret,
                int secret_len, int n, double *elapsed_ns, double *steps);
#define BENCH_NSTEPS ...
"""


class BenchError(Exception):
    """Setup failed or an enrollment did not succeed: the figures would be meaningless."""


# -- setup ---------------------------------------------------------------------------------
def run(cmd, cwd=None):
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BenchError("%s failed (exit %d):\n%s%s" % (" ".join(cmd), proc.returncode,
                                                         proc.stdout, proc.stderr))
    return proc.stdout


def make_credentials(tmp, openssl):
    """EC P-256 key and a self-signed certificate for it (the one the server returns)."""
    run([openssl, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-out", "key.pem"], cwd=tmp)
    run([openssl, "req", "-x509", "-new", "-key", "key.pem", "-subj", SUBJECT, "-days", "30",
         "-out", "cert.pem"], cwd=tmp)
    return os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")


def build_c_program(tmp, cc):
    exe = os.path.join(tmp, "enroll_baseline")
    run([cc, "-O2", "-o", exe, os.path.join(C_DIR, "enroll_baseline.c"), "-lcrypto"])
    return exe


def build_cffi_module(tmp):
    """The fixed server (and the C loop, for the in-process cross-check) as a cffi module."""
    from cffi import FFI

    ffi = FFI()
    ffi.cdef(CDEF)
    ffi.set_source("bench_fixed_server", '#include "fixed_server.c"\n#include "enroll_loop.c"\n',
                   include_dirs=[C_DIR], libraries=["crypto"], extra_compile_args=["-O2"])
    quiet = io.StringIO()
    stdout, sys.stdout = sys.stdout, quiet  # setuptools chatter
    try:
        path = ffi.compile(tmpdir=tmp, verbose=False)
    except Exception as exc:
        raise BenchError("cannot build the cffi server module: %s\n%s"
                         % (exc, quiet.getvalue())) from exc
    finally:
        sys.stdout = stdout
    spec = importlib.util.spec_from_file_location("bench_fixed_server", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- the three runners ---------------------------------------------------------------------
class CProgram:
    """The standalone C baseline, one child process per call."""

    def __init__(self, exe, cert_path, key_path, warmup):
        self.exe, self.cert_path, self.key_path, self.warmup = exe, cert_path, key_path, warmup

    def run(self, n, steps=False):
        cmd = [self.exe, self.cert_path, self.key_path, str(n), str(self.warmup),
               REF.decode(), SECRET.decode()] + (["steps"] if steps else [])
        proc = subprocess.run(cmd, capture_output=True, text=True)
        fields = dict(item.split("=", 1) for item in proc.stdout.split())
        if proc.returncode != 0 or "us_per_enroll" not in fields:
            raise BenchError("C baseline failed (exit %d): %s %s"
                             % (proc.returncode, proc.stdout.strip(), proc.stderr.strip()))
        for key in ("ok", "cert_requests", "cert_confs"):
            if int(fields[key]) != n:
                raise BenchError("C baseline: %s=%s, expected %d" % (key, fields[key], n))
        result = {"us": float(fields["us_per_enroll"])}
        if steps:
            result["steps"] = {s: float(fields["step_" + s]) for s in STEPS}
        return result


class Server:
    """The fixed C server in this process (cffi module), shared by both in-process runners."""

    def __init__(self, module, cert_pem):
        self.module = module
        self.ptr = module.lib.bench_server_new(cert_pem, REF, len(REF), SECRET, len(SECRET))
        if self.ptr == module.ffi.NULL:
            from openssl_cmp.errors import drain

            raise BenchError("bench_server_new failed: %s" % "; ".join(map(str, drain())))

    def counts(self):
        ffi = self.module.ffi
        req, conf = ffi.new("long *"), ffi.new("long *")
        self.module.lib.bench_server_counts(self.ptr, req, conf)
        return req[0], conf[0]

    def check(self, before, n, who):
        req, conf = self.counts()
        if (req - before[0], conf - before[1]) != (n, n):
            raise BenchError("%s: server saw %d cert requests and %d certConfs for %d "
                             "enrollments" % (who, req - before[0], conf - before[1], n))

    def close(self):
        if self.ptr is not None:
            self.module.lib.bench_server_free(self.ptr)
            self.ptr = None


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


class PythonContext:
    """The loop through openssl_cmp.Context."""

    def __init__(self, server, cert_pem, key_pem):
        import openssl_cmp
        from openssl_cmp import Certificate, Name, PrivateKey, binding

        self.openssl_cmp = openssl_cmp
        self.server = server
        self.key = PrivateKey.from_pem(key_pem)  # the same key as the C side, loaded once
        self.expected = Certificate.from_pem(cert_pem)
        self.subject = Name.parse(SUBJECT)  # built once, like the C side's X509_NAME
        # the pointer from our module's ffi, re-typed for openssl_cmp's ffi
        self.srv_ptr = binding.ffi.cast("OSSL_CMP_SRV_CTX *",
                                        int(server.module.ffi.cast("uintptr_t", server.ptr)))

    def _check(self, n, ok, failures, before):
        if ok != n:
            raise BenchError("Python: %d of %d enrollments succeeded; first failure: %r"
                             % (ok, n, failures[0] if failures else None))
        self.server.check(before, n, "Python")

    def run(self, n, steps=False):
        if steps:
            return self._run_steps(n)
        Context = self.openssl_cmp.Context
        CMPError = self.openssl_cmp.CMPError
        err_level = self.openssl_cmp.LogLevel.ERR
        accepted = self.openssl_cmp.PKIStatus.ACCEPTED
        key, expected, subject, srv = self.key, self.expected, self.subject, self.srv_ptr
        ok, failures = 0, []
        before = self.server.counts()
        t0 = time.perf_counter_ns()
        for _ in range(n):
            ctx = Context()
            try:
                ctx.log_verbosity = err_level
                ctx.reference_value = REF
                ctx.secret_value = SECRET
                ctx.subject_name = subject
                ctx.set_new_pkey(key)
                ctx.attach_srv_ctx(srv)
                cert = ctx.exec_ir()
                if ctx.status == accepted and cert == expected:
                    ok += 1
                else:
                    failures.append("status %r or certificate differs" % (ctx.status,))
            except CMPError as exc:
                failures.append(exc)
            finally:
                ctx.close()
        elapsed = time.perf_counter_ns() - t0
        self._check(n, ok, failures, before)
        return {"us": elapsed / 1e3 / n}

    def _run_steps(self, n):
        """The same loop with a clock read between steps (for the per-step table)."""
        Context = self.openssl_cmp.Context
        err_level = self.openssl_cmp.LogLevel.ERR
        accepted = self.openssl_cmp.PKIStatus.ACCEPTED
        key, expected, subject, srv = self.key, self.expected, self.subject, self.srv_ptr
        clock = time.perf_counter_ns
        acc = dict.fromkeys(STEPS, 0)
        ok = 0
        before = self.server.counts()
        for _ in range(n):
            t0 = clock()
            ctx = Context()
            t1 = clock()
            ctx.log_verbosity = err_level
            t2 = clock()
            ctx.reference_value = REF
            t3 = clock()
            ctx.secret_value = SECRET
            t4 = clock()
            ctx.subject_name = subject
            t5 = clock()
            ctx.set_new_pkey(key)
            t6 = clock()
            ctx.attach_srv_ctx(srv)
            t7 = clock()
            cert = ctx.exec_ir()
            t8 = clock()
            ok += ctx.status == accepted and cert == expected
            t9 = clock()
            ctx.close()
            t10 = clock()
            for step, a, b in zip(STEPS, (t0, t1, t2, t3, t4, t5, t6, t7, t8, t9),
                                  (t1, t2, t3, t4, t5, t6, t7, t8, t9, t10)):
                acc[step] += b - a
        self._check(n, ok, [], before)
        return {"steps": {s: acc[s] / 1e3 / n for s in STEPS}}

    def micro(self, number=20000):
        """Hot-loop µs per call of each public call of the loop, next to the bare cffi call(s)
        it wraps (through openssl_cmp's own ``lib``), and of the pieces every call shares.
        Best of 5 ``timeit`` repeats; one long-lived context.  In the enrollment loop the
        same calls cost about twice as much (caches are cold after exec_ir): see the
        per-step table."""
        import threading
        import timeit

        from openssl_cmp import Certificate, Context, LogLevel, Name, Option, PKIStatus
        from openssl_cmp import callbacks
        from openssl_cmp.binding import ffi, lib

        ctx = Context()
        env = {"ctx": ctx, "p": ctx.ptr, "lib": lib, "ffi": ffi, "key": self.key,
               "kp": self.key.ptr, "name": self.subject, "np": self.subject.ptr,
               "srv": self.srv_ptr, "cert": self.expected, "cp": self.expected.ptr,
               "ERR": LogLevel.ERR, "OPT": Option.LOG_VERBOSITY, "REF": REF,
               "SECRET": SECRET, "Context": Context, "Certificate": Certificate,
               "Name": Name, "Option": Option, "PKIStatus": PKIStatus,
               "running": callbacks.running, "state": ctx._state, "lock": ctx._lock,
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
            ("-- with callbacks.running(state): pass", t("with running(state): pass"), None),
            ("-- with ctx._lock: pass (RLock)", t("with lock: pass"), None),
            ("-- lib.ERR_clear_error()", t("lib.ERR_clear_error()"), None),
            ("-- Option(0) / PKIStatus(0) (enum lookup)", t("Option(0)"), None),
            ("-- Name._copied(ptr) (+ its free)", t("Name._copied(np)"),
             t("lib.X509_NAME_free(lib.X509_NAME_dup(np))")),
            ("-- ffi.addressof(lib, 'OSSL_CMP_CTX_server_perform')",
             t("ffi.addressof(lib, 'OSSL_CMP_CTX_server_perform')"), None),
        ]
        ctx.close()
        return rows


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


# -- reporting -----------------------------------------------------------------------------
def machine_facts(openssl):
    from openssl_cmp import binding
    import cffi

    cc_version = run([os.environ.get("CC", "gcc"), "--version"]).splitlines()[0]
    try:
        cli = run([openssl, "version"]).strip()
    except (BenchError, OSError):
        cli = "n/a"
    return [
        ("date", datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")),
        ("nproc", str(os.cpu_count())),
        ("CPU", _cpu_model()),
        ("OpenSSL (libcrypto loaded)", binding.OPENSSL_VERSION),
        ("openssl CLI", cli),
        ("Python", "%s (%s)" % (platform.python_version(), platform.python_implementation())),
        ("cffi", cffi.__version__),
        ("compiler", cc_version),
        ("openssl_cmp", _git_revision()),
        ("OS", platform.platform()),
    ]


def _git_revision():
    """The commit measured, and whether the work tree had uncommitted library changes."""
    root = os.path.dirname(HERE)
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "openssl_cmp"],
                               cwd=root, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "unknown"
    if not head:
        return "unknown"
    return "git %s%s" % (head, " + uncommitted changes in openssl_cmp/" if dirty else "")


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def summary(values):
    return statistics.median(values), min(values), max(values)


def print_results(results, n, rounds):
    c = summary(results["C"])
    py = summary(results["Python"])
    cin = summary(results["C in-process"])
    bare = summary(results["bare cffi"])
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
    per_round = statistics.median(p / q for p, q in zip(results["Python"], results["C"]))
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
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=1000,
                        help="enrollments per side per round (default 1000)")
    parser.add_argument("--rounds", type=int, default=11,
                        help="timed rounds, sides alternating (default 11)")
    parser.add_argument("--warmup", type=int, default=100,
                        help="untimed warm-up enrollments per side (default 100; the C "
                             "program also warms up this many in each of its processes)")
    parser.add_argument("--steps", type=int, default=1000,
                        help="enrollments per side for the per-step table "
                             "(default 1000; 0 skips it)")
    parser.add_argument("--profile", action="store_true",
                        help="also cProfile one Python run of N enrollments")
    parser.add_argument("--micro", action="store_true",
                        help="also time each Context call in a hot loop next to the bare "
                             "cffi call(s) it wraps")
    parser.add_argument("--keep-tmp", action="store_true",
                        help="keep the temporary build directory (its path is printed)")
    args = parser.parse_args(argv)
    if args.n <= 0 or args.rounds <= 0 or args.warmup < 0 or args.steps < 0:
        parser.error("-n and --rounds must be positive, --warmup and --steps >= 0")

    openssl = os.environ.get("OPENSSL_CMD", "openssl")
    cc = os.environ.get("CC", "gcc")
    tmp = tempfile.mkdtemp(prefix="bench_enroll_")
    started = time.monotonic()
    server = None
    try:
        print("# Enrollment through Context vs C")
        print()
        for key, value in machine_facts(openssl):
            print("- %s: %s" % (key, value))
        print("- command: python %s" % " ".join([os.path.relpath(__file__)] + sys.argv[1:]
                                                 if argv is None else argv))

        cert_path, key_path = make_credentials(tmp, openssl)
        with open(cert_path, "rb") as f:
            cert_pem = f.read()
        with open(key_path, "rb") as f:
            key_pem = f.read()
        exe = build_c_program(tmp, cc)
        module = build_cffi_module(tmp)
        server = Server(module, cert_pem)
        python_runner = PythonContext(server, cert_pem, key_pem)
        runners = {
            "C": CProgram(exe, cert_path, key_path, args.warmup),
            "Python": python_runner,
            "C in-process": CInProcess(server, cert_pem, key_pem),
            "bare cffi": BareCffi(python_runner),
        }
        print("- setup (key, certificate, builds): %.1f s" % (time.monotonic() - started))

        # warm-up: the C program warms up inside each of its processes
        if args.warmup:
            for name in ("Python", "C in-process", "bare cffi"):
                runners[name].run(args.warmup)

        results = {name: [] for name in runners}
        order = list(runners)
        for r in range(args.rounds):
            for name in (order if r % 2 == 0 else order[::-1]):
                results[name].append(runners[name].run(args.n)["us"])
            print("  round %d/%d (µs): %s" % (r + 1, args.rounds, "  ".join(
                "%s %.1f" % (name, results[name][-1]) for name in order)), flush=True)
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
            print_micro(runners["Python"].micro())

        if args.profile:
            profile_python(runners["Python"], args.n, 30)

        print()
        print("Every timed enrollment returned the pre-issued certificate with status "
              "accepted; the server saw one cert request and one certConf for each.")
        print("Total time: %.1f s" % (time.monotonic() - started))
        return 0
    except BenchError as exc:
        print("\nBENCHMARK FAILED: %s" % exc, file=sys.stderr)
        return 1
    finally:
        if server is not None:
            server.close()
        if args.keep_tmp:
            print("temporary directory kept: %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
