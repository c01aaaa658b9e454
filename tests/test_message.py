"""The CMP message objects (``message.py``): ITAV, StatusInfo, Message (read from files
recorded by the openssl CLI) and CertRequest (from ``Context.setup_crm``)."""

from __future__ import annotations

import copy
import gc

import pytest

import openssl_cmp
from openssl_cmp import (ITAV, BodyType, CertRequest, Context, FailInfo, GeneralName, Message,
                         Name, OpenSSLError, PKIStatus, PrivateKey, StatusInfo, _der)
from openssl_cmp.binding import ffi, lib

from helpers import run_isolated


# -- ITAV ---------------------------------------------------------------------------------

def test_itav_without_value():
    itav = ITAV("1.2.3.4")
    assert itav.type == "1.2.3.4"
    assert itav.value_der is None
    assert itav.name == "1.2.3.4"
    assert repr(itav) == "<ITAV 1.2.3.4>"


def test_itav_with_value():
    itav = ITAV("1.2.3.4", value_der=b"\x30\x03\x02\x01\x07")
    assert itav.value_der == b"\x30\x03\x02\x01\x07"
    assert ITAV("1.2.3.4", bytearray(b"\x05\x00")).value_der == b"\x05\x00"
    assert repr(itav) == "<ITAV 1.2.3.4 5 bytes>"


def test_itav_known_type_by_name_and_oid():
    by_oid = ITAV("1.3.6.1.5.5.7.4.17")
    assert by_oid.name == "id-it-caCerts"
    by_name = ITAV("id-it-caCerts")
    assert by_name.type == "1.3.6.1.5.5.7.4.17"
    assert by_name == by_oid


def test_itav_equality_and_hash():
    a = ITAV("1.2.3.4", b"\x05\x00")
    b = ITAV("1.2.3.4", b"\x05\x00")
    assert a == b and hash(a) == hash(b)
    assert a != ITAV("1.2.3.4")
    assert a != ITAV("1.2.3.5", b"\x05\x00")
    assert a != ("1.2.3.4", b"\x05\x00")
    assert len({a, b, ITAV("1.2.3.4")}) == 2


def test_itav_invalid():
    for bad in ("not an oid", "1.2.x"):
        with pytest.raises((ValueError, OpenSSLError)):
            ITAV(bad)
    with pytest.raises(OpenSSLError):
        ITAV("1.2.3.4", b"\x30\x05\x02")
    with pytest.raises(ValueError):
        ITAV("1.2.3.4", b"\x05\x00\x05\x00")
    with pytest.raises(TypeError):
        ITAV(1234)
    with pytest.raises(TypeError):
        ITAV("1.2.3.4", value_der="\x05\x00")
    with pytest.raises(ValueError):
        ITAV("1.2.3.4\0")


def test_itav_deepcopy_and_close():
    itav = ITAV("1.2.3.4", b"\x05\x00")
    clone = copy.deepcopy(itav)
    itav.close()
    itav.close()
    assert clone == ITAV("1.2.3.4", b"\x05\x00")
    assert repr(itav) == "<ITAV closed>"
    with pytest.raises(ValueError):
        _ = itav.type


