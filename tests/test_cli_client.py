"""The client subcommands of ``openssl-cmp``: against OpenSSL's mock server,
with the files they write compared byte for byte with what ``openssl cmp`` writes for the
same server, offline message files in both directions, the embedded MockCA, and one-line
errors with the right exit status."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from openssl_cmp import Certificate, Name
from openssl_cmp.cli import main

from helpers import REF, SECRET, pbm_server_args, run_openssl


def cli(*args):
    return main([str(a) for a in args])


def openssl_cmp(*args, cwd=None):
    return run_openssl("cmp", "-config", "", *map(str, args), cwd=cwd, timeout=60,
                       check=False)


# -- files written: byte for byte as openssl cmp (RFC 9810 section 5.3.4: caPubs,
#    extraCerts) ----------------------------------------------------------------------

def test_ir_files_match_openssl_cmp(pki, mock_server, tmp_path):
    server = mock_server(*pbm_server_args(pki, "-rsp_extracerts", str(pki.srv_crt)))
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir(), theirs.mkdir()
    outputs = ("certout", "chainout", "cacertsout", "extracertsout")
    rc = cli("ir", "--config", "", "--server", server.url, "--path", "pkix/", "--ref", REF,
             "--secret", "pass:" + SECRET, "--newkey", pki.ee_key, "--subject",
             "/CN=test-client", "--untrusted", pki.ca_crt,
             *[x for o in outputs for x in ("--" + o, ours / (o + ".pem"))])
    assert rc == 0
    result = openssl_cmp("-server", server.url, "-path", "pkix/", "-ref", REF, "-secret",
                         "pass:" + SECRET, "-cmd", "ir", "-newkey", pki.ee_key, "-subject",
                         "/CN=test-client", "-untrusted", pki.ca_crt,
                         *[x for o in outputs for x in ("-" + o, theirs / (o + ".pem"))])
    assert result.returncode == 0, result.stderr
    for o in outputs:
        theirs_file = theirs / (o + ".pem")
        ours_file = ours / (o + ".pem")
        assert ours_file.exists() == theirs_file.exists(), o
        if theirs_file.exists():
            assert ours_file.read_bytes() == theirs_file.read_bytes(), o
    assert (ours / "certout.pem").read_bytes() == pki.ee_crt.read_bytes()
    assert (ours / "cacertsout.pem").exists()


def test_cr_and_p10cr_and_genm_against_openssl_mock(pki, mock_server, tmp_path):
    server = mock_server(*pbm_server_args(pki))
    common = ["--config", "", "--server", server.url, "--ref", REF, "--secret",
              "pass:" + SECRET]
    assert cli("cr", *common, "--newkey", pki.ee_key, "--subject", "/CN=test-client",
               "--certout", tmp_path / "cr.pem") == 0
    assert Certificate.from_file(tmp_path / "cr.pem").subject == Name.parse("/CN=test-client")
    assert cli("p10cr", *common, "--csr", pki.ee_csr, "--certout", tmp_path / "p10.pem") == 0
    assert (tmp_path / "p10.pem").read_bytes() == pki.ee_crt.read_bytes()
    assert cli("genm", *common, "--infotype", "signKeyPairTypes") == 0
    assert cli("rr", *common, "--oldcert", pki.ee_crt, "--revreason", "4") == 0


# -- offline messages -----------------------------------------------------------------

def test_reqout_is_read_by_openssl_reqin(pki, mock_server, tmp_path):
    server = mock_server(*pbm_server_args(pki))
    req = tmp_path / "ir.der"
    assert cli("ir", "--config", "", "--server", server.url, "--ref", REF, "--secret",
               "pass:" + SECRET, "--newkey", pki.ee_key, "--subject", "/CN=test-client",
               "--reqout", req, "--rspout", tmp_path / "ip.der") == 0
    assert req.stat().st_size > 0 and (tmp_path / "ip.der").stat().st_size > 0
    # openssl sends our IR in place of its own (apps/cmp.c -reqin) and completes it
    result = openssl_cmp("-server", server.url, "-ref", REF, "-secret", "pass:" + SECRET,
                         "-cmd", "ir", "-newkey", pki.ee_key, "-subject", "/CN=test-client",
                         "-reqin", req, "-reqin_new_tid", "-certout", tmp_path / "o.pem")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "o.pem").read_bytes() == pki.ee_crt.read_bytes()


def test_openssl_rspout_is_read_by_rspin(pki, mock_server, tmp_path):
    server = mock_server(*pbm_server_args(pki))
    ip, pkiconf = tmp_path / "ip.der", tmp_path / "pkiconf.der"
    result = openssl_cmp("-server", server.url, "-ref", REF, "-secret", "pass:" + SECRET,
                         "-cmd", "ir", "-newkey", pki.ee_key, "-subject", "/CN=test-client",
                         "-reqout", "%s,%s" % (tmp_path / "ir.der", tmp_path / "cc.der"),
                         "-rspout", "%s,%s" % (ip, pkiconf), "-certout", tmp_path / "o.pem")
    assert result.returncode == 0, result.stderr
    # no server at all: both responses come from the files openssl wrote
    out = tmp_path / "new.pem"
    assert cli("ir", "--config", "", "--ref", REF, "--secret", "pass:" + SECRET, "--newkey",
               pki.ee_key, "--subject", "/CN=test-client", "--rspin", "%s,%s" % (ip, pkiconf),
               "--certout", out) == 0
    assert out.read_bytes() == pki.ee_crt.read_bytes()
    # and openssl reads a request we wrote without sending it
    assert cli("ir", "--config", "", "--ref", REF, "--secret", "pass:" + SECRET,
               "--newkey", pki.ee_key, "--subject", "/CN=x", "--reqout-only",
               tmp_path / "only.der") == 0
    shown = run_openssl("asn1parse", "-inform", "DER", "-in", str(tmp_path / "only.der"))
    assert "SEQUENCE" in shown.stdout


# -- the embedded MockCA --------------------------------------------------------------

@pytest.mark.parametrize("command", ["ir", "cr", "p10cr", "kur", "rr", "genm"])
def test_every_command_runs_without_server(command, tmp_path, capsys):
    assert cli(command, "--config", "", "--certout", tmp_path / "c.pem") == 0
    err = capsys.readouterr().err
    assert "embedded MockCA" in err
    if command not in ("rr", "genm"):
        assert Certificate.from_file(tmp_path / "c.pem").issuer == \
            Name.parse("/CN=openssl_cmp Mock CA")


def test_generated_key_is_saved_and_certified(tmp_path):
    from openssl_cmp import PrivateKey

    assert cli("ir", "--config", "", "--subject", "/CN=me", "--newkeyout",
               tmp_path / "k.pem", "--certout", tmp_path / "c.pem") == 0
    key = PrivateKey.from_file(tmp_path / "k.pem")
    assert Certificate.from_file(tmp_path / "c.pem").public_key() == key.public_key()
    assert (tmp_path / "k.pem").stat().st_mode & 0o077 == 0


# -- password sources (openssl-passphrase-options(1)) ---------------------------------

def test_password_sources(tmp_path, monkeypatch):
    from openssl_cmp.cli._passwords import read_password

    (tmp_path / "pw").write_text("from-file\nsecond\n")
    monkeypatch.setenv("H6_PW", "from-env")
    assert read_password("pass:a:b", "--x") == "a:b"
    assert read_password("env:H6_PW", "--x") == "from-env"
    assert read_password("file:%s" % (tmp_path / "pw"), "--x") == "from-file"
    r, w = os.pipe()
    os.write(w, b"from-fd\nrest")
    os.close(w)
    try:
        assert read_password("fd:%d" % r, "--x") == "from-fd"
    finally:
        os.close(r)


def test_secret_from_stdin_and_env(tmp_path):
    env = dict(os.environ, H6_SECRET="mock-secret")
    proc = subprocess.run([sys.executable, "-m", "openssl_cmp", "ir", "--config", "",
                           "--secret", "stdin"], input="mock-secret\n", capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([sys.executable, "-m", "openssl_cmp", "ir", "--config", "",
                           "--secret", "env:H6_SECRET"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


# -- errors: one line, exit 1 (failure) or 2 (usage) ----------------------------------

@pytest.mark.parametrize("args, status, words", [
    (["--secret", "nopfx"], 2, "--secret"),
    (["--secret", "env:H6_UNSET_VARIABLE"], 1, "H6_UNSET_VARIABLE"),
    (["--secret", "file:/nonexistent/pw"], 1, "/nonexistent/pw"),
    (["--newkey", "/nonexistent/key.pem"], 1, "--newkey"),
    (["--trusted", "/nonexistent/ca.pem"], 1, "--trusted"),
    (["--cert", "CERT", "--key", "KEY", "--keypass", "pass:wrong"], 1, "--key"),
    (["--cert", "CERT"], 2, "--key"),
    (["--newkey", "CERT"], 1, "--newkey"),  # wrong type: a certificate is no key
    (["--days", "x"], 2, "--days"),
    (["--popo", "7"], 2, "--popo"),
    (["--server", "ftp://host"], 2, "--server"),
    (["--template", "t.der"], 2, "--template"),
    (["--centralkeygen"], 2, "--centralkeygen"),
])
def test_bad_input_is_one_line(args, status, words, pki, tmp_path, capsys):
    enc = tmp_path / "enc.pem"
    run_openssl("pkey", "-in", str(pki.ee_key), "-aes128", "-passout", "pass:right",
                "-out", str(enc))
    args = [str(enc) if a == "KEY" else str(pki.ee_crt) if a == "CERT" else a for a in args]
    from openssl_cmp import binding

    if args[0] == "--centralkeygen" and binding.OPENSSL_VERSION_NUMBER >= 0x30500000:
        pytest.skip("central key generation works on this OpenSSL")
    rc = cli("ir", "--config", "", *args)
    err = capsys.readouterr().err
    assert rc == status, err
    lines = [line for line in err.splitlines() if "embedded MockCA" not in line
             and "generated" not in line]
    assert len(lines) in (1, 2) and words in lines[-1], err  # argparse: usage + error
    assert "Traceback" not in err


def test_debug_shows_the_traceback(capsys):
    assert cli("ir", "--config", "", "--debug", "--trusted", "/nonexistent") == 1
    assert "Traceback" in capsys.readouterr().err


def test_help_is_plain_text_with_defaults(capsys):
    assert main(["ir", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--implicit-confirm" in out and "--server" in out
    assert "(default: -1)" in out  # --revreason
