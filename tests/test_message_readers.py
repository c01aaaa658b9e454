"""The ``Message`` readers (header, body parts, extraCerts; RFC 4210 §5.1, §5.3), checked on
messages OpenSSL produced in real transactions with MockCA (recorded by a transfer
callback) against what is known to be in them, and on messages built by hand for what
OpenSSL's client never sends (several reasonCodes, RFC 9480 hashAlg, odd fields)."""

from __future__ import annotations

import datetime

import pytest

from openssl_cmp import (ITAV, BodyType, Certificate, CertStatus, CMPError, Extensions, Message,
                         Name, OpenSSLError, Option, PKIStatus, PrivateKey, RevDetails,
                         RevocationReason, StatusInfo, _der, _msg_fields)
from openssl_cmp.binding import lib
from openssl_cmp.testing import CA_CERTS_OID, MockCA

from helpers import sign_with as signed_by

PBM_OID = "1.2.840.113533.7.66.13"  # id-PasswordBasedMac (RFC 4211 §4.4)
ECDSA_SHA256_OID = "1.2.840.10045.4.3.2"
IMPLICIT_CONFIRM_OID = "1.3.6.1.5.5.7.4.13"
SHA256_OID = "2.16.840.1.101.3.4.2.1"
READERS = ("protection_alg", "protection_alg_name", "message_time", "general_info",
           "extra_certs", "status_infos", "certificates", "ca_pubs", "cert_req_ids",
           "rev_details", "cert_status", "error_code", "error_details", "validated_signer")


class Recorder:
    """A transfer callback that passes each request to ``mock`` and records the
    (request, response) pairs."""

    def __init__(self, mock):
        self.mock = mock
        self.exchanges: list[tuple[Message, Message]] = []

    def __call__(self, ctx, request):
        response = self.mock.process(request)
        self.exchanges.append((request, response))
        return response

    def bodies(self):
        return [(q.body_type, r.body_type) for q, r in self.exchanges]

    def take(self):
        out, self.exchanges = self.exchanges, []
        return out


def recording_client(mock, key, **attrs):
    ctx = mock.client(subject_name="/CN=reader-test", new_pkey=key, **attrs)
    recorder = Recorder(mock)
    ctx.transfer_callback = recorder
    return ctx, recorder


def sign_with(ctx, cert, key):
    """Protect the next requests with ``cert``/``key`` instead of PBM (RFC 9483 §4.1.3 and
    §4.2: a KUR and an RR are signed by the certificate's holder)."""
    ctx.reinit()
    signed_by(ctx, cert, key)


def now_s():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def only(message, *present):
    """Every reader not in ``present`` gives None (the field is absent or does not
    belong to the body type)."""
    for name in READERS:
        if name not in present:
            assert getattr(message, name) is None, "%s of %s" % (name, message)


# -- hand-built messages -------------------------------------------------------------------

EMPTY_DN = b"\xa4\x02\x30\x00"  # GeneralName directoryName [4] of the empty Name


def header(pvno=2, *fields):
    return _der.sequence(_der.encode_integer(pvno), EMPTY_DN, EMPTY_DN, *fields)


def pkimessage(body_type, content, hdr=None, extra=b""):
    """An unprotected PKIMessage: body [body_type] EXPLICIT content."""
    return _der.sequence(hdr or header(), _der.encode(0xA0 | body_type, content), extra)


def reason_ext(code):
    """A reasonCode Extension (RFC 5280 §5.3.1)."""
    return _der.sequence(_der.encode_oid("2.5.29.21"),
                         _der.encode(0x04, _der.encode(0x0A, bytes((code,)))))


def rev_details_der(issuer, serial, crl_exts=None, extra_template=b""):
    template = _der.sequence(_der.encode(0x81, _der.encode_integer(serial)[2:]),
                             _der.encode(0xA3, issuer.to_der()), extra_template)
    parts = [template]
    if crl_exts is not None:
        parts.append(_der.sequence(*crl_exts))
    return _der.sequence(*parts)


# -- IR, certConf, PKIConf -----------------------------------------------------------------

