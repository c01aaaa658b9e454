"""Benchmark: serving and enrolling at scale, side by side in one run.

    python benchmarks/bench_scale.py [-n 300] [--rounds 2] [--clients 8] [--workers 2]
                                     [--batch-n 2000] [--rss-n 20000] [--rss-full]

Every enrollment is an IR with PBM (reference/secret of ``harness``), the key of
``harness.make_credentials`` (generated before timing), subject /CN=bench, and is checked
(status accepted, the expected certificate); a failure exits with status 1.  The load
average (``os.getloadavg``, 1 minute) is printed next to every figure: the machine's cores
are shared.

(a) One client, keep-alive off (``Option.KEEP_ALIVE`` = 0: a connection per message, IR and
    certConf): enrollments/s against OpenSSL's C mock server (``openssl cmp -port 0
    -srv_ref … -srv_secret … -rsp_cert cert.pem``, a fixed certificate) and against our
    ASGI app under uvicorn, one worker process, with a fixed-certificate handler (the
    ``Server`` subclass of ``bench_server.make_fixed_server``), interleaved rounds;
    target: ours / C ≥ 1.0.
(b) Our best server (``serve_workers``: ``--workers`` uvicorn processes forked on one
    socket, the fixed-certificate handler) with 1 and with ``--clients`` concurrent clients
    (threads of this process): the server processes' CPU time per enrollment, from
    ``/proc/<pid>/stat`` (utime + stime of the parent and its workers); target: at N
    clients ≤ 1.1 × at 1 client; and the server's CPU time / wall time (> 1: more than one
    core).
(c) ``enroll_many`` in-process against ``MockCA.attach`` (a real certificate issued per
    enrollment): enrollments/s with 1 and 2 workers; target: 2 workers ≥ 1.7 × 1.  Next to
    it, in the same interleaved rounds, the ceiling: OpenSSL's own in-process enrollments
    (``c/enroll_threads.c``, fixed server, no Python) on 1 and 2 threads.
(d) RSS of this process over ``--rss-n`` in-process enrollments against
    ``MockCA(max_records=100)`` (its records are bounded, so growth would be a leak),
    sampled ten times; ``--rss-full`` runs 100,000.

No timing is asserted: this is a measurement, not a test.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import harness
from harness import BenchError, met

TARGET_A = 1.0
TARGET_B = 1.1
TARGET_C = 1.7


def load():
    return "load %.2f" % os.getloadavg()[0]


# -- servers -------------------------------------------------------------------------------
def serve_fixed(port, workers, cert_pem, key_pem):
    """The child process of (a) and (b): the fixed-certificate Server's ASGI app under
    ``workers`` uvicorn processes (``openssl_cmp.cli._serve.serve_workers``)."""
    import bench_server
    from openssl_cmp.cli._serve import serve_workers

    with open(cert_pem, "rb") as f, open(key_pem, "rb") as g:
        fixture = harness.Fixture(f.read(), g.read())
    server = bench_server.make_fixed_server(fixture)
    server.ca_cert = server.cert  # what serve_workers names in its banner
    server.grant_implicit_confirm = True  # only for clients asking for it: (b)
    return serve_workers(server, "127.0.0.1", port, workers)


class Child:
    """A server process listening on a port; its process tree's CPU time from /proc."""

    def __init__(self, argv, port=None):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, stdin=subprocess.DEVNULL)
        self.port = port if port is not None else self._accept_line()
        self._wait_listening()

    def _accept_line(self):
        import re

        for line in self.proc.stdout:  # openssl cmp -port 0 prints ACCEPT <addr>:<port>
            m = re.match(r"^ACCEPT .*:(\d+) PID=\d+$", line.strip())
            if m:
                threading.Thread(target=self.proc.stdout.read, daemon=True).start()
                return int(m.group(1))
        raise BenchError("the server exited before listening")

    def _wait_listening(self):
        import socket

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError("the server exited: %s" % self.proc.stdout.read())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise BenchError("nothing listens on port %d" % self.port)

    @property
    def url(self):
        return "http://127.0.0.1:%d/pkix/" % self.port

    def pids(self):
        """The server process and its children (the uvicorn workers)."""
        pids = [self.proc.pid]
        try:
            with open("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)) as f:
                pids += [int(p) for p in f.read().split()]
        except OSError:
            pass
        return pids

    def cpu(self):
        """{pid: utime + stime in seconds} of the server's processes."""
        tick = os.sysconf("SC_CLK_TCK")
        times = {}
        for pid in self.pids():
            try:
                with open("/proc/%d/stat" % pid) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            times[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        return times

    def close(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(60)


def _free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ours(run, workers):
    port = _free_port()
    child = Child([sys.executable, os.path.abspath(__file__), "--serve-fixed", str(port),
                   str(workers), run.cert_pem, run.key_pem], port)
    run.on_exit(child.close)
    return child


def c_mock(run):
    child = Child([run.openssl, "cmp", "-config", "", "-port", "0", "-srv_ref",
                   harness.REF.decode(), "-srv_secret", "pass:" + harness.SECRET.decode(),
                   "-rsp_cert", run.cert_pem, "-verbosity", "3"])
    run.on_exit(child.close)
    return child


# -- clients -------------------------------------------------------------------------------
def http_enroll(fixture, url, n, who, implicit=False):
    """n enrollments over HTTP with keep-alive off (``implicit``: asking for implicit
    confirmation, one message per enrollment); returns elapsed seconds."""
    from openssl_cmp import Option

    def connect(ctx):
        ctx.set_url(url)
        ctx.set_option(Option.KEEP_ALIVE, 0)
        if implicit:
            ctx.set_option(Option.IMPLICIT_CONFIRM, 1)

    return fixture.enroll_loop(n, connect, lambda: fixture.cert, who) / 1e9


def concurrent_enroll(fixture, url, clients, per_client):
    """``clients`` threads, ``per_client`` enrollments each; returns elapsed seconds."""
    errors = []

    def client(i):
        try:
            http_enroll(fixture, url, per_client, "client %d" % i, implicit=True)
        except BaseException as exc:  # noqa: BLE001 - reported after the join
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise BenchError("a client failed: %r" % errors[0])
    return time.perf_counter() - t0


# -- the four parts ------------------------------------------------------------------------
def part_a(run, fixture, args):
    print("\n## (a) one client, keep-alive off: C mock server vs our ASGI app (1 uvicorn "
          "worker, fixed certificate)\n")
    servers = {"C openssl cmp -port": c_mock(run), "ours: asgi_app under uvicorn": ours(run, 1)}
    cpu = {name: [] for name in servers}

    def measure(name):
        before = servers[name].cpu()
        rate = args.n / http_enroll(fixture, servers[name].url, args.n, name)
        after = servers[name].cpu()
        cpu[name].append(sum(after[p] - before.get(p, 0.0) for p in after) / args.n)
        return rate

    for name, child in servers.items():
        http_enroll(fixture, child.url, 20, name)  # warm-up
    rates = harness.interleaved_rounds(
        servers, args.rounds, measure,
        lambda r, res: harness.round_line("round", r, args.rounds, res, "%s %.0f/s",
                                          " (%s)" % load()))
    c_rates, our_rates = rates["C openssl cmp -port"], rates["ours: asgi_app under uvicorn"]
    ratio = harness.per_round_ratio(our_rates, c_rates)
    print("\n| server | enrollments/s (median, min, max) | server CPU ms / enrollment "
          "(median) |\n|---|---:|---:|")
    for name, values in rates.items():
        print("| %s | %.0f (%.0f, %.0f) | %.2f |" % ((name,) + harness.summary(values)
                                                     + (harness.summary(cpu[name])[0] * 1e3,)))
    print("\nours / C = %.2f × (target ≥ %.1f: %s), %s" % (ratio, TARGET_A,
                                                         met(ratio >= TARGET_A), load()))


def part_b(run, fixture, args):
    print("\n## (b) %d clients vs 1 against `serve_workers` (%d uvicorn workers, fixed "
          "certificate), keep-alive off, implicit confirmation (a transaction's messages "
          "must not be spread over workers: docs/scale.md)\n" % (args.clients, args.workers))
    child = ours(run, args.workers)
    http_enroll(fixture, child.url, 20, "warm-up", implicit=True)
    print("| round | clients | enrollments/s | server CPU ms / enrollment | server CPU / wall "
          "| per-process CPU s | load |\n|---|---:|---:|---:|---:|---|---|")
    per = {1: [], args.clients: []}
    for r in range(args.rounds):
        for clients in (1, args.clients) if r % 2 == 0 else (args.clients, 1):
            per_client = max(1, args.n // clients)
            before = child.cpu()
            wall = concurrent_enroll(fixture, child.url, clients, per_client)
            after = child.cpu()
            used = {pid: after[pid] - before.get(pid, 0.0) for pid in after}
            total = sum(used.values())
            n = per_client * clients
            per[clients].append(total / n)
            print("| %d | %d | %.0f | %.3f | %.2f | %s | %s |" % (
                r + 1, clients, n / wall, total / n * 1e3, total / wall,
                " ".join("%.2f" % used[p] for p in sorted(used)), load()))
    ratio = harness.summary(per[args.clients])[0] / harness.summary(per[1])[0]
    print("\nCPU per enrollment at %d clients / at 1 = %.2f × (target ≤ %.1f: %s)"
          % (args.clients, ratio, TARGET_B, met(ratio <= TARGET_B)))


def c_threads_rate(run, exe, n, threads):
    """Enrollments/s of OpenSSL's own in-process enrollments on ``threads`` threads (``n``
    in total; each thread has a fixed server of its own: no GIL, nothing shared)."""
    out = harness.run([exe, run.cert_pem, run.key_pem, str(max(1, n // threads)),
                       str(threads), harness.REF.decode(), harness.SECRET.decode()])
    fields = dict(item.split("=", 1) for item in out.split())
    return float(fields["per_s"])


def part_c(run, fixture, args):
    from openssl_cmp import PrivateKey, enroll_many

    print("\n## (c) `enroll_many` in-process against `MockCA.attach` (%d enrollments), next "
          "to OpenSSL's own in-process enrollments on 1 and 2 threads (C, no GIL)\n"
          % args.batch_n)
    mock = harness_mock()
    keys = [PrivateKey.generate("EC") for _ in range(64)]  # before timing
    exe = harness.build_c_program(run.tmp, run.cc, "enroll_threads",  # the reference
                                  ("-lcrypto", "-lpthread"))

    def measure_py(workers):
        jobs = [mock.client(subject_name="/CN=b%d" % i, new_pkey=keys[i % len(keys)])
                for i in range(args.batch_n)]
        try:
            t0 = time.perf_counter()
            results = enroll_many(jobs, workers=workers)
            elapsed = time.perf_counter() - t0
        finally:
            for ctx in jobs:
                ctx.close()
        bad = [r for r in results if isinstance(r, Exception)]
        if bad:
            raise BenchError("enroll_many: %d failures, first %r" % (len(bad), bad[0]))
        return args.batch_n / elapsed

    def measure(name):
        kind, threads = name.split("-")
        if kind == "py":
            return measure_py(int(threads))
        return c_threads_rate(run, exe, args.batch_n, int(threads))

    measure("py-2")  # warm-up
    names = ["py-1", "py-2", "C-1", "C-2"]
    rates = harness.interleaved_rounds(
        names, args.rounds, measure,
        lambda r, res: harness.round_line("round", r, args.rounds, res, "%s %.0f/s",
                                          " (%s)" % load()))
    ratio = harness.per_round_ratio(rates["py-2"], rates["py-1"])
    c_ratio = harness.per_round_ratio(rates["C-2"], rates["C-1"])
    print("\n2 workers / 1 = %.2f × (target ≥ %.1f: %s) on %d cores, %s"
          % (ratio, TARGET_C, met(ratio >= TARGET_C), os.cpu_count(), load()))
    print("OpenSSL alone (C, 2 threads / 1) = %.2f ×: the ceiling on this machine; "
          "enroll_many reaches %.0f %% of it" % (c_ratio, 100 * ratio / c_ratio))


def harness_mock(max_records=1000):
    from openssl_cmp import LogLevel
    from openssl_cmp.testing import MockCA

    # a few keys are enrolled over and over; the records are bounded (part d)
    mock = MockCA(allow_key_reuse=True, max_records=max_records)
    mock.ctx.log_verbosity = LogLevel.ERR
    return mock


def part_d(run, fixture, args):
    from soak_http import rss_mib  # the soak's reading of /proc/self/statm

    from openssl_cmp import PrivateKey

    n = 100_000 if args.rss_full else args.rss_n
    print("\n## (d) RSS over %d in-process enrollments (`MockCA(max_records=100).client`, "
          "a real certificate each)\n" % n)
    mock = harness_mock(max_records=100)  # full after 100: later growth is not records
    key = PrivateKey.generate("EC")
    step = max(1, n // 10)
    samples = []
    t0 = time.perf_counter()
    print("| enrollments | RSS MiB | load |\n|---:|---:|---|")
    for i in range(1, n + 1):
        with mock.client(subject_name="/CN=r", new_pkey=key) as ctx:
            if ctx.exec_ir() is None:
                raise BenchError("enrollment %d returned no certificate" % i)
        if i % step == 0:
            samples.append(rss_mib())
            print("| %d | %.1f | %s |" % (i, samples[-1], load()), flush=True)
    growth = samples[-1] - samples[1] if len(samples) > 1 else 0.0
    print("\nRSS after %d: %.1f MiB; from 20%% to 100%% of the run: %+.1f MiB (%.2f KiB per "
          "1,000 enrollments); %.0f s" % (n, samples[-1], growth,
                                         growth * 1024 / max(1, (n - 2 * step)) * 1000,
                                         time.perf_counter() - t0))


def main(argv=None):
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--serve-fixed":
        port, workers, cert_pem, key_pem = sys.argv[2:6]
        return serve_fixed(int(port), int(workers), cert_pem, key_pem)
    p = harness.parser(__doc__, n=300, n_help="enrollments per runner per round in (a) and "
                       "in all of (b)", rounds=2, rounds_help="interleaved rounds",
                       keep_tmp=True)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--workers", type=int, default=2, help="uvicorn workers in (b)")
    p.add_argument("--batch-n", type=int, default=2000)
    p.add_argument("--rss-n", type=int, default=20000)
    p.add_argument("--rss-full", action="store_true", help="(d) over 100,000 enrollments")
    p.add_argument("--parts", default="abcd")
    args = p.parse_args(argv)

    def body(run):
        run.cert_pem, run.key_pem = harness.make_credentials(run.tmp, run.openssl)
        with open(run.cert_pem, "rb") as f, open(run.key_pem, "rb") as g:
            fixture = harness.Fixture(f.read(), g.read())  # as the server child loads them
        for part in args.parts:
            {"a": part_a, "b": part_b, "c": part_c, "d": part_d}[part](run, fixture, args)
        print()

    return harness.run_main("Scale benchmarks", __file__, argv, args, body,
                            "bench_scale_")


if __name__ == "__main__":
    sys.exit(main())
