"""What the benchmarks share: the C baseline, the Python enrollment loop against it,
interleaved rounds, medians and ratios, the report header, argument parsing and fixtures.

The C baseline (``c/``) is built on the spot, in the same run as the Python side, so that a
ratio holds on a noisy machine:

* ``c/enroll_baseline.c`` (+ ``c/enroll_loop.c``) compiled with ``gcc -O2 ... -lcrypto`` into
  a program run as a child process (``CProgram``); it times its own loop (``clock_gettime``)
  after an untimed warm-up and prints microseconds per enrollment;
* ``c/fixed_server.c`` and ``c/enroll_loop.c`` compiled into a small cffi API-mode module
  loaded into this process (``build_cffi_module``): an ``OSSL_CMP_SRV_CTX`` whose
  cert_request callback returns one fixed, pre-issued certificate and whose certConf
  returns 1, with PBM protection and log verbosity ERR (``CServer``), and the C loop
  callable from Python.

Every enrollment of the C side and of ``PythonContext`` is checked (the certificate, the
status, the server's callback counts); a failure raises ``BenchError``, which ``run_main``
turns into exit status 1.  Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

# subprocess, statistics, cProfile, platform, tempfile and cffi are imported where used:
# the soak script imports this module too, and what it measures is resident memory.

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
C_DIR = os.path.join(HERE, "c")
REF = b"bench-ref"
SECRET = b"bench-secret"
SUBJECT = "/CN=bench"
# the steps of the C loop (enroll_loop.c), in order, as its "steps" mode times them
STEPS = ["new", "log_verbosity", "reference_value", "secret_value", "subject_name",
         "set_new_pkey", "transfer", "exec_ir", "status", "free"]

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


# -- building the C baseline ---------------------------------------------------------------
def run(cmd, cwd=None):
    import subprocess

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


def build_c_program(tmp, cc, name="enroll_baseline", libs=("-lcrypto",)):
    """``c/<name>.c`` compiled with -O2 into ``tmp``; returns the executable's path."""
    exe = os.path.join(tmp, name)
    run([cc, "-O2", "-o", exe, os.path.join(C_DIR, name + ".c"), *libs])
    return exe


