"""The small DER reader behind StatusInfo and Message headers (``_der``): TLVs, lengths,
INTEGER, BIT STRING flags, UTF8String lists, PKIStatusInfo and PKIHeader, checked against
DER written by OpenSSL."""

from __future__ import annotations

import pytest

import openssl_cmp
from openssl_cmp import FailInfo, GeneralName, Message, PKIStatus, StatusInfo, _der
from openssl_cmp.binding import lib

from helpers import der_seq


def test_der_read_tlv_short_and_long_lengths():
    tlv, end = _der.read_tlv(b"\x04\x03abc")
    assert (tlv.tag, tlv.value, tlv.raw, end) == (4, b"abc", b"\x04\x03abc", 5)
    data = b"\x04\x81\x80" + b"a" * 128
    tlv, end = _der.read_tlv(data)
    assert tlv.value == b"a" * 128 and end == len(data) and tlv.raw == data
    data = b"\x04\x82\x01\x00" + b"b" * 256
    tlv, end = _der.read_tlv(data)
    assert len(tlv.value) == 256 and end == 260
    # reading at an offset
    tlv, end = _der.read_tlv(b"\x05\x00\x02\x01\x07", 2)
    assert (tlv.tag, tlv.value, end) == (2, b"\x07", 5)


def test_der_read_tlv_errors():
    for bad in (b"", b"\x04", b"\x04\x05abc", b"\x04\x82\x01", b"\x04\x81\x05ab",
                b"\x30\x80\x00\x00", b"\x04\x85\x00\x00\x00\x00\x01a", b"\x1f\x01\x00"):
        with pytest.raises(ValueError):
            _der.read_tlv(bad)


def test_der_children_single_integer():
    assert [t.tag for t in _der.children(b"\x05\x00\x02\x01\x01")] == [5, 2]
    assert _der.children(b"") == []
    with pytest.raises(ValueError):
        _der.children(b"\x05\x00\x02")
    with pytest.raises(ValueError, match="trailing"):
        _der.single(b"\x05\x00\x00")
    assert _der.integer(_der.single(b"\x02\x01\xff")) == -1
    assert _der.integer(_der.single(b"\x02\x02\x00\xff")) == 255
    with pytest.raises(ValueError):
        _der.integer(_der.single(b"\x04\x01\xff"))


def test_der_context_number():
    assert _der.TLV(0xA5, b"", b"").context_number == 5
    assert _der.TLV(0x82, b"", b"").context_number == 2
    assert _der.TLV(0x30, b"", b"").context_number is None


def test_der_bit_string_flags():
    # bit 0 is the first (most significant) bit of the first content octet
    assert _der.bit_string_flags(_der.single(b"\x03\x02\x05\xa0")) == 0b101
    assert _der.bit_string_flags(_der.single(b"\x03\x03\x07\x00\x80")) == 1 << 8
    assert _der.bit_string_flags(_der.single(b"\x03\x01\x00")) == 0
    with pytest.raises(ValueError):
        _der.bit_string_flags(_der.TLV(3, b"", b"\x03\x00"))
    with pytest.raises(ValueError):
        _der.bit_string_flags(_der.single(b"\x04\x01\x00"))


def test_der_utf8_strings():
    assert _der.utf8_strings(_der.single(b"\x30\x07\x0c\x01a\x0c\x02\xc3\xbc")) == ["a", "ü"]
    with pytest.raises(ValueError):
        _der.utf8_strings(_der.single(b"\x0c\x01a"))


def test_der_pkistatusinfo():
    texts = der_seq(b"\x0c\x03foo", b"\x0c\x03bar")
    der = der_seq(b"\x02\x01\x02", texts, b"\x03\x02\x04\xa0")
    assert _der.pkistatusinfo(der) == (2, 0b101, ["foo", "bar"])
    assert _der.pkistatusinfo(der_seq(b"\x02\x01\x00")) == (0, 0, [])
    for bad in (b"\x30\x00", b"\x02\x01\x00", der_seq(b"\x04\x01\x00"), der + b"\x00"):
        with pytest.raises(ValueError):
            _der.pkistatusinfo(bad)


def test_der_pkistatusinfo_matches_openssl():
    si = StatusInfo(PKIStatus.REJECTION, FailInfo.BAD_ALG | FailInfo.SYSTEM_FAILURE, "t")
    pkisi = si._to_c()
    try:
        der = openssl_cmp._bio.i2d(lib.i2d_OSSL_CMP_PKISI, pkisi, "si")
    finally:
        lib.OSSL_CMP_PKISI_free(pkisi)
    assert _der.pkistatusinfo(der) == (2, (1 << 0) | (1 << 25), ["t"])


def test_der_pkiheader(cmp_messages):
    req = Message.read(cmp_messages[0])
    hdr_der = openssl_cmp._bio.i2d(lib.i2d_OSSL_CMP_PKIHEADER,
                                   lib.OSSL_CMP_MSG_get0_header(req.ptr), "hdr")
    fields = _der.pkiheader(hdr_der)
    assert fields["pvno"] == 2
    assert fields["sender"] == GeneralName.directory("/CN=x").to_der()
    assert fields["sender_kid"] == b"x"
    assert fields["transaction_id"] == req.transaction_id
    assert "recip_nonce" not in fields
    # the protectionAlg's OID, read once for every protection decision: PBM here
    assert fields["protection_oid"] == _der.encode_oid("1.2.840.113533.7.66.13")
    assert _der.single(fields["protection_alg"]).value.startswith(fields["protection_oid"])
    with pytest.raises(ValueError):
        _der.pkiheader(der_seq(b"\x02\x01\x02"))


def test_der_pkiheader_protection_oid_absent_or_unreadable():
    name = GeneralName.directory("/CN=x").to_der()
    base = _der.encode_integer(2) + name + name
    assert "protection_oid" not in _der.pkiheader(_der.sequence(base))
    # [1] protectionAlg holding a SEQUENCE whose contents are not DER: no OID, no error
    broken = _der.encode(0xA1, _der.encode(0x30, b"\x06\x05\x2b"))
    fields = _der.pkiheader(_der.sequence(base + broken))
    assert "protection_alg" in fields and "protection_oid" not in fields
    # a protectionAlg that starts with something other than an OID: none either
    odd = _der.encode(0xA1, _der.sequence(_der.encode_integer(1)))
    assert "protection_oid" not in _der.pkiheader(_der.sequence(base + odd))