def test_ir_transaction_readers():
    """RFC 4210 §5.3.1 (ir), §5.3.4 (ip), §5.3.18 (certConf), §5.3.17 (pkiConf)."""
    mock = MockCA()
    key = PrivateKey.generate("EC")
    ctx, rec = recording_client(mock, key)
    before = now_s()
    cert = ctx.exec_ir()
    after = datetime.datetime.now(datetime.timezone.utc)
    assert rec.bodies() == [(BodyType.IR, BodyType.IP), (BodyType.CERTCONF, BodyType.PKICONF)]
    (ir, ip), (conf, pkiconf) = rec.exchanges
    for msg in (ir, ip, conf, pkiconf):
        # PBM on both sides (RFC 4210 §5.1.3.1)
        assert msg.protection_alg == PBM_OID
        assert msg.protection_alg_name == "password based MAC"
        t = msg.message_time
        assert t.tzinfo == datetime.timezone.utc and before <= t <= after
        assert msg.general_info is None and not msg.implicit_confirm
    assert ir.cert_req_ids == [0]
    only(ir, "protection_alg", "protection_alg_name", "message_time", "cert_req_ids")

    assert ip.certificates == [cert] == [mock.issued[-1]]
    assert ip.ca_pubs == [mock.ca_cert] == ctx.ca_pubs
    assert ip.status_infos == [StatusInfo(PKIStatus.ACCEPTED)]
    assert ip.cert_req_ids == [0]
    assert ip.extra_certs == ctx.extra_certs_in
    only(ip, "protection_alg", "protection_alg_name", "message_time", "extra_certs",
         "status_infos", "certificates", "ca_pubs", "cert_req_ids")

    (status,) = conf.cert_status
    assert isinstance(status, CertStatus)
    # certHash: the certificate's hash with its signature's hash (ecdsa-with-SHA256)
    assert status.cert_hash == cert.fingerprint("sha256")
    assert status.cert_req_id == 0 and status.hash_alg is None  # pvno 2: no hashAlg
    assert status.status in (None, StatusInfo(PKIStatus.ACCEPTED))
    assert conf.cert_req_ids == [0]
    only(conf, "protection_alg", "protection_alg_name", "message_time", "cert_req_ids",
         "cert_status")
    only(pkiconf, "protection_alg", "protection_alg_name", "message_time")
    ctx.close()


@pytest.mark.parametrize("granted", [True, False])
def test_implicit_confirm_in_general_info(granted):
    """RFC 4210 §5.1.1.1: id-it-implicitConfirm in the request, and in the response only
    when the server grants it."""
    mock = MockCA(grant_implicit_confirm=granted)
    ctx, rec = recording_client(mock, PrivateKey.generate("EC"))
    ctx.set_option(Option.IMPLICIT_CONFIRM, 1)
    ctx.exec_ir()
    ir, ip = rec.exchanges[0]
    assert ir.implicit_confirm
    assert [i.type for i in ir.general_info] == [IMPLICIT_CONFIRM_OID]
    assert all(isinstance(i, ITAV) for i in ir.general_info)
    assert ip.implicit_confirm is granted
    if granted:
        assert IMPLICIT_CONFIRM_OID in [i.type for i in ip.general_info]
        assert len(rec.exchanges) == 1  # no certConf
    else:
        assert not any(i.type == IMPLICIT_CONFIRM_OID for i in ip.general_info or ())
        assert rec.exchanges[1][0].body_type == BodyType.CERTCONF
    ctx.close()


# -- CR signed, KUR --------------------------------------------------------------------------