def build_cffi_module(tmp, name="bench_fixed_server", cdef=CDEF,
                      sources=("fixed_server.c", "enroll_loop.c")):
    """C files of ``c/`` (``sources``, #included in that order) compiled with -O2 into the
    cffi API-mode module ``name`` declaring ``cdef``, built in ``tmp`` and loaded.  The
    default: the fixed server and the C loop (for the in-process cross-check)."""
    import importlib.util
    import io

    from cffi import FFI

    ffi = FFI()
    ffi.cdef(cdef)
    ffi.set_source(name, "".join('#include "%s"\n' % f for f in sources),
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
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Baseline:
    """Everything the C side needs, built in ``tmp``: the credentials (files and PEM), the
    C program and the cffi module.  ``server()`` starts a fixed C server in this process."""

    def __init__(self, tmp, openssl, cc):
        self.cert_path, self.key_path = make_credentials(tmp, openssl)
        with open(self.cert_path, "rb") as f:
            self.cert_pem = f.read()
        with open(self.key_path, "rb") as f:
            self.key_pem = f.read()
        self.exe = build_c_program(tmp, cc)
        self.module = build_cffi_module(tmp)

    def program(self, warmup):
        return CProgram(self.exe, self.cert_path, self.key_path, warmup)

    def server(self):
        return CServer(self.module, self.cert_pem)


# -- fixtures of the in-process runners ---------------------------------------------------
class Fixture:
    """What every Python runner shares: the C side's key and fixed certificate, loaded
    once, and the subject; ``enroll_loop`` is the loop of the Python runners that reach
    their server through ``connect(ctx)``."""

    def __init__(self, cert_pem, key_pem):
        import openssl_cmp
        from openssl_cmp import Certificate, Name, PrivateKey

        self.m = openssl_cmp
        self.key = PrivateKey.from_pem(key_pem)  # the C side's key, loaded once
        self.key_public_der = self.key.public_key().to_der()
        self.cert = Certificate.from_pem(cert_pem)  # the C server's certificate
        self.subject = Name.parse(SUBJECT)

    def enroll_loop(self, n, connect, expected, who):
        """n enrollments (``context_loop``): configured as the C loop, ``connect(ctx)``,
        exec IR, check status and ``cert == expected()``.  Returns elapsed ns."""
        accepted = self.m.PKIStatus.ACCEPTED
        key, subject = self.key, self.subject

        def prepare(ctx):
            ctx.subject_name = subject
            ctx.set_new_pkey(key)
            connect(ctx)

        def enroll(ctx):
            cert = ctx.exec_ir()
            if cert is not None and ctx.status == accepted and cert == expected():
                return None
            return ("status %r, certificate %r differs from the expected one"
                    % (ctx.status, cert))

        return context_loop(n, prepare, enroll, who, "enrollments")


def context_loop(n, prepare, operation, who, what):
    """The loop of the Python runners, as the C loops do it: n times a new Context with log
    verbosity ERR and the PBM reference and secret, ``prepare(ctx)`` (the rest of the
    configuration and the transfer), ``operation(ctx)`` (None when its result is right,
    else what is wrong), close.  Returns elapsed ns; BenchError unless all n were right."""
    from openssl_cmp import Context, LogLevel

    err = LogLevel.ERR
    ok, failures = 0, []
    t0 = time.perf_counter_ns()
    for _ in range(n):
        ctx = Context()
        try:
            ctx.log_verbosity = err
            ctx.reference_value = REF
            ctx.secret_value = SECRET
            prepare(ctx)
            wrong = operation(ctx)
            if wrong is None:
                ok += 1
            else:
                failures.append(wrong)
        except Exception as exc:  # noqa: BLE001 - reported below, exits non-zero
            failures.append(exc)
        finally:
            ctx.close()
    elapsed = time.perf_counter_ns() - t0
    if ok != n:
        raise BenchError("%s: %d of %d %s succeeded; first failure: %r"
                         % (who, ok, n, what, failures[0] if failures else None))
    return elapsed


# -- the runners every benchmark compares against ------------------------------------------
class CProgram:
    """The standalone C baseline, one child process per call."""

    def __init__(self, exe, cert_path, key_path, warmup):
        self.exe, self.cert_path, self.key_path, self.warmup = exe, cert_path, key_path, warmup

    def run(self, n, steps=False):
        import subprocess

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


class CServer:
    """A C server of a cffi module in this process, shared by the in-process runners:
    ``lib.<prefix>_new(cert_pem, ref, ref_len, secret, secret_len)``, freed by
    ``lib.<prefix>_free``.  By default the fixed server (``counts``/``check`` are its)."""

    def __init__(self, module, cert_pem, prefix="bench_server"):
        self.module, self.prefix = module, prefix
        self.ptr = getattr(module.lib, prefix + "_new")(cert_pem, REF, len(REF), SECRET,
                                                        len(SECRET))
        if self.ptr == module.ffi.NULL:
            from openssl_cmp.errors import drain

            raise BenchError("%s_new failed: %s" % (prefix, "; ".join(map(str, drain()))))

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
            getattr(self.module.lib, self.prefix + "_free")(self.ptr)
            self.ptr = None


def srv_pointer(module, ptr):
    """``ptr``, an ``OSSL_CMP_SRV_CTX *`` of the cffi ``module``, re-typed for openssl_cmp's
    ffi (for ``ctx.attach_srv_ctx``): each ffi only accepts its own pointers."""
    from openssl_cmp import binding

    return binding.ffi.cast("OSSL_CMP_SRV_CTX *", int(module.ffi.cast("uintptr_t", ptr)))


class PythonContext:
    """The loop through openssl_cmp.Context against the fixed C server: the C loop's steps,
    one Python call each (``ctx.attach_srv_ctx`` is the transfer)."""

    def __init__(self, server, fixture):
        import openssl_cmp

        self.openssl_cmp = openssl_cmp
        self.server = server
        self.key = fixture.key  # the same key as the C side
        self.expected = fixture.cert
        self.subject = fixture.subject  # built once, like the C side's X509_NAME
        self.srv_ptr = srv_pointer(server.module, server.ptr)

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
        """The same loop with a clock read between steps (for a per-step table)."""
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


# -- fixtures for the HTTP benchmarks ------------------------------------------------------
def pbm_context(key, subject=SUBJECT, reference=REF, secret=SECRET):
    """A client Context as every benchmark configures it: log verbosity ERR, PBM reference
    and secret, ``subject``, ``key`` for POPO."""
    from openssl_cmp import Context, LogLevel

    ctx = Context()
    ctx.log_verbosity = LogLevel.ERR
    ctx.reference_value, ctx.secret_value = reference, secret
    ctx.subject_name = subject
    ctx.set_new_pkey(key)
    return ctx


def loopback_tls(ca_name):
    """A test CA named ``ca_name`` and a server certificate and key it issued for
    127.0.0.1 (EC P-256): ``(ca, server_cert, server_key)``."""
    from openssl_cmp import Certificate, Extensions, PrivateKey

    ca_key = PrivateKey.generate("EC")
    ca = Certificate.create(ca_name, ca_key, ca_key, ca=True)
    srv_key = PrivateKey.generate("EC")
    srv = Certificate.create("/CN=localhost", srv_key, ca_key, issuer=ca,
                             extensions=Extensions({"subjectAltName": "IP:127.0.0.1"}))
    return ca, srv, srv_key


# -- rounds, medians, ratios ---------------------------------------------------------------
def interleaved_rounds(names, rounds, measure, line):
    """``measure(name)`` for every name once per round, the order reversed every other round
    so that drift hits every runner alike; ``line(r, results)`` is printed after round r.
    Returns {name: [value per round]}."""
    names = list(names)
    results = {name: [] for name in names}
    for r in range(rounds):
        for name in (names if r % 2 == 0 else names[::-1]):
            results[name].append(measure(name))
        print(line(r, results), flush=True)
    return results


def round_line(head, r, rounds, results, fmt, unit=""):
    """``head r/rounds unit: name value  name value ...`` (the last value of each)."""
    return "%s %d/%d%s: %s" % (head, r + 1, rounds, unit, "  ".join(
        fmt % (name, values[-1]) for name, values in results.items()))


def summary(values):
    import statistics

    return statistics.median(values), min(values), max(values)


def per_round_ratio(values, reference):
    """Median of the per-round ratios ``values[i] / reference[i]``."""
    import statistics

    return statistics.median(p / q for p, q in zip(values, reference))


def met(ok):
    return "met" if ok else "**NOT met**"


def profile_runner(runner, n, label):
    """cProfile one run of n enrollments; a table per enrollment, openssl_cmp functions and
    the libcrypto calls (built-ins) they make, by own time."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    runner.run(n)
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    rows = []
    for (path, line, func), (cc, nc, tt, ct, _callers) in stats.items():
        if path == "~":
            where = func  # built-in: a cffi call into libcrypto, or a C builtin
        else:
            rel = os.path.relpath(path, ROOT) if path.startswith(ROOT) else os.path.basename(path)
            where = "%s:%d %s" % (rel, line, func)
        rows.append((tt, ct, nc, where))
    rows.sort(reverse=True)
    print()
    print("#### cProfile: %s, %d enrollments (µs per enrollment; the profiler inflates "
          "Python-level costs)" % (label, n))
    print()
    print("| function | calls / enrollment | own µs | cumulative µs |")
    print("|---|---:|---:|---:|")
    for tt, ct, nc, where in rows[:22]:
        print("| `%s` | %.1f | %.1f | %.1f |" % (where, nc / n, tt / n * 1e6, ct / n * 1e6))


# -- report header -------------------------------------------------------------------------
def machine_facts(openssl):
    import datetime
    import platform

    import cffi
    from openssl_cmp import binding

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
    import subprocess

    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "openssl_cmp"],
                               cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "unknown"
    if not head:
        return "unknown"
    return "git %s%s" % (head, " + uncommitted changes in openssl_cmp/" if dirty else "")


def _cpu_model():
    import platform

    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


# -- command line and the run itself -------------------------------------------------------
def parser(doc, *, n, n_help=None, rounds=None, rounds_help=None, warmup=None,
           warmup_help=None, keep_tmp=False):
    """An ArgumentParser with the options the benchmarks share: ``-n`` and, when their
    default is given, ``--rounds`` and ``--warmup``; ``--keep-tmp`` when asked for."""
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    p.add_argument("-n", type=int, default=n, help=n_help)
    if rounds is not None:
        p.add_argument("--rounds", type=int, default=rounds, help=rounds_help)
    if warmup is not None:
        p.add_argument("--warmup", type=int, default=warmup, help=warmup_help)
    if keep_tmp:
        p.add_argument("--keep-tmp", action="store_true",
                       help="keep the temporary directory (its path is printed)")
    return p


class Run:
    """One benchmark run: its temporary directory, tools, start time and cleanups."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.openssl = os.environ.get("OPENSSL_CMD", "openssl")
        self.cc = os.environ.get("CC", "gcc")
        self.started = time.monotonic()
        self._cleanups = []

    def elapsed(self):
        return time.monotonic() - self.started

    def on_exit(self, cleanup):
        self._cleanups.append(cleanup)

    def baseline(self):
        """Build the C side (credentials, program, cffi module) in this run's directory."""
        return Baseline(self.tmp, self.openssl, self.cc)

    def close(self):
        while self._cleanups:
            self._cleanups.pop()()


def run_main(title, script, argv, args, body, tmp_prefix):
    """Print the header (title, machine facts, command), run ``body(run)``, print the total
    time.  A BenchError exits with status 1; the temporary directory is removed (unless
    ``args.keep_tmp``)."""
    import shutil
    import tempfile

    run_ = Run(tempfile.mkdtemp(prefix=tmp_prefix))
    try:
        print("# " + title)
        print()
        for key, value in machine_facts(run_.openssl):
            print("- %s: %s" % (key, value))
        print("- command: python %s" % " ".join([os.path.relpath(script)]
                                                 + (sys.argv[1:] if argv is None else argv)))
        body(run_)
        print("Total time: %.1f s" % run_.elapsed())
        return 0
    except BenchError as exc:
        print("\nBENCHMARK FAILED: %s" % exc, file=sys.stderr)
        return 1
    finally:
        run_.close()
        if getattr(args, "keep_tmp", False):
            print("temporary directory kept: %s" % run_.tmp)
        else:
            shutil.rmtree(run_.tmp, ignore_errors=True)
