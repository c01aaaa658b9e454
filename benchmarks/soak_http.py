"""Soak: RSS of one process serving and enrolling N times over HTTP (or HTTPS) on loopback.

    python benchmarks/soak_http.py [-n 20000] [--every 1000] [--tls] [--keep-alive K]

A ``MockCA`` is served by ``serve_http()`` in this process and enrolled N times by fresh
``Context`` objects over 127.0.0.1 (IR with PBM, then certConf).  Every ``--every``
enrollments the resident set size (``/proc/self/statm``) is printed.  The MockCA certifies
the one key again and again (``allow_key_reuse``) and keeps at most ``--every`` records of
what it issued (``max_records``; ``mock.issued`` is also emptied as we go): what is left to
grow is the library's own memory.  Printed at the end: RSS after the warm-up, at the
end, and the growth per 1,000 enrollments (a leak of even one certificate per enrollment
would show as ~1 MB per 1,000).  No threshold is asserted: this is a measurement.
"""

from __future__ import annotations

import os
import sys
import time

import harness


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def main(argv=None) -> int:
    parser = harness.parser(__doc__, n=20000, warmup=1000)
    parser.add_argument("--every", type=int, default=1000)
    parser.add_argument("--tls", action="store_true", help="serve and enroll over HTTPS")
    parser.add_argument("--keep-alive", type=int, default=None, choices=(0, 1, 2))
    args = parser.parse_args(argv)

    from openssl_cmp import TLS, LogLevel, Option, PrivateKey, binding
    from openssl_cmp.testing import MockCA

    # one key for every enrollment; max_records bounds what the CA keeps (its index of
    # issued certificates too), so RSS shows the binding, not the CA's records
    mock = MockCA(allow_key_reuse=True, max_records=args.every)
    mock.ctx.log_verbosity = LogLevel.ERR
    key = PrivateKey.generate("EC")
    server_tls = client_tls = None
    if args.tls:
        ca, srv, srv_key = harness.loopback_tls("/CN=soak TLS CA")
        server_tls, client_tls = TLS(cert=srv, key=srv_key), TLS(trusted=ca)

    with mock.serve_http(tls=server_tls) as serving:
        def enroll() -> None:
            ctx = harness.pbm_context(key, "/CN=soak", mock.reference, mock.secret)
            ctx.set_option(Option.TOTAL_TIMEOUT, 30)
            if args.keep_alive is not None:
                ctx.set_option(Option.KEEP_ALIVE, args.keep_alive)
            if client_tls is not None:
                ctx.tls = client_tls
            ctx.set_url(serving.url)
            ctx.exec_ir()
            ctx.close()

        for _ in range(args.warmup):
            enroll()
        mock.issued.clear()
        start_rss = rss_mib()
        t0 = time.perf_counter()
        print("OpenSSL %s, %s, after %d warm-up enrollments: RSS %.1f MiB"
              % (binding.OPENSSL_VERSION, "HTTPS" if args.tls else "HTTP", args.warmup,
                 start_rss), flush=True)
        for i in range(1, args.n + 1):
            enroll()
            if i % args.every == 0:
                mock.issued.clear()
                print("  %6d enrollments  RSS %.1f MiB  (%.0f/s)"
                      % (i, rss_mib(), i / (time.perf_counter() - t0)), flush=True)
        if serving.errors:
            raise SystemExit("server errors: %r" % serving.errors[:3])
    end_rss = rss_mib()
    print("RSS: %.1f MiB after warm-up, %.1f MiB after %d enrollments: %+.3f MiB per 1,000"
          % (start_rss, end_rss, args.n, (end_rss - start_rss) * 1000 / args.n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