def test_signed_cr_and_kur():
    """RFC 4210 §5.1.3.3: a signature-protected request names the algorithm and carries the
    signer's certificate first in extraCerts; §5.3.5 (kur) / §5.3.6 (kup)."""
    mock = MockCA(protect_with_cert=True)
    key = PrivateKey.generate("EC")
    ctx, rec = recording_client(mock, key)
    first = ctx.exec_ir()
    sign_with(ctx, first, key)
    ctx.set_new_pkey(PrivateKey.generate("EC"))  # a CA may refuse to certify a key twice
    rec.take()
    second = ctx.exec_cr()
    cr, cp = rec.exchanges[0]
    assert cr.body_type == BodyType.CR
    assert cr.protection_alg == ECDSA_SHA256_OID
    assert cr.protection_alg_name == "ecdsa-with-SHA256"
    assert cr.extra_certs[0] == first
    assert cr.cert_req_ids == [0]
    assert cp.body_type == BodyType.CP and cp.certificates == [second]
    assert cp.protection_alg == ECDSA_SHA256_OID  # signed by the CA (its key is EC)
    assert cp.extra_certs[0] == mock.ca_cert
    assert cp.status_infos == [StatusInfo(PKIStatus.ACCEPTED)]

    ctx.reinit()
    new_key = PrivateKey.generate("EC")
    ctx.old_cert = first
    ctx.set_new_pkey(new_key)
    rec.take()
    renewed = ctx.exec_kur()
    kur, kup = rec.exchanges[0]
    assert kur.body_type == BodyType.KUR and kur.cert_req_ids == [0]
    assert kup.body_type == BodyType.KUP and kup.certificates == [renewed]
    assert kup.certificates[0].public_key() == new_key.public_key()
    assert kup.cert_req_ids == [0]
    assert kup.status_infos == [StatusInfo(PKIStatus.ACCEPTED)]
    ctx.close()


# -- RR --------------------------------------------------------------------------------------

@pytest.mark.parametrize("reason", [RevocationReason.KEY_COMPROMISE,
                                    RevocationReason.CESSATION_OF_OPERATION,
                                    RevocationReason.NONE])
def test_rr_rev_details(reason):
    """RFC 4210 §5.3.9: RevDetails (certDetails template, crlEntryDetails with the CRLReason
    of RFC 5280 §5.3.1), §5.3.10: the rp's status list."""
    mock = MockCA(protect_with_cert=True)
    key = PrivateKey.generate("EC")
    ctx, rec = recording_client(mock, key)
    cert = ctx.exec_ir()
    sign_with(ctx, cert, key)
    ctx.old_cert = cert
    ctx.set_option(Option.REVOCATION_REASON, int(reason))
    rec.take()
    ctx.exec_rr()
    (rr, rp), = rec.exchanges
    assert rr.body_type == BodyType.RR
    (details,) = rr.rev_details
    assert isinstance(details, RevDetails)
    assert details.issuer == cert.issuer
    assert details.serial == cert.serial_number
    if reason == RevocationReason.NONE:
        assert details.reason is None and details.reasons == []
        assert details.crl_entry_details is None
    else:
        assert details.reason == reason and type(details.reason) is RevocationReason
        assert details.reasons == [reason]
        assert details.crl_entry_details.names() == ["CRLReason"]
    if details.subject is not None:  # newer OpenSSLs may send more of the template
        assert details.subject == cert.subject
    if details.public_key_der is not None:
        assert details.public_key_der == cert.public_key().to_der()
    assert _der.single(details.template_der).tag == 0x30
    with pytest.raises(AttributeError):
        details.reason = 3  # immutable
    assert rr.cert_req_ids is None and rr.status_infos is None
    assert rp.body_type == BodyType.RP
    assert rp.status_infos == [StatusInfo(PKIStatus.ACCEPTED)]
    assert rp.rev_details is None and rp.certificates is None
    ctx.close()


def test_rr_with_several_or_no_reason_codes():
    """RFC 4210 §5.3.9 built by hand: crlEntryDetails with two (contradictory) reasonCode
    extensions, one with an unknown CRLReason, and a RevDetails without crlEntryDetails;
    plus the optional template fields subject, publicKey and extensions."""
    issuer = Name.parse("/CN=Some CA")
    key = PrivateKey.generate("EC")
    spki = key.public_key().to_der()
    exts = Extensions({"subjectAltName": "DNS:a.example"})
    extra_template = (_der.encode(0xA5, Name.parse("/CN=subj").to_der())
                      + b"\xa6" + spki[1:] + b"\xa9" + exts.to_der()[1:])
    content = _der.sequence(
        rev_details_der(issuer, 7, [reason_ext(1), reason_ext(4)]),
        rev_details_der(issuer, 0x1234567890ABCDEF1234, None, extra_template),
        rev_details_der(issuer, 9, [reason_ext(7)]),  # 7 is not a CRLReason value
        rev_details_der(issuer, 10, []))  # crlEntryDetails present but empty
    msg = Message.from_der(pkimessage(11, content))
    assert msg.body_type == BodyType.RR
    two, none, odd, empty = msg.rev_details
    assert (two.issuer, two.serial) == (issuer, 7)
    assert two.reason == RevocationReason.KEY_COMPROMISE
    assert two.reasons == [RevocationReason.KEY_COMPROMISE, RevocationReason.SUPERSEDED]
    assert two.crl_entry_details.names() == ["CRLReason", "CRLReason"]
    assert two.subject is None and two.public_key_der is None and two.extensions is None
    assert none.serial == 0x1234567890ABCDEF1234
    assert none.reason is None and none.reasons == [] and none.crl_entry_details is None
    assert none.subject == Name.parse("/CN=subj")
    assert none.public_key_der == spki
    assert none.extensions == exts
    assert odd.reason == 7 and type(odd.reason) is int and odd.reasons == [7]
    assert empty.reason is None and empty.reasons == [] and len(empty.crl_entry_details) == 0
    assert msg.protection_alg is None and msg.message_time is None
    only(msg, "rev_details")


