"""Run a fuzz target (fuzz/targets.py) with atheris, or with the seeded fallback mutator.

    python fuzz/run.py TARGET [-runs=N] [libFuzzer options]      # atheris (pip install .[fuzz])
    python fuzz/run.py TARGET --fallback --runs N [--seed S]     # no atheris: seeded mutator
    python fuzz/run.py TARGET --leak-check [--runs N]            # allocator-hooked leak check

TARGET: message, server, values, client, or all (--fallback / --leak-check only).  The seed
corpus is fuzz/corpus/TARGET (python fuzz/make_corpus.py); atheris adds what it finds to a
copy in fuzz/work/TARGET.  The fallback prints inputs/s and fails (exit 1) on an unexpected
exception or an input slower than --hang seconds, saving it to fuzz/crashes/.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
TARGET_NAMES = ("message", "server", "values", "client")  # fuzz/targets.py TARGETS


def corpus_of(target: str) -> list[bytes]:
    directory = os.path.join(HERE, "corpus", target)
    if not os.path.isdir(directory):
        sys.exit("no corpus in %s: run python fuzz/make_corpus.py" % directory)
    out = []
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name), "rb") as f:
            out.append(f.read())
    return out


def _save(target: str, data: bytes) -> str:
    import hashlib

    directory = os.path.join(HERE, "crashes", target)
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, hashlib.sha1(data).hexdigest())
    with open(path, "wb") as f:
        f.write(data)
    return path


def fallback(target: str, runs: int, seed: int, hang: float) -> int:
    import mutate
    import targets

    func = targets.TARGETS[target]
    corpus = corpus_of(target)
    start = time.monotonic()
    n = 0
    for data in mutate.inputs(corpus, runs, seed):
        t0 = time.monotonic()
        try:
            func(data)
        except Exception:  # noqa: BLE001 - a finding
            print("%s: unexpected exception on input saved to %s" % (target, _save(target, data)))
            traceback.print_exc()
            return 1
        if time.monotonic() - t0 > hang:
            print("%s: input took > %.0f s, saved to %s" % (target, hang, _save(target, data)))
            return 1
        n += 1
    elapsed = time.monotonic() - start
    print("%s: %d inputs in %.1f s (%.0f/s), seed %d, no finding"
          % (target, n, elapsed, n / elapsed if elapsed else 0, seed))
    return 0


def leak_check(target: str, runs: int, seed: int) -> int:
    """Live libcrypto blocks after the same inputs run again (state reset between passes):
    growth means a leak."""
    import mutate
    import targets
    from openssl_cmp.binding import MEMHOOK_ACTIVE, lib

    if not MEMHOOK_ACTIVE:
        sys.exit("the allocator hook is not active (OPENSSL_CMP_MEMHOOK=1 before import)")
    func = targets.TARGETS[target]
    batch = list(mutate.inputs(corpus_of(target), runs, seed))
    growth = []
    for _ in range(3):
        targets.reset()
        gc.collect()
        before = lib.ocmp_memhook_live()
        for data in batch:
            try:
                func(data)
            except Exception:  # noqa: BLE001
                pass
        targets.reset()
        gc.collect()
        growth.append(lib.ocmp_memhook_live() - before)
    print("%s: live-block growth per pass of %d inputs: %s" % (target, len(batch), growth))
    return 0 if growth[-1] <= 0 else 1


def with_atheris(target: str, argv: list[str]) -> None:
    import atheris

    with atheris.instrument_imports():
        import targets  # instruments openssl_cmp's Python code for coverage
    func = targets.TARGETS[target]
    work = os.path.join(HERE, "work", target)
    if not os.path.isdir(work):
        shutil.copytree(os.path.join(HERE, "corpus", target), work)
    crashes = os.path.join(HERE, "crashes")
    os.makedirs(crashes, exist_ok=True)
    atheris.Setup([sys.argv[0], work, "-timeout=10", "-rss_limit_mb=4096",
                   "-artifact_prefix=%s/%s-" % (crashes, target), *argv], func)
    atheris.Fuzz()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("target")
    parser.add_argument("--fallback", action="store_true")
    parser.add_argument("--leak-check", action="store_true")
    parser.add_argument("--runs", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=4210)
    parser.add_argument("--hang", type=float, default=10.0)
    args, rest = parser.parse_known_args()
    if args.leak_check and not os.environ.get("OPENSSL_CMP_MEMHOOK"):
        os.environ["OPENSSL_CMP_MEMHOOK"] = "1"  # before openssl_cmp is imported
    names = list(TARGET_NAMES) if args.target == "all" else [args.target]
    for name in names:
        if name not in TARGET_NAMES:
            parser.error("unknown target %r (%s)" % (name, ", ".join(TARGET_NAMES)))
    if args.leak_check:
        return max(leak_check(n, args.runs, args.seed) for n in names)
    if args.fallback:
        return max(fallback(n, args.runs, args.seed, args.hang) for n in names)
    if len(names) != 1:
        parser.error("atheris runs one target at a time")
    with_atheris(names[0], rest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
