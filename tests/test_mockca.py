"""MockCA in-process (attach, the C fast path): the full lifecycle with PBM and with
signatures, and every fault-injection option observed from the client side."""

import pytest

from openssl_cmp import (CSR, ITAV, CMPError, Certificate, Context, FailInfo, LogLevel, Name,
                         Option, PKIStatus, PrivateKey, ReqType, TrustStore, binding)
from openssl_cmp.testing import CA_CERTS_OID, MockCA

from helpers import sign_with

SIGN_KEY_PAIR_TYPES = "1.3.6.1.5.5.7.4.2"


def polls(ctx):
    seen = []
    ctx.log_callback = lambda comp, f, line, level, msg: seen.append(msg)
    return seen


@pytest.mark.parametrize("signed", [False, True], ids=["pbm", "signatures"])
def test_full_lifecycle_in_process(signed):
    mock = MockCA(protect_with_cert=signed, allow_key_reuse=True)  # CR re-certifies the key
    key = PrivateKey.generate()
    with mock.client(subject_name="/CN=alice/O=Example", new_pkey=key) as ctx:
        ctx.push_subject_alt_name("DNS:alice.example")
        first = ctx.exec_ir()
        assert first.is_issued_by(mock.ca_cert)
        assert first.subject == Name.parse("/CN=alice/O=Example")
        assert first.public_key() == key.public_key()
        assert "subjectAltName" in first.extensions().names()
        assert ctx.ca_pubs == [mock.ca_cert]
        assert mock.issued == [first] and mock.confirmed == [0]

        ctx.reinit()
        if signed:  # from now on protect with the new certificate
            sign_with(ctx, first, key)
        second = ctx.exec_cr()
        assert second.is_issued_by(mock.ca_cert) and second != first
        if signed and binding.has("OSSL_CMP_CTX_get0_validatedSrvCert"):
            assert ctx.validated_server_cert == mock.ca_cert  # the response was signed

        ctx.reinit()  # KUR and RR must be signed (RFC 9483 §4.1.3, §4.2)
        if not signed:
            ctx.old_cert = first
            ctx.set_new_pkey(PrivateKey.generate("ED25519"))
            with pytest.raises(CMPError) as info:
                ctx.exec_kur()
            assert info.value.fail_info == FailInfo.NOT_AUTHORIZED
            return
        sign_with(ctx, first, key)
        new_key = PrivateKey.generate("ED25519")
        ctx.old_cert = first
        ctx.set_new_pkey(new_key)
        renewed = ctx.exec_kur()
        assert renewed.public_key() == new_key.public_key()
        assert renewed.subject == first.subject

        ctx.reinit()
        ctx.push_genm_itav(ITAV(CA_CERTS_OID))
        ctx.push_genm_itav(ITAV(SIGN_KEY_PAIR_TYPES))
        answer = ctx.exec_genm()
        assert [i.type for i in answer] == [CA_CERTS_OID, SIGN_KEY_PAIR_TYPES]
        ca_certs = answer[0].value_der  # SEQUENCE OF Certificate
        assert mock.ca_cert.to_der() in ca_certs

        ctx.reinit()
        ctx.old_cert = first
        ctx.set_option(Option.REVOCATION_REASON, 1)
        ctx.exec_rr()
        assert mock.revoked == {first.serial_number} and mock.is_revoked(first)
    assert len(mock.issued) == 3


def test_p10cr_uses_the_csr():
    mock = MockCA()
    key = PrivateKey.generate()
    csr = CSR.build("/CN=from-csr", key, sans=["DNS:csr.example", "IP:192.0.2.7"])
    with mock.client(p10_csr=csr) as ctx:
        cert = ctx.exec_p10cr()
    assert cert.subject == Name.parse("/CN=from-csr")
    assert cert.public_key() == key.public_key()
    san = cert.extensions()
    assert "DNS:csr.example" in san.text(san.names().index("subjectAltName"))


def test_renewal_of_revoked_or_unknown_certificate_refused():
    mock = MockCA(protect_with_cert=True)  # answers signed requests with signatures
    key = PrivateKey.generate()
    with mock.client(subject_name="/CN=bob", new_pkey=key) as ctx:
        cert = ctx.exec_ir()
        ctx.reinit()  # revocation is signed by the holder (RFC 9483 §4.2)
        ctx.cert, ctx.pkey, ctx.old_cert = cert, key, cert
        ctx.secret_value = None
        ctx.reference_value = None
        ctx.exec_rr()
        ctx.reinit()
        ctx.old_cert = cert
        with pytest.raises(CMPError) as info:  # signed with the revoked certificate
            ctx.exec_kur()
        assert info.value.server_rejected
        assert info.value.fail_info == FailInfo.SIGNER_NOT_TRUSTED  # RFC 9483 §3.5
        assert len(mock.issued) == 1
        ctx.reinit()
        ctx.old_cert = cert
        with pytest.raises(CMPError) as info:  # revoking twice
            ctx.exec_rr()
        assert info.value.fail_info == FailInfo.SIGNER_NOT_TRUSTED
    other = MockCA()
    stranger = Certificate.create("/CN=stranger", key, other.ca_key, issuer=other.ca_cert)
    with mock.client(subject_name="/CN=bob", new_pkey=key, old_cert=stranger) as ctx:
        with pytest.raises(CMPError) as info:  # MAC-protected KUR (RFC 9483 §4.1.3)
            ctx.exec_kur()
        assert info.value.fail_info == FailInfo.NOT_AUTHORIZED