# -- GENM, errors, polling ------------------------------------------------------------------

def test_genm_and_genp():
    """RFC 4210 §5.3.19: general messages carry ITAVs in the body, not in the header."""
    mock = MockCA()
    ctx, rec = recording_client(mock, PrivateKey.generate("EC"))
    ctx.push_genm_itav(ITAV(CA_CERTS_OID))
    ctx.exec_genm()
    (genm, genp), = rec.exchanges
    assert (genm.body_type, genp.body_type) == (BodyType.GENM, BodyType.GENP)
    for msg in (genm, genp):
        only(msg, "protection_alg", "protection_alg_name", "message_time", "extra_certs")
    ctx.close()


def test_error_response():
    """RFC 4210 §5.3.21: ErrorMsgContent (pKIStatusInfo, errorCode, errorDetails)."""
    mock = MockCA(send_error=True, status_string="maintenance")
    ctx, rec = recording_client(mock, PrivateKey.generate("EC"))
    with pytest.raises(CMPError) as info:
        ctx.exec_ir()
    (ir, error), = rec.exchanges
    assert error.body_type == BodyType.ERROR
    (status,) = error.status_infos
    assert status.status == PKIStatus.REJECTION == info.value.status
    assert status.fail_info == info.value.fail_info
    assert status.texts == info.value.status_strings
    assert isinstance(error.error_code, int)
    assert "errorCode: %08X" % error.error_code in str(info.value)
    assert "maintenance" in error.error_details
    assert error.certificates is None and error.cert_req_ids is None
    ctx.close()


@pytest.mark.parametrize("with_fields", [True, False])
def test_error_from_client_matches_handle_error(with_fields):
    """The readers give what ``Server.handle_error`` gets, field for field (an absent
    errorDetails: None here, [] there)."""
    mock = MockCA()
    mock.accept_unprotected = True
    parts = [_der.encode_pkistatusinfo(2, 1 << 2, ["client gives up"])]
    if with_fields:
        parts += [_der.encode_integer(42), _der.sequence(_der.encode_utf8("why"),
                                                         _der.encode_utf8("because"))]
    hdr = header(2, _der.encode(0xA4, _der.encode(0x04, b"\x01" * 16)),
                 _der.encode(0xA5, _der.encode(0x04, b"\x02" * 16)))
    request = Message.from_der(pkimessage(23, _der.sequence(*parts), hdr))
    response = mock.process(request)
    assert len(mock.errors_received) == 1, response
    status, code, details = mock.errors_received[0]
    assert request.status_infos == [status]
    assert request.error_code == code == (42 if with_fields else None)
    assert (request.error_details or []) == details
    assert request.error_details == (["why", "because"] if with_fields else None)


