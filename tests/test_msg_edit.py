"""Message.edit: a changed copy of a real OpenSSL message (RFC 4210 §5.1 header, §5.3 body,
§5.1.3 protection), with protection kept, removed, broken or recomputed."""

import datetime

import pytest

from openssl_cmp import (ITAV, BodyType, CMPError, Certificate, FailInfo, GeneralName,
                         LogLevel, Message, Name, PKIStatus, PrivateKey, StatusInfo)
from openssl_cmp.testing import MockCA

IMPLICIT_CONFIRM = "1.3.6.1.5.5.7.4.13"


def _record(mock, **attrs):
    """(messages exchanged, client) of one IR against ``mock``."""
    seen = []
    ctx = mock.client(subject_name="/CN=edit", new_pkey=PrivateKey.generate(), **attrs)
    ctx.log_verbosity = LogLevel.EMERG

    def transfer(c, request):
        response = mock.process(request)
        seen.extend([request, response])
        return response

    ctx.transfer_callback = transfer
    ctx.exec_ir()
    ctx.close()
    return seen


@pytest.fixture(scope="module")
def pbm():
    mock = MockCA(grant_implicit_confirm=False)
    return mock, _record(mock)  # ir, ip, certConf, pkiConf


@pytest.fixture(scope="module")
def signed():
    mock = MockCA(protect_with_cert=True, grant_implicit_confirm=False)
    return mock, _record(mock)


def verify(mock, request):
    """What the server says about ``request`` (OpenSSL's own check of it)."""
    fresh = MockCA(ca_key=mock.ca_key, ca_cert=mock.ca_cert, secret=mock.secret,
                   reference=mock.reference)
    fresh.ctx.log_verbosity = LogLevel.EMERG
    return fresh.process(request)


def test_header_fields_round_trip(pbm):
    _, (ir, *_) = pbm
    when = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    itav = ITAV(IMPLICIT_CONFIRM)
    out = ir.edit(transaction_id=b"T" * 16, sender_nonce=b"S" * 16, recip_nonce=b"R" * 16,
                  sender_kid=b"kid", pvno=3, message_time=when, general_info=[itav],
                  sender=Name.parse("/CN=someone"), recipient=GeneralName.dns("ca.example"))
    assert out.transaction_id == b"T" * 16
    assert (out.sender_nonce, out.recip_nonce, out.sender_kid) == (b"S" * 16, b"R" * 16,
                                                                    b"kid")
    assert out.pvno == 3 and out.message_time == when
    assert out.general_info == [itav] and out.implicit_confirm
    assert str(out.sender) == str(GeneralName.directory(Name.parse("/CN=someone")))
    assert str(out.recipient) == "DNS:ca.example"
    # everything else is kept byte for byte: the body and the protection
    assert out.body_type == ir.body_type and out.cert_req_ids == ir.cert_req_ids
    assert out.protection_alg == ir.protection_alg
    assert ir.transaction_id != b"T" * 16  # the original is unchanged


def test_none_removes_optional_header_fields(pbm):
    _, (ir, *_) = pbm
    out = ir.edit(recip_nonce=None, message_time=None, general_info=None)
    assert out.message_time is None and out.general_info is None
    assert out.recip_nonce is None


def test_no_edit_is_identity(pbm):
    for msg in pbm[1]:
        assert msg.edit() == msg


def test_body_fields(pbm):
    mock, (ir, ip, cert_conf, _) = pbm
    assert ir.edit(cert_req_id=5).cert_req_ids == [5]
    reject = StatusInfo(PKIStatus.REJECTION, FailInfo.BAD_CERT_TEMPLATE, "no")
    edited = ip.edit(status=reject)
    assert edited.status_infos == [reject]
    assert edited.certificates == ip.certificates  # the certificate is kept
    assert ip.edit(fail_info=FailInfo.BAD_TIME).status_infos[0].fail_info == \
        FailInfo.BAD_TIME
    assert ip.edit(certificate=None).certificates == []
    assert ip.edit(certificate=mock.ca_cert).certificates == [mock.ca_cert]
    assert ip.edit(cert_req_id=7).cert_req_ids == [7]
    assert cert_conf.edit(cert_hash=b"\x00" * 32).cert_status[0].cert_hash == b"\x00" * 32
    assert cert_conf.edit(cert_req_id=3).cert_req_ids == [3]


def test_extra_certs(signed):
    mock, (ir, *_) = signed
    assert ir.edit(extra_certs=[mock.ca_cert]).extra_certs == [mock.ca_cert]
    assert ir.edit(extra_certs=None).extra_certs is None


