"""The support operations against answers OpenSSL 3.5's own mock server gave
(tests/data/genp-3.5, recorded by tests/data/record_genp.py), replayed through a transfer
callback: on OpenSSL 3.0, whose mock server only echoes, this is how openssl_cmp.support's
own path meets a real peer's answers; on 3.5 OpenSSL's functions read the same bytes.

The client uses the recorded transactionID and PBM credentials; each answer's recipNonce is
set to the request's senderNonce and the answer re-protected, so that it passes OpenSSL's
checks of transactionID, recipNonce and protection.  The bodies are what 3.5 sent."""

from pathlib import Path

import pytest

from openssl_cmp import CRL, CMPError, Certificate, Context, Message, RootCaKeyUpdate, TrustStore
from openssl_cmp.binding import lib

DATA = Path(__file__).with_name("data") / "genp-3.5"
TID = bytes(range(16))


def cert(name):
    return Certificate.from_file(DATA / (name + ".pem"))


def _answer(name, request):
    """The recorded response, made an answer to ``request``: OpenSSL draws a fresh
    senderNonce for every request, so the recorded recipNonce (the recorded request's
    senderNonce) is replaced by this request's one, and the message re-protected with the
    recorded PBM credentials (OSSL_CMP_MSG_update_transactionID on a context holding
    them and the recorded transactionID)."""
    recorded_nonce = Message.from_der((DATA / (name + ".req.der")).read_bytes()).sender_nonce
    response = (DATA / (name + ".rsp.der")).read_bytes()
    assert response.count(recorded_nonce) == 1
    answer = Message.from_der(response.replace(recorded_nonce, request.sender_nonce))
    with Context() as protector:
        protector.reference_value, protector.secret_value = b"ref", b"s3cret"
        protector.transaction_id = TID
        assert lib.OSSL_CMP_MSG_update_transactionID(protector.ptr, answer.ptr) == 1
    return answer


def replaying(name, secret=b"s3cret"):
    """A Context whose transfer callback answers with the recorded response."""
    sent = []

    def transfer(ctx, request):
        sent.append(request)
        return _answer(name, request)

    ctx = Context()
    ctx.reference_value, ctx.secret_value = b"ref", secret
    ctx.transaction_id = TID
    ctx.trusted = TrustStore([cert("old")])
    ctx.transfer_callback = transfer
    return ctx, sent


def test_ca_certs():
    ctx, sent = replaying("caCerts")
    with ctx:
        assert ctx.get_ca_certs() == [cert("cacert")]
    # what we sent is what OpenSSL 3.5 sent: a GENM asking for caCerts
    recorded = Message.from_der((DATA / "caCerts.req.der").read_bytes())
    assert sent[0].body_type == recorded.body_type
    assert sent[0].transaction_id == recorded.transaction_id == TID


def test_root_ca_key_update():
    ctx, _ = replaying("rootCaKeyUpdate")
    with ctx:
        update = ctx.get_root_ca_key_update(cert("old"))
    assert update == RootCaKeyUpdate(cert("new"), cert("nwo"), cert("own"))


def test_root_ca_key_update_refused_with_another_old_root():
    """The same answer, but the client's old root is not the one the links chain to."""
    from openssl_cmp import PrivateKey

    other_key = PrivateKey.generate("EC")
    other = Certificate.create("/CN=Replay Root", other_key, other_key, ca=True)
    ctx, _ = replaying("rootCaKeyUpdate")
    with ctx:
        ctx.trusted = TrustStore([other])
        with pytest.raises(CMPError, match="validate|rootCaKeyUpdate|ROOTCAKEYUPDATE"):
            ctx.get_root_ca_key_update(other)


def test_crl_update():
    ctx, _ = replaying("crlUpdate")
    with ctx:
        crl = ctx.get_crl_update(cert=cert("ee"))
    assert crl == CRL.from_file(DATA / "crl.pem")


def test_wrong_secret_fails_protection():
    ctx, _ = replaying("caCerts", secret=b"not the secret")
    with ctx:
        with pytest.raises(CMPError):
            ctx.get_ca_certs()
