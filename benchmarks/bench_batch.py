"""Benchmark: fleet enrollment with ``openssl-cmp batch`` vs a shell loop of ``openssl cmp``
processes, both against the same ``openssl-cmp serve``.

    python benchmarks/bench_batch.py [-n 1000] [--workers 1,2,4,8] [--loop-n N]

* The server: ``python -m openssl_cmp serve`` on 127.0.0.1 in its own process (PBM).
* batch: ``python -m openssl_cmp batch SUBJECTS.csv --server … --workers W`` as a process,
  N subjects, each with its own new EC P-256 key (generated inside the timed run), the key
  and certificate written to files and a JSON line per entry; wall time of the whole
  process, interpreter start included.
* shell loop: one ``bash`` running ``for …; do openssl cmp -config '' -cmd ir -server … -ref
  … -secret pass:… -newkey KEY_i -subject /CN=s_i -certout OUT_i -verbosity 3; done`` over
  ``--loop-n`` subjects (default N); the keys are generated before timing (the loop gets
  that work for free).  The same server process answers both (a fresh one per run, since
  MockCA keeps what it issues and certifies a key once).

Prints enrollments per second for each and the ratio batch / loop for every worker count.
The C baseline of this comparison is the ``openssl cmp`` loop itself.
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time

from openssl_cmp import PrivateKey

SECRET = "bench-secret"


class Serve:
    """``openssl-cmp serve`` in a child process."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "openssl_cmp", "serve", "--config", "", "--srv-ref",
             "bench", "--srv-secret", "pass:" + SECRET, "--grant-implicitconf"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(l) for l in self.proc.stdout or ()],
                         daemon=True).start()
        while True:
            m = re.search(r"serving CMP at http://([\d.]+:\d+)/", lines.get(timeout=60))
            if m:
                self.address = m.group(1)
                return

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def run_batch(n: int, workers: int, work: str) -> float:
    csv_path = os.path.join(work, "subjects-%d.csv" % workers)
    with open(csv_path, "w") as f:
        f.write("subject\n" + "".join("/CN=b%d-%d\n" % (workers, i) for i in range(n)))
    server = Serve()
    try:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "openssl_cmp", "batch", csv_path, "--config",
                        "", "--server", server.address, "--ref", "me", "--secret",
                        "pass:" + SECRET, "--workers", str(workers), "--out-dir",
                        os.path.join(work, "batch-%d" % workers), "--progress", "none"],
                       check=True, timeout=3600, stderr=subprocess.DEVNULL)
        return time.perf_counter() - start
    finally:
        server.close()


def run_loop(n: int, work: str) -> float:
    keys = os.path.join(work, "keys")
    os.makedirs(keys, exist_ok=True)
    os.makedirs(os.path.join(work, "loop"), exist_ok=True)
    for i in range(n):
        with open(os.path.join(keys, "%d.pem" % i), "wb") as f:
            f.write(PrivateKey.generate("EC").to_pem())
    server = Serve()
    try:
        script = ("for i in $(seq 0 %d); do openssl cmp -config '' -cmd ir -server %s "
                  "-path pkix/ -ref me -secret pass:%s -newkey %s/$i.pem -subject /CN=l$i "
                  "-certout %s/loop/$i.pem -verbosity 3 || exit 1; done"
                  % (n - 1, server.address, SECRET, keys, work))
        start = time.perf_counter()
        subprocess.run(["bash", "-c", script], check=True, timeout=3600)
        return time.perf_counter() - start
    finally:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--workers", default="1,2,4,8")
    parser.add_argument("--loop-n", type=int, default=None)
    args = parser.parse_args()
    loop_n = args.loop_n or args.n
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as work:
        loop = run_loop(loop_n, work)
        loop_rate = loop_n / loop
        print("shell loop of openssl cmp: %d in %.2f s = %.0f/s (%.2f ms each)"
              % (loop_n, loop, loop_rate, 1000 * loop / loop_n))
        for workers in (int(w) for w in args.workers.split(",")):
            elapsed = run_batch(args.n, workers, work)
            rate = args.n / elapsed
            print("batch --workers %d: %d in %.2f s = %.0f/s; ratio batch/loop %.2f"
                  % (workers, args.n, elapsed, rate, rate / loop_rate))


if __name__ == "__main__":
    main()