def test_error_body():
    mock = MockCA(send_error=True)
    mock.ctx.log_verbosity = LogLevel.EMERG
    ctx = mock.client(subject_name="/CN=e", new_pkey=PrivateKey.generate())
    ctx.log_verbosity = LogLevel.EMERG
    seen = []
    ctx.transfer_callback = lambda c, r: seen.append(mock.process(r)) or seen[-1]
    with pytest.raises(CMPError):
        ctx.exec_ir()
    ctx.close()
    error = seen[0]
    assert error.body_type == BodyType.ERROR
    out = error.edit(error_code=42, error_details=["a", "b"],
                     fail_info=FailInfo.SYSTEM_FAILURE)
    assert (out.error_code, out.error_details) == (42, ["a", "b"])
    assert out.status_infos[0].fail_info == FailInfo.SYSTEM_FAILURE
    assert out.edit(error_code=None, error_details=None).error_code is None


def test_protection_none_and_break(pbm):
    mock, (ir, *_) = pbm
    assert ir.protection_alg is not None
    assert ir.edit(protection="none").protection_alg is None
    broken = ir.edit(protection="break")
    assert broken.protection_alg == ir.protection_alg and broken != ir
    # RFC 4210 §5.1.3: OpenSSL's server refuses both
    assert verify(mock, ir).body_type == BodyType.IP
    for bad in (broken, ir.edit(protection="none")):
        answer = verify(mock, bad)
        assert answer.body_type == BodyType.ERROR
    assert verify(mock, broken).status_infos[0].fail_info & FailInfo.BAD_MESSAGE_CHECK


def test_keep_leaves_an_edited_message_unverifiable(pbm):
    mock, (ir, *_) = pbm
    assert verify(mock, ir.edit(sender_nonce=b"x" * 16)).body_type == BodyType.ERROR


@pytest.mark.parametrize("fixture", ["pbm", "signed"])
def test_reprotect_with_client_credentials(fixture, request):
    """MAC (PBM) and signature: a re-protected edited request passes OpenSSL's check."""
    mock, (ir, *_) = request.getfixturevalue(fixture)
    with mock.client(new_pkey=PrivateKey.generate()) as ctx:
        if fixture == "signed":  # signature protection: the CA's own key as signer
            ctx.cert, ctx.pkey = mock.ca_cert, mock.ca_key
        ctx.transaction_id = b"own tid........."
        out = ir.edit(sender_nonce=b"n" * 16, reprotect=ctx)
        assert out.transaction_id == ir.transaction_id  # the message's, not ctx's
        assert out.sender_nonce == b"n" * 16 and out.protection_alg is not None
        # the context's own transactionID is back: a fresh message gets it
        probe = ir.edit(transaction_id=None, reprotect=ctx)
        assert probe.transaction_id == b"own tid........."
    if fixture == "pbm":
        assert verify(mock, out).body_type == BodyType.IP


def test_reprotect_adds_protection_to_unprotected(pbm):
    mock, (ir, *_) = pbm
    bare = ir.edit(protection="none")
    with mock.client() as ctx:
        out = bare.edit(reprotect=ctx)
    assert out.protection_alg is not None
    assert verify(mock, out).body_type == BodyType.IP


def test_errors(pbm):
    _, (ir, ip, *_) = pbm
    with pytest.raises(TypeError, match="unknown"):
        ir.edit(nonsense=1)
    with pytest.raises(ValueError, match="IR message has no status"):
        ir.edit(status=StatusInfo(PKIStatus.ACCEPTED))
    with pytest.raises(ValueError, match="no cert_hash"):
        ip.edit(cert_hash=b"")
    with pytest.raises(TypeError):
        ir.edit(transaction_id="text")
    with pytest.raises(TypeError):
        ip.edit(status=0)
    with pytest.raises(TypeError):
        ir.edit(pvno=True)
    with pytest.raises(ValueError):
        ip.edit(fail_info=1 << 40)
    with pytest.raises(ValueError, match="protection"):
        ir.edit(protection="maybe")
    with pytest.raises(TypeError):
        ir.edit(reprotect="ctx")
    with pytest.raises(ValueError, match="no protection to break"):
        ir.edit(protection="none").edit(protection="break")


def test_result_always_decodes(pbm, monkeypatch):
    """Every edit goes through Message.from_der: a result OpenSSL cannot decode is a
    ValueError, never a half-made Message (OpenSSL's decoder is lenient with the typed
    keywords, so the encoder is made to produce garbage here)."""
    from openssl_cmp import _msg_edit

    _, (ir, *_) = pbm
    monkeypatch.setattr(_msg_edit, "_header", lambda *a, **k: b"\x30\x03\x02\x01\x02")
    with pytest.raises(ValueError, match="not a valid PKIMessage"):
        ir.edit(pvno=2)
