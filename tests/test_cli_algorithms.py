"""``--digest`` and ``--mac`` as ``openssl cmp`` takes them (OpenSSL names or dotted OIDs):
the digest of signatures and of the PBM one-way function, and the PBM MAC algorithm."""

from openssl_cmp import Message, _der
from openssl_cmp.cli import main

HMAC_SHA256 = _der.encode_oid("1.2.840.113549.2.9")
HMAC_SHA1 = _der.encode_oid("1.3.6.1.5.5.8.1.2")


def cli(*args):
    return main([str(a) for a in args])


def _first_request(tmp_path, *options):
    out = tmp_path / "req.der"
    assert cli("ir", "--subject", "/CN=alg", "--reqout", out, *options) == 0
    return Message.from_der(out.read_bytes())


def test_mac_sets_the_pbm_mac(tmp_path):
    default = _first_request(tmp_path)
    assert HMAC_SHA1 in default.to_der() and HMAC_SHA256 not in default.to_der()
    chosen = _first_request(tmp_path, "--mac", "hmacWithSHA256")
    assert chosen.protection_alg == "1.2.840.113533.7.66.13"  # still PBM
    assert HMAC_SHA256 in chosen.to_der()


def test_unknown_algorithm_is_a_usage_error(capsys):
    assert cli("ir", "--subject", "/CN=alg", "--mac", "no-such-mac") == 2
    assert "--mac: algorithm name not recognized" in capsys.readouterr().err
    assert cli("ir", "--subject", "/CN=alg", "--digest", "no-such-digest") == 2
