"""``openssl-cmp serve --workers N``: the MockCA's ASGI app under uvicorn in N forked
worker processes sharing one CA (``cli/_serve.serve_workers``).

The ``--workers`` option itself is declared in ``cli/_options.py``; until it is, the
command is driven with the parsed serve arguments plus ``workers``.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

from openssl_cmp import Option, PrivateKey
from openssl_cmp.cli._errors import UsageError
from openssl_cmp.cli._serve import serve_workers
from openssl_cmp.testing import MockCA

from test_asgi import HERE, TIMEOUT, free_port, pbm_client, wait_for_port

RUN = textwrap.dedent("""
    import sys
    from openssl_cmp.cli._options import build_parser
    args = build_parser().parse_args(["serve", "--port", sys.argv[1], "--seconds", "60",
                                     "--grant-implicitconf"])
    if getattr(args, "workers", None) is None:
        args.workers = 2
    sys.exit(args.func(args))
""")


def test_two_workers_serve_one_ca():
    pytest.importorskip("uvicorn")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", RUN, str(port)], cwd=HERE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)
    try:
        wait_for_port(port, proc)
        certs = []
        for i in range(6):
            with pbm_client("http://127.0.0.1:%d/pkix/" % port, subject_name="/CN=w%d" % i,
                            new_pkey=PrivateKey.generate("EC")) as ctx:
                ctx.set_option(Option.IMPLICIT_CONFIRM, 1)  # one round trip (RFC 9483 4.1.1)
                certs.append(ctx.exec_ir())
                ca = ctx.ca_pubs[0]
        assert all(c.is_issued_by(ca) for c in certs)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0, err
    assert "2 uvicorn worker(s)" in out and "served by 2 worker(s)" in out


def test_workers_argument_checked():
    with pytest.raises(UsageError):
        serve_workers(MockCA(), "127.0.0.1", 0, 0)
