"""Delayed delivery (RFC 9483 §3.4, RFC 4210 §5.3.22): ``Server.delay`` answers any
request "waiting" and the client's pollReq gets the original request processed later
(OpenSSL 3.3+, ``OSSL_CMP_SRV_CTX_init_trans``).  Tests marked ``needs_33`` only run on
OpenSSL 3.3+; before that, defining ``delay`` raises UnsupportedError naming 3.3 and the
classic polling of certificate requests keeps working."""

from __future__ import annotations

import pytest

from helpers import process_client

from openssl_cmp import (Certificate, ITAV, LogLevel, Option,
                         PrivateKey, UnsupportedError)
from openssl_cmp.binding import has
from openssl_cmp.enums import BodyType
from openssl_cmp.server import CertResponse, Server
from openssl_cmp.testing import MockCA

HAS_DELAY = has("OSSL_CMP_SRV_CTX_init_trans")
needs_33 = pytest.mark.skipif(not HAS_DELAY, reason="delayed delivery needs OpenSSL 3.3")
before_33 = pytest.mark.skipif(HAS_DELAY, reason="checks the refusal before OpenSSL 3.3")

CA_KEY = PrivateKey.generate()
CA = Certificate.create("/CN=Delay CA", CA_KEY, CA_KEY, ca=True)
OID = "1.3.6.1.4.1.99999.1"


class Delaying(Server):
    """Keeps each request waiting for ``polls`` pollReqs, then answers it."""

    def __init__(self, polls=2, **kw):
        super().__init__(**kw)
        self.ctx.reference_value, self.ctx.secret_value = b"srv", b"pw"
        self.ctx.log_verbosity = LogLevel.EMERG
        self.polls = polls
        self.left = {}  # transaction ID -> polls left
        self.asked = []  # body types delay() was asked about
        self.handled = []

    def delay(self, request):
        self.asked.append(request.body_type)
        tid = request.transaction_id
        left = self.left.setdefault(tid, self.polls)
        if left == 0:
            return None
        self.left[tid] = left - 1
        return 0  # poll again at once

    def handle_genm(self, request, itavs):
        self.handled.append("genm")
        return itavs

    def handle_cert_request(self, request, cert_req_id, crm, csr):
        self.handled.append("cert")
        return CertResponse.accepted(
            Certificate.create(crm.subject, crm.public_key(), CA_KEY, issuer=CA))

    def handle_cert_conf(self, request, cert_req_id, cert_hash, status):
        self.handled.append("certConf")
        return True


def client(server):
    ctx = process_client(server, "/CN=delayed")
    ctx.set_option(Option.TOTAL_TIMEOUT, 30)
    return ctx


@before_33
def test_delay_before_33_is_unsupported_naming_33():
    with pytest.raises(UnsupportedError, match="3.3"):
        Delaying()
    with pytest.raises(UnsupportedError, match="3.3"):
        Server(delay=lambda request: None)


def test_classic_polling_of_cert_requests_on_every_version():
    """RFC 4210 §5.3.22: CertResponse.waiting() + handle_poll_req (MockCA poll_count)."""
    mock = MockCA(poll_count=2, check_after=0)
    with mock.client(subject_name="/CN=polled", new_pkey=PrivateKey.generate()) as ctx:
        cert = ctx.exec_ir()
    assert mock.issued == [cert]


def test_delay_is_validated():
    with pytest.raises(TypeError):
        Server(delay=42)


@needs_33
def test_genm_delayed_then_answered():
    """RFC 9483 §3.4: a GENM answered "waiting", polled twice, then the GENP."""
    server = Delaying(polls=2)
    with client(server) as ctx:
        ctx.push_genm_itav(ITAV(OID, b"\x05\x00"))
        answer = ctx.exec_genm()
    assert [i.type for i in answer] == [OID]
    assert server.handled == ["genm"]  # once, after the polls
    assert len(server.asked) == 3  # on arrival, then at each pollReq
    assert all(w.delayed is None for w in server._all)  # released with the transaction
    assert server.open_transactions == 0


@needs_33
def test_cert_request_delayed_then_issued():
    server = Delaying(polls=1)
    server.delay = lambda request, inner=server.delay: (
        inner(request) if request.body_type != BodyType.CERTCONF else None)  # certConf at once
    with client(server) as ctx:
        cert = ctx.exec_ir()
    assert cert.is_issued_by(CA)
    assert server.handled == ["cert", "certConf"]


@needs_33
def test_delayed_delivery_attached_client():
    """The C fast path (attach) polls the same way."""
    server = Delaying(polls=1)
    with client(server) as ctx:
        ctx.transfer_callback = None
        server.attach(ctx)
        ctx.push_genm_itav(ITAV(OID, b"\x05\x00"))
        assert [i.type for i in ctx.exec_genm()] == [OID]
    assert server.handled == ["genm"]


@needs_33
def test_delay_failure_answers_an_error_and_is_reraised():
    def broken(request):
        raise RuntimeError("no delay today")

    server = Delaying()
    server.delay = broken
    with client(server) as ctx:
        ctx.push_genm_itav(ITAV(OID, b"\x05\x00"))
        with pytest.raises(RuntimeError, match="no delay today"):
            ctx.exec_genm()
    assert server.handled == []


@needs_33
def test_delay_bad_return_value():
    server = Delaying()
    server.delay = lambda request: -1
    with client(server) as ctx:
        ctx.push_genm_itav(ITAV(OID, b"\x05\x00"))
        with pytest.raises(ValueError, match="delay"):
            ctx.exec_genm()