def test_polling_in_exec_and_with_try_certreq():
    mock = MockCA(poll_count=3, check_after=0, allow_key_reuse=True)
    key = PrivateKey.generate()
    with mock.client(subject_name="/CN=patient", new_pkey=key) as ctx:
        seen = polls(ctx)
        assert ctx.exec_ir().is_issued_by(mock.ca_cert)
        assert seen.count("sending POLLREQ") == 3
    mock.check_after = 5
    with mock.client(subject_name="/CN=patient", new_pkey=key) as ctx:
        assert ctx.try_certreq(ReqType.IR) == (None, 5)  # first answer: waiting
        steps = []
        while True:
            cert, check_after = ctx.try_certreq(ReqType.IR)
            steps.append(check_after)
            if cert is not None:
                break
            assert len(steps) < 10
        assert steps[:-1] == [5] * (len(steps) - 1) and cert.is_issued_by(mock.ca_cert)


def test_try_certreq_first_answer_is_waiting_with_check_after():
    mock = MockCA(poll_count=2, check_after=7)
    with mock.client(subject_name="/CN=w", new_pkey=PrivateKey.generate()) as ctx:
        assert ctx.try_certreq(ReqType.IR) == (None, 7)
        assert ctx.try_certreq(-1) == (None, 0)  # abort
    assert mock.issued == []


def test_rejection_with_status_fail_info_and_text():
    mock = MockCA(pkistatus=PKIStatus.REJECTION, fail_info=FailInfo.BAD_POP,
                  status_string="no proof")
    with mock.client(subject_name="/CN=x", new_pkey=PrivateKey.generate()) as ctx:
        with pytest.raises(CMPError) as info:
            ctx.exec_ir()
    err = info.value
    assert err.server_rejected and err.status == PKIStatus.REJECTION
    assert err.fail_info == FailInfo.BAD_POP and err.status_strings == ["no proof"]
    assert mock.issued == []


def test_granted_with_mods_and_text_still_issues():
    mock = MockCA(pkistatus=PKIStatus.GRANTED_WITH_MODS, status_string="changed")
    with mock.client(subject_name="/CN=x", new_pkey=PrivateKey.generate()) as ctx:
        cert = ctx.exec_ir()
        assert ctx.status == PKIStatus.GRANTED_WITH_MODS
        assert ctx.status_strings == ["changed"]
    assert mock.issued == [cert]


def test_send_error():
    mock = MockCA(send_error=True, status_string="maintenance")
    with mock.client(subject_name="/CN=x", new_pkey=PrivateKey.generate()) as ctx:
        with pytest.raises(CMPError) as info:
            ctx.exec_ir()
    assert info.value.server_rejected
    assert any("maintenance" in (e.data or "") for e in info.value.errors)


@pytest.mark.parametrize("granted", [True, False])
def test_implicit_confirm(granted):
    mock = MockCA(grant_implicit_confirm=granted)
    with mock.client(subject_name="/CN=x", new_pkey=PrivateKey.generate()) as ctx:
        seen = polls(ctx)
        ctx.set_option(Option.IMPLICIT_CONFIRM, 1)
        ctx.exec_ir()
    assert ("sending CERTCONF" in seen) is not granted
    assert mock.confirmed == ([] if granted else [0])


def test_wrong_secret_and_missing_trust():
    mock = MockCA()
    with mock.client(subject_name="/CN=x", new_pkey=PrivateKey.generate()) as ctx:
        ctx.secret_value = b"wrong"
        ctx.log_verbosity = LogLevel.CRIT
        with pytest.raises(CMPError) as info:
            ctx.exec_ir()
        assert not info.value.server_rejected
    signed = MockCA(protect_with_cert=True, secret=None)
    key = PrivateKey.generate()
    cert = Certificate.create("/CN=pre", key, signed.ca_key, issuer=signed.ca_cert)
    with signed.client(subject_name="/CN=pre", new_pkey=key, cert=cert, pkey=key) as ctx:
        assert ctx.exec_cr().is_issued_by(signed.ca_cert)  # signed both ways, no PBM
        ctx.reinit()
        ctx.trusted = TrustStore()  # no trust in the CA: its signature cannot be checked
        ctx.log_verbosity = LogLevel.CRIT
        with pytest.raises(CMPError) as info:
            ctx.exec_cr()
        assert info.value.status is None


def test_constructor_validation():
    with pytest.raises(ValueError):
        MockCA(poll_count=-1)
    with pytest.raises(ValueError):
        MockCA(pkistatus=-3)
    with pytest.raises(ValueError):
        MockCA(fail_info=1 << 30)
    key = PrivateKey.generate()
    with pytest.raises(ValueError):
        MockCA(ca_cert=Certificate.create("/CN=a", key, key))
    with pytest.raises(ValueError, match="does not belong"):
        MockCA(ca_key=PrivateKey.generate(), ca_cert=Certificate.create("/CN=a", key, key))
    with pytest.raises(TypeError):
        MockCA().client(no_such_attribute=1)



# Guards against a non-int ``check_after`` raising ValueError instead of TypeError.
def test_constructor_check_after_wrong_type():
    with pytest.raises(TypeError):
        MockCA(check_after="1")

def test_given_ca_key_and_cert_are_used():
    key = PrivateKey.generate()
    ca = Certificate.create("/CN=My Test CA", key, key, ca=True)
    mock = MockCA(key, ca)
    assert mock.ca_cert == ca and mock.ca_key is key
    with mock.client(subject_name="/CN=x", new_pkey=PrivateKey.generate()) as ctx:
        assert ctx.exec_ir().issuer == Name.parse("/CN=My Test CA")


def test_pytest_plugin_fixtures(cmp_mock_ca, cmp_client):
    cert = cmp_client.exec_ir()
    assert cert.subject == Name.parse("/CN=cmp-client")
    assert cmp_mock_ca.issued == [cert]
    assert isinstance(cmp_client, Context)