def test_polling():
    """RFC 4210 §5.3.22: pollReq/pollRep carry certReqIds; the waiting ip has a status and
    no certificate."""
    mock = MockCA(poll_count=2, check_after=0)
    ctx, rec = recording_client(mock, PrivateKey.generate("EC"))
    cert = ctx.exec_ir()
    kinds = rec.bodies()
    assert kinds[:3] == [(BodyType.IR, BodyType.IP), (BodyType.POLLREQ, BodyType.POLLREP),
                         (BodyType.POLLREQ, BodyType.IP)]
    (_, waiting), (poll_req, poll_rep), (poll_req2, final) = rec.exchanges[:3]
    assert waiting.status_infos[0].status == PKIStatus.WAITING
    assert waiting.certificates == [] and waiting.cert_req_ids == [0]
    for msg in (poll_req, poll_rep, poll_req2):
        assert msg.cert_req_ids == [0]
    assert poll_rep.status_infos is None  # PollRepContent has no PKIStatusInfo
    assert final.certificates == [cert]
    ctx.close()


# -- pvno 3: hashAlg -----------------------------------------------------------------------

def cert_conf_der(hash_alg):
    status = _der.sequence(
        _der.encode(0x04, b"\xab" * 32), _der.encode_integer(5),
        _der.encode_pkistatusinfo(0, 0, []),
        *([_der.encode(0xA0, _der.sequence(_der.encode_oid(hash_alg)))] if hash_alg else []))
    return pkimessage(24, _der.sequence(status), header(3))


def test_cert_conf_hash_alg_parsed():
    """RFC 9480 §2.10: CertStatus hashAlg [0] AlgorithmIdentifier (pvno 3), read from the
    DER on every OpenSSL."""
    parts = _msg_fields.split(cert_conf_der(SHA256_OID))
    assert parts.body_type == BodyType.CERTCONF and parts.header["pvno"] == 3
    (entry,) = _msg_fields.cert_confirm(parts.body)
    assert entry.hash_alg == SHA256_OID and entry.cert_req_id == 5
    assert entry.cert_hash == b"\xab" * 32


def test_cert_conf_hash_alg_in_message():
    """RFC 9480 §2.10 through Message; OpenSSL before 3.2 does not know hashAlg and refuses
    such a certConf in d2i."""
    try:
        msg = Message.from_der(cert_conf_der(SHA256_OID))
    except OpenSSLError:
        pytest.skip("this OpenSSL does not decode CertStatus hashAlg (RFC 9480)")
    assert msg.pvno == 3
    assert msg.cert_status == [CertStatus(b"\xab" * 32, 5, StatusInfo(PKIStatus.ACCEPTED),
                                          SHA256_OID)]


def test_cert_conf_without_hash_alg_by_hand():
    msg = Message.from_der(cert_conf_der(None))
    assert msg.pvno == 3 and msg.cert_req_ids == [5]
    assert msg.cert_status == [CertStatus(b"\xab" * 32, 5, StatusInfo(PKIStatus.ACCEPTED),
                                          None)]


# -- header fields built by hand ------------------------------------------------------------

def test_header_fields_by_hand():
    """RFC 4210 §5.1.1: messageTime [0] GeneralizedTime (with a fraction), protectionAlg [1]
    with an OID OpenSSL does not know, generalInfo [8]."""
    hdr = header(2, _der.encode(0xA0, _der.encode(0x18, b"20260102030405.25Z")),
                 _der.encode(0xA1, _der.sequence(_der.encode_oid("1.2.3.4.5"))),
                 _der.encode(0xA8, _der.sequence(ITAV("1.2.3.9", b"\x05\x00").to_der(),
                                                 ITAV(IMPLICIT_CONFIRM_OID).to_der())))
    msg = Message.from_der(pkimessage(19, b"\x05\x00", hdr))  # pkiconf: NULL
    assert msg.message_time == datetime.datetime(2026, 1, 2, 3, 4, 5, 250000,
                                                 tzinfo=datetime.timezone.utc)
    assert msg.protection_alg == "1.2.3.4.5"
    assert msg.protection_alg_name == "1.2.3.4.5"  # unknown to OpenSSL: the OID itself
    assert msg.general_info == [ITAV("1.2.3.9", b"\x05\x00"), ITAV(IMPLICIT_CONFIRM_OID)]
    assert msg.implicit_confirm


