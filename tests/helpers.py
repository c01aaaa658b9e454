"""Test helpers: the openssl command (throwaway PKI, outputs to compare against), OpenSSL's
own CMP mock server, a fresh interpreter for code that could crash, and a DER builder."""

from __future__ import annotations

import os
import logging
import re
import queue
import subprocess
import sys
import textwrap
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from openssl_cmp import Context

OPENSSL = os.environ.get("OPENSSL_CMD", "openssl")
SECRET = "test-secret"
REF = "mock-ref"


def run_openssl(*args, cwd=None, timeout=30, check=True):
    return subprocess.run([OPENSSL, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=check)


def openssl_out(*args, cwd=None) -> str:
    """What ``openssl *args`` prints (text); fails the test if the command fails."""
    return run_openssl(*args, cwd=cwd).stdout


def openssl_bytes(*args) -> bytes:
    """What ``openssl *args`` prints, as bytes (for DER output)."""
    return subprocess.run([OPENSSL, *args], capture_output=True, check=True,
                          timeout=30).stdout


def run_isolated(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter: a crash there cannot take pytest down."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)


def der_seq(*parts: bytes) -> bytes:
    """A DER SEQUENCE of ``parts`` (short-form length), built by hand so that tests of the
    library's own DER code do not depend on it."""
    body = b"".join(parts)
    return b"\x30" + bytes([len(body)]) + body


@dataclass
class PKI:
    """Files of a small PKI: a CA, an end-entity key with CSR and CA-issued certificate, and
    a server signing key/cert (issued by the same CA)."""

    dir: Path

    def __getattr__(self, name):  # pki.ca_crt -> Path(".../ca.crt")
        stem, _, ext = name.rpartition("_")
        path = self.dir / ("%s.%s" % (stem, ext))
        if not path.exists():
            raise AttributeError(name)
        return path


def make_pki(directory: Path) -> PKI:
    d = str(directory)
    run_openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=Test CA",
                "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature", cwd=d)
    for name, subject in (("ee", "/CN=test-client"), ("srv", "/CN=test-server")):
        run_openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-out", name + ".key", cwd=d)
        run_openssl("req", "-new", "-key", name + ".key", "-subj", subject, "-out",
                    name + ".csr", cwd=d)
        run_openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                    "-CAcreateserial", "-days", "30", "-out", name + ".crt", cwd=d)
    return PKI(directory)


class MockServer:
    """``openssl cmp -port 0 …`` (OpenSSL's mock CMP server) in a subprocess.

    The CLI picks a free port and prints ``ACCEPT <addr>:<port> PID=<pid>``; we wait for that
    line (bounded) instead of guessing a port.  The CLI binds every interface (it has no
    bind-address option); the tests only ever connect to 127.0.0.1.
    """

    def __init__(self, args, cwd, startup_timeout=20.0):
        self.log_path = Path(cwd) / ("mock-server-%d.log" % id(self))
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [OPENSSL, "cmp", "-config", "", "-port", "0", *args], cwd=str(cwd),
            stdout=subprocess.PIPE, stderr=self._log, text=True)
        self._lines = queue.Queue()
        # A thread reads stdout: select() on the pipe plus buffered readline() would miss a
        # line already sitting in Python's buffer.  It also keeps the pipe from filling up.
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()
        self.port = self._wait_for_port(startup_timeout)
        self.url = "127.0.0.1:%d" % self.port

    def _read_stdout(self):
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _wait_for_port(self, timeout):
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = self._lines.get(timeout=max(remaining, 0.01))
            except queue.Empty:
                line = None
            if line is None:
                break
            seen.append(line)
            m = re.match(r"^ACCEPT .*:(\d+) PID=(\d+)$", line.strip())
            if m:
                return int(m.group(1))
        self.stop()
        raise RuntimeError("openssl cmp mock server did not start: %s %s"
                           % ("".join(seen), self.log()))

    def log(self):
        return self.log_path.read_text()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._reader.join(timeout=10)
        self.proc.stdout.close()
        self._log.close()


def pbm_server_args(pki: PKI, *extra):
    """Mock-server arguments for PBM protection that return pki's ee.crt on enrollment."""
    return ["-srv_ref", REF, "-srv_secret", "pass:" + SECRET, "-rsp_cert", str(pki.ee_crt),
            "-rsp_capubs", str(pki.ca_crt), *extra]


class LogWatch(logging.Handler):
    """Collects the records of a logger that match ``pattern``; ``event`` is set by the first."""

    def __init__(self, pattern):
        super().__init__(logging.DEBUG)
        self.pattern = re.compile(pattern)
        self.records = []
        self.event = threading.Event()

    def emit(self, record):
        if self.pattern.search(record.getMessage()):
            self.records.append(record)
            self.event.set()


@contextmanager
def log_watch(pattern, logger_name="openssl_cmp.http"):
    """A handler on ``logger_name`` whose event is set by a matching record."""
    logger = logging.getLogger(logger_name)
    watch = LogWatch(pattern)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(watch)
    try:
        yield watch
    finally:
        logger.removeHandler(watch)
        logger.setLevel(level)


def capture(mock, run, **attributes) -> list:
    """DER of every request a Context sends while ``run(ctx)`` runs against ``mock``
    in-process (the transfer callback hands each to ``mock.process``)."""
    sent = []

    def transfer(ctx, request):
        sent.append(request.to_der())
        return mock.process(request)

    with Context() as ctx:
        ctx.reference_value = b"raw-client"
        ctx.secret_value = mock.secret
        for name, value in attributes.items():
            setattr(ctx, name, value)
        ctx.transfer_callback = transfer
        run(ctx)
    return sent


def process_client(server, subject, reference=b"cli", secret=b"pw"):
    """A Context whose transfer callback hands each request to ``server.process`` (so the
    server's Python-side checks run), PBM with ``reference``/``secret``, ``subject`` and a
    new EC key, its log quiet."""
    from openssl_cmp import LogLevel, PrivateKey

    ctx = Context()
    ctx.log_verbosity = LogLevel.EMERG
    ctx.reference_value, ctx.secret_value = reference, secret
    ctx.subject_name = subject
    ctx.set_new_pkey(PrivateKey.generate())
    ctx.transfer_callback = lambda c, request: server.process(request)
    return ctx


def sign_with(ctx, cert, key):
    """From now on ``ctx`` protects its requests with a signature by ``cert``/``key`` (as
    RFC 9483 wants for KUR and RR), not with its PBM secret."""
    ctx.cert, ctx.pkey = cert, key
    ctx.secret_value = None
    ctx.reference_value = None
