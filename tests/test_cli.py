"""The command line: ``openssl-cmp demo`` and ``openssl-cmp serve`` (used by the real
``openssl cmp`` client)."""

import queue
import re
import subprocess
import sys
import threading

from openssl_cmp import Certificate, Name
from openssl_cmp.cli import build_parser

from helpers import run_openssl


def test_demo_runs_the_lifecycle(tmp_path):
    out = tmp_path / "renewed.pem"
    proc = subprocess.run([sys.executable, "-m", "openssl_cmp", "demo", "--subject",
                           "/CN=cli test", "--certout", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for step in ("IR ", "CR ", "KUR ", "GENM ", "RR "):
        assert step in proc.stdout
    assert "issued 3 certificates, revoked 1" in proc.stdout
    cert = Certificate.from_file(out)
    assert cert.subject == Name.parse("/CN=cli test")
    assert cert.issuer == Name.parse("/CN=openssl_cmp Mock CA")


def test_parser_rejects_unknown_command():
    try:
        build_parser().parse_args(["frobnicate"])
    except SystemExit as exc:
        assert exc.code == 2
    else:
        raise AssertionError("argparse accepted an unknown command")


def test_serve_answers_openssl_cmp_client(pki, tmp_path):
    ca_path = tmp_path / "ca.pem"
    proc = subprocess.Popen([sys.executable, "-m", "openssl_cmp", "serve", "--seconds", "60",
                             "--secret", "s3cret", "--ref", "srv", "--cacertout",
                             str(ca_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(l) for l in proc.stdout], daemon=True).start()
    try:
        address = None
        while address is None:
            line = lines.get(timeout=60)
            m = re.search(r"serving CMP at http://([\d.]+:\d+)/", line)
            if m:
                address = m.group(1)
        result = run_openssl("cmp", "-config", "", "-server", address, "-path", "pkix/",
                             "-ref", "me", "-secret", "pass:s3cret", "-cmd", "ir",
                             "-subject", "/CN=via-cli", "-newkey", str(pki.ee_key),
                             "-certout", str(tmp_path / "new.pem"), timeout=60, check=False)
        assert result.returncode == 0, result.stderr
        cert = Certificate.from_file(tmp_path / "new.pem")
        assert cert.subject == Name.parse("/CN=via-cli")
        assert cert.is_issued_by(Certificate.from_file(ca_path))
        # SIGTERM ends serve like Ctrl-C: summary printed, exit status 0
        proc.terminate()
        assert proc.wait(30) == 0, proc.stderr.read()
        rest = []
        while True:
            try:
                rest.append(lines.get(timeout=10))
            except queue.Empty:
                break
            if "served" in rest[-1]:
                break
        assert any(re.search(r"served \d+ requests; issued 1 certificates, revoked 0", l)
                   for l in rest), rest
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)
        proc.stderr.close()
