"""Extensions and PolicyInfo: construction from OpenSSL's config syntax, DER, names,
criticality and text of each extension, equality, lifetime, and OIDs of any length."""

from __future__ import annotations

import copy

import pytest

from openssl_cmp import ITAV, Extensions, OpenSSLError, PolicyInfo, _der
from openssl_cmp.binding import lib

from helpers import der_seq, run_isolated

LONG_OID = "1.2." + ".".join(["123456789"] * 20)  # 203 characters


def test_extensions_from_mapping():
    exts = Extensions({"subjectAltName": "DNS:a.example",
                       "keyUsage": "critical,digitalSignature"})
    assert len(exts) == 2
    assert exts.names() == ["subjectAltName", "keyUsage"]
    assert [exts.critical(0), exts.critical(1)] == [False, True]
    assert exts.text(0) == "DNS:a.example"
    assert exts.text(1) == "Digital Signature"
    assert exts.has_san
    assert repr(exts) == "<Extensions ['subjectAltName', 'keyUsage']>"


def test_extensions_from_pairs_and_empty():
    exts = Extensions([("basicConstraints", "critical,CA:FALSE")])
    assert exts.names() == ["basicConstraints"] and not exts.has_san
    assert exts.text(0) == "CA:FALSE"
    empty = Extensions()
    assert len(empty) == 0 and empty.names() == [] and not empty.has_san
    assert empty.to_der() == b"\x30\x00"
    assert Extensions({}) == empty


def test_extensions_der_round_trip_and_equality():
    exts = Extensions({"subjectAltName": "DNS:a.example"})
    der = exts.to_der()
    # SEQUENCE { Extension { OID subjectAltName, OCTET STRING { SEQUENCE { [2] "a.example" } } } }
    assert der == bytes.fromhex("301630140603551d11040d300b8209612e6578616d706c65")
    again = Extensions.from_der(der)
    assert again == exts and hash(again) == hash(exts)
    assert again != Extensions({"subjectAltName": "DNS:b.example"})
    assert exts != {"subjectAltName": "DNS:a.example"}
    with pytest.raises(ValueError, match="trailing"):
        Extensions.from_der(der + b"\x00")
    with pytest.raises(OpenSSLError):
        Extensions.from_der(b"\x30\x03\x02\x01\x00")


def test_extensions_unknown_oid_name():
    exts = Extensions.from_der(bytes.fromhex("300d300b06032a0304040430020500"))
    assert exts.names() == ["1.2.3.4"]


def test_extensions_invalid():
    with pytest.raises(OpenSSLError):
        Extensions({"noSuchExtension": "x"})
    with pytest.raises(OpenSSLError):
        Extensions({"keyUsage": "nonsense"})
    with pytest.raises(TypeError):
        Extensions([("keyUsage",)])
    with pytest.raises(TypeError):
        Extensions("keyUsage")
    with pytest.raises(TypeError):
        Extensions({1: "x"})
    with pytest.raises(TypeError):
        Extensions({"keyUsage": None})
    with pytest.raises(TypeError):
        Extensions(5)
    with pytest.raises(ValueError):
        Extensions({"keyUsage": "digitalSignature\0"})


def test_extensions_critical_index_out_of_range():
    exts = Extensions({"keyUsage": "critical,digitalSignature"})
    with pytest.raises(IndexError):
        exts.critical(5)


def test_extensions_text_index_out_of_range_does_not_crash():
    result = run_isolated("""
        from openssl_cmp import Extensions
        exts = Extensions({"keyUsage": "digitalSignature"})
        try:
            exts.text(1)
        except IndexError:
            print("IndexError")
        try:  # Python-style negative indexing would be fine too
            print("ok" if exts.text(-1) == "Digital Signature" else "wrong")
        except IndexError:
            print("ok")
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["IndexError", "ok"]


def test_extensions_closed():
    exts = Extensions({"keyUsage": "digitalSignature"})
    with exts:
        pass
    exts.close()
    assert exts.closed
    assert repr(exts) == "<Extensions closed>"
    with pytest.raises(ValueError):
        len(exts)
    with pytest.raises(ValueError):
        _ = exts.has_san


def test_extensions_and_policy_deepcopy():
    exts = Extensions({"keyUsage": "digitalSignature"})
    assert copy.deepcopy(exts) == exts
    policy = PolicyInfo("1.2.3.4")
    assert copy.deepcopy(policy) == policy



# Guards against Extensions.text of an undecodable value leaving errors on the queue.
def test_extension_text_of_malformed_value_leaves_queue_empty():
    bad = _der.sequence(_der.sequence(_der.encode_oid("2.5.29.17"),  # subjectAltName
                                      _der.encode(0x04, b"\x30\x03\xff\xff\xff")))
    exts = Extensions.from_der(bad)
    assert isinstance(exts.text(0), str)
    assert lib.ERR_peek_error() == 0


# -- PolicyInfo ---------------------------------------------------------------------------

def test_policy_info():
    policy = PolicyInfo("1.2.3.4")
    assert policy.oid == "1.2.3.4"
    assert policy.to_der() == bytes.fromhex("300506032a0304")
    assert PolicyInfo.from_der(policy.to_der()) == policy
    assert PolicyInfo("2.5.29.32.0").oid == "2.5.29.32.0"
    assert repr(policy) == "<PolicyInfo 1.2.3.4>"


def test_policy_info_equality_and_hash():
    a, b = PolicyInfo("1.2.3.4"), PolicyInfo("1.2.3.4")
    assert a == b and hash(a) == hash(b)
    assert a != PolicyInfo("1.2.3.5")
    assert a != "1.2.3.4"


def test_policy_info_invalid():
    for bad in ("not an oid", "1", "anyPolicy", "", "1.2.x"):
        with pytest.raises((ValueError, OpenSSLError)):
            PolicyInfo(bad)
    with pytest.raises(TypeError):
        PolicyInfo(1234)
    with pytest.raises(ValueError):
        PolicyInfo("1.2\x003")
    with pytest.raises(ValueError, match="trailing"):
        PolicyInfo.from_der(bytes.fromhex("300506032a0304") + b"\x00")
    with pytest.raises(OpenSSLError):
        PolicyInfo.from_der(b"\x30\x00")


def test_policy_info_closed():
    policy = PolicyInfo("1.2.3.4")
    policy.close()
    policy.close()
    assert repr(policy) == "<PolicyInfo closed>"
    with pytest.raises(ValueError):
        _ = policy.oid


def test_long_oids_not_truncated():
    long_oid_tlv = _der.single(PolicyInfo(LONG_OID).to_der()).value  # the OID TLV
    ext = der_seq(long_oid_tlv, b"\x04\x02\x05\x00")
    ext_der = b"\x30" + bytes([len(ext)]) + ext
    results = [PolicyInfo(LONG_OID).oid, ITAV(LONG_OID).type,
               Extensions.from_der(ext_der).names()[0]]
    assert results == [LONG_OID] * 3