def test_extra_certs_and_ca_pubs_by_hand():
    """RFC 4210 §5.1 extraCerts [1] and §5.3.4 caPubs [1]; an encryptedCert [1] response is
    skipped by ``certificates``."""
    key = PrivateKey.generate("EC")
    c1 = Certificate.create("/CN=one", key, key)
    c2 = Certificate.create("/CN=two", key, key)
    accepted = _der.encode_pkistatusinfo(0, 0, [])
    plain = _der.sequence(_der.encode_integer(1), accepted,
                          _der.sequence(_der.encode(0xA0, c1.to_der())))
    rejected = _der.sequence(_der.encode_integer(2), _der.encode_pkistatusinfo(2, 4, ["no"]))
    content = _der.sequence(_der.encode(0xA1, _der.sequence(c2.to_der(), c1.to_der())),
                            _der.sequence(plain, rejected))
    extra = _der.encode(0xA1, _der.sequence(c2.to_der()))
    msg = Message.from_der(pkimessage(3, content, extra=extra))
    assert msg.body_type == BodyType.CP
    assert msg.certificates == [c1]
    assert msg.ca_pubs == [c2, c1]
    assert msg.extra_certs == [c2]
    assert msg.cert_req_ids == [1, 2]
    assert msg.status_infos == [StatusInfo(PKIStatus.ACCEPTED),
                                StatusInfo(PKIStatus.REJECTION, 4, "no")]


# -- caching and mutation --------------------------------------------------------------------

def test_readers_follow_changes_made_in_c():
    """A message changed by C (re-protected by ``OSSL_CMP_MSG_update_transactionID``) is read
    afresh: nothing stale comes from the cache."""
    mock = MockCA()
    key = PrivateKey.generate("EC")
    ctx, rec = recording_client(mock, key)
    cert = ctx.exec_ir()
    ir = rec.exchanges[0][0]
    assert ir.protection_alg == PBM_OID and ir.extra_certs is None
    signer = mock.client()
    signer.secret_value = None
    signer.reference_value = None
    signer.cert, signer.pkey = cert, key
    assert lib.OSSL_CMP_MSG_update_transactionID(signer.ptr, ir.ptr) == 1
    assert ir.protection_alg == ECDSA_SHA256_OID
    assert ir.extra_certs[0] == cert
    signer.close()
    ctx.close()


def test_validated_signer_defaults_to_none_and_can_be_set():
    mock = MockCA()
    key = PrivateKey.generate("EC")
    ctx, rec = recording_client(mock, key)
    cert = ctx.exec_ir()
    ir = rec.exchanges[0][0]
    assert ir.validated_signer is None
    ir._validated_signer = cert  # what a Server does on the requests it hands to handlers
    assert ir.validated_signer is cert
    view = Message._view(ir.ptr)
    assert view.validated_signer is None
    view._validated_signer = cert
    assert view.validated_signer is cert
    ctx.close()


# -- malformed input -----------------------------------------------------------------------

def test_malformed_time_is_value_error():
    """A messageTime OpenSSL's d2i takes but that is no time gives ValueError."""
    hdr = header(2, _der.encode(0xA0, _der.encode(0x18, b"20261301000000Z")))
    try:
        msg = Message.from_der(pkimessage(19, b"\x05\x00", hdr))
    except OpenSSLError:
        pytest.skip("this OpenSSL validates GeneralizedTime in d2i")
    with pytest.raises(ValueError, match="messageTime"):
        msg.message_time


@pytest.mark.parametrize("data", [
    b"", b"\x30", b"\x30\x05\x02\x01", b"\x30\x80\x00\x00", b"\x02\x01\x00",
    _der.sequence(header()),  # no body
    _der.sequence(header(), b"\x05\x00"),  # body not a [n] tag
    _der.sequence(header(), b"\x81\x01\x00"),  # body primitive
])
def test_split_rejects_malformed_messages(data):
    with pytest.raises(ValueError):
        _msg_fields.split(data)


