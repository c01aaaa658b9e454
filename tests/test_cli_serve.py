"""``openssl-cmp serve`` with the option names of OpenSSL's mock server, driven
by the real ``openssl cmp`` client and by our own client, on 127.0.0.1 with free ports."""

from __future__ import annotations

import queue
import re
import subprocess
import sys
import threading

import pytest

from openssl_cmp import Certificate
from openssl_cmp.cli import main

from helpers import run_openssl


class Serve:
    """``python -m openssl_cmp serve ARGS`` in a child process, bounded."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([sys.executable, "-m", "openssl_cmp", "serve",
                                      "--config", "", "--seconds", "120", *map(str, args)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=lambda: [self.lines.put(l) for l in self.proc.stdout],
                         daemon=True).start()
        self.address = None
        while self.address is None:
            try:
                line = self.lines.get(timeout=60)
            except queue.Empty:
                self.stop()
                raise RuntimeError("serve did not start: %s" % self.proc.stderr.read())
            m = re.search(r"serving CMP at http://([\d.]+:\d+)/", line)
            self.address = m and m.group(1)

    def summary(self):
        self.proc.terminate()
        assert self.proc.wait(30) == 0
        rest = []
        while True:
            try:
                rest.append(self.lines.get(timeout=10))
            except queue.Empty:
                break
            if "served" in rest[-1]:
                break
        return "".join(rest)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(30)
        self.proc.stdout.close()
        self.proc.stderr.close()


@pytest.fixture
def serve():
    started = []

    def start(*args):
        s = Serve(*args)
        started.append(s)
        return s
    yield start
    for s in started:
        s.stop()


def openssl_ir(address, pki, tmp_path, *extra, secret="s3"):
    return run_openssl("cmp", "-config", "", "-server", address, "-path", "pkix/", "-ref",
                       "me", "-secret", "pass:" + secret, "-cmd", "ir", "-subject",
                       "/CN=openssl", "-newkey", str(pki.ee_key), *map(str, extra),
                       timeout=60, check=False)


def test_openssl_names_and_files_match(serve, pki, tmp_path):
    """--rsp-capubs and --rsp-extracerts reach caPubs and extraCerts (RFC 9810 5.3.4);
    both clients write the same files for the same answer (--rsp-cert: a fixed cert)."""
    s = serve("--srv-ref", "srv", "--srv-secret", "pass:s3", "--rsp-cert", pki.ee_crt,
              "--rsp-capubs", pki.ca_crt, "--rsp-extracerts", pki.srv_crt,
              "--cacertout", tmp_path / "ca.pem")
    theirs = openssl_ir(s.address, pki, tmp_path, "-certout", tmp_path / "t-cert.pem",
                        "-cacertsout", tmp_path / "t-ca.pem", "-extracertsout",
                        tmp_path / "t-extra.pem")
    assert theirs.returncode == 0, theirs.stderr
    assert main(["ir", "--config", "", "--server", s.address, "--ref", "me", "--secret",
                 "pass:s3", "--subject", "/CN=openssl", "--newkey", str(pki.ee_key),
                 "--certout", str(tmp_path / "o-cert.pem"), "--cacertsout",
                 str(tmp_path / "o-ca.pem"), "--extracertsout",
                 str(tmp_path / "o-extra.pem")]) == 0
    for name in ("cert", "ca", "extra"):
        assert (tmp_path / ("o-%s.pem" % name)).read_bytes() == \
            (tmp_path / ("t-%s.pem" % name)).read_bytes(), name
    assert (tmp_path / "t-cert.pem").read_bytes() == pki.ee_crt.read_bytes()
    assert (tmp_path / "t-ca.pem").read_bytes() == pki.ca_crt.read_bytes()
    assert "served" in s.summary()


def test_pkistatus_failure_statusstring(serve, pki, tmp_path):
    s = serve("--srv-ref", "srv", "--srv-secret", "pass:s3", "--pkistatus", "2",
              "--failure", "9", "--statusstring", "go away")
    result = openssl_ir(s.address, pki, tmp_path, "-certout", tmp_path / "x.pem")
    assert result.returncode == 1
    said = result.stdout + result.stderr
    assert "badPOP" in said and "go away" in said


def test_send_error(serve, pki, tmp_path, capsys):
    s = serve("--srv-ref", "srv", "--srv-secret", "pass:s3", "--send-error")
    assert main(["ir", "--config", "", "--server", s.address, "--secret", "pass:s3",
                 "--subject", "/CN=x"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "error" in err[-1]  # the generated-key note, then one line


def test_polling_and_signature_protection(serve, pki, tmp_path):
    """--srv-cert/--srv-key sign the answers; --poll-count/--check-after make the client
    poll (RFC 9810 section 5.3.22)."""
    s = serve("--srv-secret", "pass:s3", "--srv-cert", pki.srv_crt,
              "--srv-key", pki.srv_key, "--srv-trusted", pki.ca_crt, "--poll-count", "2",
              "--check-after", "0", "--grant-implicitconf")
    result = run_openssl("cmp", "-config", "", "-server", s.address, "-cmd", "cr",
                         "-cert", str(pki.ee_crt), "-key", str(pki.ee_key), "-trusted",
                         str(pki.ca_crt), "-subject", "/CN=polled", "-newkey",
                         str(pki.srv_key), "-implicit_confirm", "-certout",
                         str(tmp_path / "p.pem"), timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert str(Certificate.from_file(tmp_path / "p.pem").subject) == "CN=polled"
    summary = s.summary()
    # cr and two pollReqs; no certConf: --grant-implicitconf granted implicit confirmation
    assert "served 3 requests; issued 1 certificates" in summary, summary


def test_max_msgs_stops_the_server(pki, tmp_path):
    s = Serve("--srv-ref", "srv", "--srv-secret", "pass:s3", "--max-msgs", "2")
    try:
        assert openssl_ir(s.address, pki, tmp_path, "-certout", tmp_path / "c.pem",
                          "-newkey", pki.srv_key).returncode == 0
        assert s.proc.wait(30) == 0
    finally:
        s.stop()


@pytest.mark.parametrize("args, words", [
    (["--srv-secret", "plain"], "--srv-secret"),
    (["--srv-cert", "CERT"], "--srv-key"),
    (["--failure", "30"], "--failure"),
    (["--rsp-key", "KEY"], "--rsp-key"),
    (["--ca-key", "/nonexistent"], "--ca-key"),
])
def test_bad_serve_options(args, words, pki, capsys):
    args = [str(pki.ee_crt) if a == "CERT" else str(pki.ee_key) if a == "KEY" else a
            for a in args]
    rc = main(["serve", "--config", "", "--seconds", "0.01", *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc in (1, 2) and len(err) == 1 and words in err[0], err