def test_itav_known_info_type_with_value_does_not_crash():
    result = run_isolated("""
        import gc
        from openssl_cmp import ITAV
        for oid, der in (("1.3.6.1.5.5.7.4.1", b"\\x05\\x00"),
                         ("1.3.6.1.5.5.7.4.2", b"\\x30\\x00"),
                         ("1.3.6.1.5.5.7.4.16", b"\\x30\\x00")):
            try:
                itav = ITAV(oid, der)
                itav.value_der
                del itav
            except Exception as exc:
                print(type(exc).__name__)
            gc.collect()
        print("done")
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "done"


SIGN_KEY_PAIR_TYPES = "1.3.6.1.5.5.7.4.2"  # SEQUENCE OF AlgorithmIdentifier, typed on 3.0+
EC_ALG = b"\x30\x09\x06\x07\x2a\x86\x48\xce\x3d\x02\x01"  # id-ecPublicKey, no params


def test_itav_typed_value_goes_through_openssl_codec():
    """A value OpenSSL types itself is built, read and encoded by OpenSSL's own ITAV item
    (``_itav_codec``): no server involved, and wrong values are refused, not confused."""
    from openssl_cmp import _itav_codec

    assert SIGN_KEY_PAIR_TYPES in _itav_codec.TYPED_INFO_OIDS
    assert openssl_cmp.message.TYPED_INFO_OIDS is _itav_codec.TYPED_INFO_OIDS
    value = b"\x30" + bytes([len(EC_ALG)]) + EC_ALG
    itav = ITAV(SIGN_KEY_PAIR_TYPES, value)
    assert itav.value_der == value
    der = itav.to_der()
    assert der == _der.sequence(_der.encode_oid(SIGN_KEY_PAIR_TYPES), value)
    assert ITAV.from_der(der) == itav and ITAV.from_der(der).value_der == value
    assert itav.copy().to_der() == der
    with pytest.raises(OpenSSLError, match="does not match what OpenSSL expects"):
        ITAV(SIGN_KEY_PAIR_TYPES, b"\x05\x00")  # NULL is no SEQUENCE OF AlgorithmIdentifier
    with pytest.raises(OpenSSLError, match="does not match what OpenSSL expects"):
        ITAV.from_der(_der.sequence(_der.encode_oid(SIGN_KEY_PAIR_TYPES), b"\x05\x00"))
    # the raw codec: a pointer in, DER out, and back
    ptr = _itav_codec.decode(der)
    try:
        assert _itav_codec.encode(ptr) == der
    finally:
        lib.OSSL_CMP_ITAV_free(ptr)
    with pytest.raises(ValueError):
        _itav_codec.decode(der + b"\x05\x00")


def test_itav_codec_is_thread_safe():
    import threading

    value = b"\x30" + bytes([len(EC_ALG)]) + EC_ALG
    der = _der.sequence(_der.encode_oid(SIGN_KEY_PAIR_TYPES), value)
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def work():
        try:
            start.wait()
            for _ in range(200):
                itav = ITAV(SIGN_KEY_PAIR_TYPES, value)
                assert itav.value_der == value
                assert itav.to_der() == der
                assert ITAV.from_der(der) == itav
                with pytest.raises(OpenSSLError):
                    ITAV(SIGN_KEY_PAIR_TYPES, b"\x02\x01\x01")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]



# -- StatusInfo ---------------------------------------------------------------------------

def test_status_info_fields():
    si = StatusInfo(PKIStatus.REJECTION, FailInfo.BAD_REQUEST | FailInfo.BAD_POP, "no")
    assert si.status is PKIStatus.REJECTION
    assert si.fail_info == FailInfo.BAD_REQUEST | FailInfo.BAD_POP
    assert isinstance(si.fail_info, FailInfo)
    assert si.text == "no" and si.texts == ["no"]
    plain = StatusInfo(0)
    assert plain.status is PKIStatus.ACCEPTED
    assert plain.fail_info == 0 and plain.text is None and plain.texts == []
    assert StatusInfo(3, 0, ["a", "b"]).text == "a"
    assert StatusInfo(3, 0, ("a",)).texts == ["a"]


def test_status_info_str_is_openssl_snprint():
    assert str(StatusInfo(0)) == "PKIStatus: accepted"
    assert str(StatusInfo(PKIStatus.REJECTION, FailInfo.BAD_REQUEST | FailInfo.BAD_POP, "no")) \
        == 'PKIStatus: rejection; PKIFailureInfo: badRequest, badPOP; StatusString: "no"'
    assert str(StatusInfo(PKIStatus.GRANTED_WITH_MODS, FailInfo.DUPLICATE_CERT_REQ)) \
        == "PKIStatus: granted with modifications; PKIFailureInfo: duplicateCertReq"
    assert str(StatusInfo(PKIStatus.WAITING)) == "PKIStatus: waiting; <no failure info>"


def test_status_info_c_round_trip():
    for si in (StatusInfo(0), StatusInfo(2, FailInfo.BAD_ALG, "x"),
               StatusInfo(6, FailInfo.DUPLICATE_CERT_REQ | FailInfo.BAD_ALG, "ü"),
               StatusInfo(PKIStatus.REVOCATION_NOTIFICATION)):
        pkisi = si._to_c()
        try:
            assert pkisi != ffi.NULL
            again = StatusInfo._from_c(pkisi)
            der = _der.pkistatusinfo(openssl_cmp._bio.i2d(lib.i2d_OSSL_CMP_PKISI, pkisi, "si"))
        finally:
            lib.OSSL_CMP_PKISI_free(pkisi)
        assert again == si
        assert der == (int(si.status), int(si.fail_info), si.texts)


def test_status_info_c_round_trip_keeps_all_texts():
    si = StatusInfo(PKIStatus.WAITING, 0, ["a", "b"])
    pkisi = si._to_c()
    try:
        again = StatusInfo._from_c(pkisi)
    finally:
        lib.OSSL_CMP_PKISI_free(pkisi)
    assert again.texts == ["a", "b"]


def test_status_info_equality_and_hash():
    a = StatusInfo(2, 4, "x")
    b = StatusInfo(PKIStatus.REJECTION, FailInfo.BAD_REQUEST, ["x"])
    assert a == b and hash(a) == hash(b)
    assert a != StatusInfo(2, 4, "y")
    assert a != StatusInfo(2, 8, "x")
    assert a != StatusInfo(0)
    assert a != 2
    assert repr(a) == "StatusInfo(REJECTION, ['BAD_REQUEST'], ['x'])"


def test_status_info_out_of_range():
    for bad in (-1, 7, PKIStatus.TRANS):
        with pytest.raises(ValueError):
            StatusInfo(bad)
    with pytest.raises(ValueError):
        StatusInfo(0, 1 << 27)
    with pytest.raises(ValueError):
        StatusInfo(0, -1)
    StatusInfo(0, (1 << 27) - 1)  # every defined bit is fine


def test_status_info_wrong_types():
    with pytest.raises(TypeError):
        StatusInfo(True)
    with pytest.raises(TypeError):
        StatusInfo("0")
    with pytest.raises(TypeError):
        StatusInfo(0, True)
    with pytest.raises(TypeError):
        StatusInfo(0, 1.0)
    with pytest.raises(TypeError):
        StatusInfo(0, 0, 5)
    with pytest.raises(TypeError):
        StatusInfo(0, 0, ["a", 5])
    with pytest.raises(ValueError):
        StatusInfo(0, 0, "a\0")



# Guards against a fail_info beyond the 27 defined bits reaching C.
def test_status_info_fail_info_out_of_range():
    with pytest.raises(ValueError):
        StatusInfo(PKIStatus.ACCEPTED, 1 << 40)


# -- Message ------------------------------------------------------------------------------

def test_message_read_and_der_round_trip(cmp_messages):
    req_path, rsp_path = cmp_messages
    req = Message.read(req_path)
    assert req.to_der() == req_path.read_bytes()
    assert Message.from_der(req_path.read_bytes()) == req
    assert Message.read(str(rsp_path)).to_der() == rsp_path.read_bytes()


def test_message_body_types(cmp_messages):
    req, rsp = (Message.read(p) for p in cmp_messages)
    assert req.body_type is BodyType.IR
    assert rsp.body_type is BodyType.IP


def test_message_header_fields(cmp_messages):
    req, rsp = (Message.read(p) for p in cmp_messages)
    assert isinstance(req.transaction_id, bytes) and len(req.transaction_id) == 16
    assert rsp.transaction_id == req.transaction_id
    assert len(req.sender_nonce) == 16 and len(rsp.sender_nonce) == 16
    assert rsp.sender_nonce != req.sender_nonce
    assert req.recip_nonce is None
    assert rsp.recip_nonce == req.sender_nonce
    assert req.sender_kid == b"x"  # the PBM reference
    assert rsp.sender_kid == b"x"
    assert req.pvno == 2 and rsp.pvno == 2


def test_message_sender_and_recipient(cmp_messages):
    req, rsp = (Message.read(p) for p in cmp_messages)
    assert req.sender == GeneralName.directory("/CN=x")
    assert str(req.sender) == "DirName:CN = x"
    assert req.recipient == GeneralName.directory(Name.parse("/"))  # NULL-DN
    assert rsp.recipient == GeneralName.directory("/CN=x")


def test_message_write(cmp_messages, tmp_path):
    req = Message.read(cmp_messages[0])
    out = tmp_path / "copy.der"
    req.write(out)
    assert out.read_bytes() == cmp_messages[0].read_bytes()
    req.write(str(tmp_path / "copy2.der"))
    assert Message.read(tmp_path / "copy2.der") == req
    with pytest.raises(OpenSSLError):
        req.write(tmp_path / "no" / "such" / "dir.der")


def test_message_equality_hash_repr(cmp_messages):
    req, rsp = (Message.read(p) for p in cmp_messages)
    again = Message.from_der(cmp_messages[0].read_bytes())
    assert req == again and hash(req) == hash(again)
    assert req != rsp
    assert req != cmp_messages[0].read_bytes()
    assert repr(req) == "<Message IR tid=%s>" % req.transaction_id.hex()[:16]


def test_message_bad_input(cmp_messages, tmp_path):
    with pytest.raises(OpenSSLError):
        Message.from_der(b"\x30\x03\x02\x01\x02")
    with pytest.raises(ValueError, match="trailing"):
        Message.from_der(cmp_messages[0].read_bytes() + b"\x00")
    with pytest.raises(TypeError):
        Message.from_der("text")
    with pytest.raises(OpenSSLError):
        Message.read(tmp_path / "missing.der")
    with pytest.raises(TypeError):
        Message.read(12)
    with pytest.raises(ValueError):
        Message.read("a\0b")
    garbage = tmp_path / "garbage.der"
    garbage.write_bytes(b"garbage")
    with pytest.raises(OpenSSLError):
        Message.read(garbage)


def test_message_write_bad_path(cmp_messages):
    req = Message.read(cmp_messages[0])
    with pytest.raises(ValueError):
        req.write("a\0b")
    with pytest.raises(TypeError):
        req.write(12)


def test_message_lifetime(cmp_messages):
    req = Message.read(cmp_messages[0])
    clone = copy.deepcopy(req)
    sender = req.sender
    with req:
        pass
    assert req.closed
    req.close()
    gc.collect()
    assert repr(req) == "<Message closed>"
    with pytest.raises(ValueError):
        _ = req.body_type
    assert str(sender) == "DirName:CN = x"
    assert clone.body_type is BodyType.IR



# -- CertRequest --------------------------------------------------------------------------

@pytest.fixture
def crm_and_key():
    key = PrivateKey.generate("EC")
    ctx = Context()
    ctx.subject_name = "/CN=crm"
    ctx.set_new_pkey(key)
    ctx.push_subject_alt_name("DNS:a.example")
    crm = ctx.setup_crm()
    ctx.close()
    return crm, key


def test_cert_request_template(crm_and_key):
    crm, key = crm_and_key
    assert isinstance(crm, CertRequest)
    assert crm.subject == Name.parse("/CN=crm")
    assert crm.public_key() == key.public_key()
    assert crm.extensions().has_san
    assert crm.extensions().names() == ["subjectAltName"]
    assert crm.extensions().text(0) == "DNS:a.example"
    assert crm.cert_req_id == 0
    assert crm.issuer is None
    assert crm.serial_number is None
    assert crm.old_cert_id is None
    assert repr(crm) == "<CertRequest id=0 subject=CN=crm>"


def test_cert_request_der_round_trip(crm_and_key):
    crm, key = crm_and_key
    der = crm.to_der()
    again = CertRequest.from_der(der)
    assert again.to_der() == der
    assert again.subject == crm.subject and again.public_key() == key
    with pytest.raises(ValueError, match="trailing"):
        CertRequest.from_der(der + b"\x00")
    with pytest.raises(OpenSSLError):
        CertRequest.from_der(b"\x30\x00")
    with pytest.raises(TypeError):
        CertRequest.from_der("x")


def test_cert_request_id_issuer_and_old_cert(pki, ee_cert, ee_key):
    ctx = Context()
    ctx.old_cert = ee_cert
    ctx.set_new_pkey(ee_key)
    ctx.issuer = "/CN=Test CA"
    crm = ctx.setup_crm(for_kur=True, cert_req_id=5)
    ctx.close()
    assert crm.cert_req_id == 5
    assert crm.issuer == ee_cert.issuer
    assert crm.subject == ee_cert.subject  # taken from the old certificate
    issuer, serial = crm.old_cert_id
    assert issuer == ee_cert.issuer and serial == ee_cert.serial_number
    assert crm.public_key() == ee_cert.public_key()


def test_cert_request_children_outlive_it(crm_and_key):
    crm, key = crm_and_key
    subject, pub, exts = crm.subject, crm.public_key(), crm.extensions()
    crm.close()
    crm.close()
    gc.collect()
    assert str(subject) == "CN=crm" and pub == key and exts.has_san
    assert repr(crm) == "<CertRequest closed>"
    with pytest.raises(ValueError):
        _ = crm.cert_req_id