@pytest.mark.parametrize("reader, content", [
    (_msg_fields.cert_rep, b"\x30\x00"),  # no response list
    (_msg_fields.cert_rep, _der.sequence(_der.sequence(_der.sequence(_der.encode_integer(0))))),
    (_msg_fields.rev_req, _der.sequence(_der.sequence())),  # RevDetails without template
    (_msg_fields.rev_req, _der.sequence(_der.sequence(_der.sequence(b"\x81\x00")))),
    (_msg_fields.rev_req, _der.sequence(_der.sequence(
        _der.sequence(), _der.sequence(_der.sequence(_der.encode_oid("2.5.29.21"),
                                                     _der.encode(0x04, b"\x02\x01\x01"))))))
    ,  # reasonCode not ENUMERATED
    (_msg_fields.rev_rep_statuses, b"\x30\x00"),
    (_msg_fields.error_msg, b"\x30\x00"),
    (_msg_fields.cert_confirm, _der.sequence(_der.sequence(_der.encode(0x04, b"")))),
    (_msg_fields.poll_ids, _der.sequence(_der.sequence())),
    (_msg_fields.cert_req_msg_ids, _der.sequence(_der.sequence(_der.sequence()))),
    (_msg_fields.cert_rep, b"\x02\x01\x00"),  # not a SEQUENCE
])
def test_body_readers_reject_malformed_content(reader, content):
    with pytest.raises(ValueError):
        reader(_der.single(content))


@pytest.mark.parametrize("value", [b"\x06\x00", b"\x06\x02\x2a\x86", b"\x06\x02\x80\x01",
                                   b"\x02\x01\x00"])
def test_der_oid_rejects_bad_encodings(value):
    with pytest.raises(ValueError):
        _der.oid(_der.single(value))


def test_der_oid_and_time():
    assert _der.oid(_der.single(_der.encode_oid("1.2.840.113549.1.1.11"))) == \
        "1.2.840.113549.1.1.11"
    assert _der.oid(_der.single(b"\x06\x03\x88\x37\x03")) == "2.999.3"  # 40 * 2 + 999
    assert _der.generalized_time(_der.single(_der.encode(0x18, b"19991231235959Z"))) == \
        datetime.datetime(1999, 12, 31, 23, 59, 59, tzinfo=datetime.timezone.utc)
    for bad in (b"19991231235959", b"1999123123595Z", b"19991231235959.Z",
                b"19991231235959.10Z", b"19991331235959Z", b"1999123123595\xffZ"):
        with pytest.raises(ValueError):
            _der.generalized_time(_der.single(_der.encode(0x18, bad)))


def test_value_classes_exported_and_repr():
    import openssl_cmp
    assert {"RevDetails", "CertStatus"} <= set(openssl_cmp.__all__)
    issuer = Name.parse("/CN=Some CA")
    msg = Message.from_der(pkimessage(11, _der.sequence(
        rev_details_der(issuer, 7, [reason_ext(1)]))))
    (details,) = msg.rev_details
    text = repr(details)
    assert text.startswith("RevDetails(issuer=<Name 'CN=Some CA'>, serial=7, reason=")
    assert "template_der=<%d bytes>" % len(details.template_der) in text
    assert details == msg.rev_details[0]  # a value: equal on each read, new objects
    assert details.issuer is not msg.rev_details[0].issuer
    status = CertStatus(b"\x01", 0, None, None)
    assert repr(status) == "CertStatus(cert_hash=b'\\x01', cert_req_id=0, status=None, " \
                           "hash_alg=None)"


def test_readers_on_mutated_messages_raise_cleanly():
    """Messages OpenSSL's d2i still accepts after random byte changes: every reader answers
    or raises ValueError/OpenSSLError (never another exception, never a crash)."""
    import random

    mock = MockCA(protect_with_cert=True)
    key = PrivateKey.generate("EC")
    ctx, rec = recording_client(mock, key)
    cert = ctx.exec_ir()
    sign_with(ctx, cert, key)
    ctx.old_cert = cert
    ctx.set_option(Option.REVOCATION_REASON, 1)
    ctx.exec_rr()
    ctx.close()
    originals = [m.to_der() for pair in rec.exchanges for m in pair]
    rng = random.Random(4210)
    decoded = 0
    for _ in range(1500):
        data = bytearray(rng.choice(originals))
        for _ in range(rng.randint(1, 3)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            msg = Message.from_der(bytes(data))
        except (ValueError, OpenSSLError):
            continue
        decoded += 1
        for name in READERS + ("implicit_confirm",):
            try:
                getattr(msg, name)
            except (ValueError, OpenSSLError):
                pass
    assert decoded > 100  # the loop did read mutated messages
