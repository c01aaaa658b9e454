"""Server keeps RFC 9483 (Lightweight CMP Profile): precise failInfo in the core's error
answers (§3.5), the header checks the core does not make (§3.1, §3.5, §4.1.1), the MAC of
answers to PBM requests (RFC 9481 §6), per-client secrets and the validated signer."""

import datetime
import re
import subprocess
from pathlib import Path

import pytest

from openssl_cmp import (CMPError, OpenSSLError, Certificate, Context, FailInfo, LogLevel, Message, PKIStatus,
                         PrivateKey, TrustStore, _der)
from openssl_cmp._failinfo import CMP_REASONS, FAIL_INFO_BY_REASON, fail_info_for
from openssl_cmp._header_checks import CheckFailure, check_cert_conf
from openssl_cmp._pbm import PBM_OID, PBMAC1_OID
from openssl_cmp._server_errors import error_parts
from openssl_cmp.binding import has, lib
from openssl_cmp.server import CertResponse, RejectRequest, Server, ServerChecks

from helpers import OPENSSL

CA_KEY = PrivateKey.generate()
CA = Certificate.create("/CN=RFC9483 CA", CA_KEY, CA_KEY, ca=True)
SHA1 = _der.encode_oid("1.3.14.3.2.26")
HMAC_SHA1 = _der.encode_oid("1.3.6.1.5.5.8.1.2")
SHA256 = _der.encode_oid("2.16.840.1.101.3.4.2.1")
HMAC_SHA256 = _der.encode_oid("1.2.840.113549.2.9")


class Issuer(Server):
    """Issues from CA; PBM secret b"secret"."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.ctx.reference_value = b"srv"
        self.ctx.secret_value = b"secret"
        self.ctx.log_verbosity = LogLevel.EMERG
        self.seen = []

    def handle_cert_request(self, request, cert_req_id, crm, csr):
        self.seen.append((request.validated_signer, request.from_ra))
        cert = Certificate.create(crm.subject, crm.public_key(), CA_KEY, issuer=CA)
        return CertResponse.accepted(cert)

    def handle_cert_conf(self, request, cert_req_id, cert_hash, status):
        return True


def client(server, secret=b"secret", reference=b"cli", edit=None, responses=None):
    """A PBM client reaching ``server.process`` through a transfer callback; ``edit``
    changes each request (Message -> Message) on its way; ``responses`` collects answers."""
    ctx = Context()
    ctx.log_verbosity = LogLevel.EMERG
    ctx.reference_value = reference
    if secret is not None:
        ctx.secret_value = secret
    ctx.subject_name = "/CN=c"
    ctx.set_new_pkey(PrivateKey.generate())

    def transfer(c, request):
        if edit is not None:
            request = edit(request)
        response = server.process(request)
        if responses is not None:
            responses.append(response)
        return response

    ctx.transfer_callback = transfer
    return ctx


def status_of(response):
    parts = error_parts(response.to_der())
    assert parts is not None, response.body_type
    return parts


def protection_oid(message):
    alg = message._header().get("protection_alg")
    return None if alg is None else _der.children(_der.single(alg).value)[0].raw


def validates(message, **attributes):
    """OSSL_CMP_validate_msg with a context set up with ``attributes``."""
    with Context() as ctx:
        for name, value in attributes.items():
            setattr(ctx, name, value)
        ok = lib.OSSL_CMP_validate_msg(ctx.ptr, message.ptr) == 1
        lib.ERR_clear_error()
        return ok


# --- header editing (crafted requests) ----------------------------------------------------

def header_parts(message):
    top = _der.children(_der.single(message.to_der()).value)
    return top, _der.children(top[0].value)


def rebuild(message, header_fields, reprotect=None, transaction_id=None):
    """``message`` with its header made of ``header_fields`` (list of DER), then protected
    again with ``reprotect`` (a Context) when given."""
    top, _ = header_parts(message)
    rest = [top[1].raw] + [t.raw for t in top[2:] if t.tag != 0xA0]  # body, extraCerts
    msg = Message.from_der(_der.sequence(_der.sequence(*header_fields), *rest))
    if reprotect is not None:
        reprotect.transaction_id = transaction_id or msg.transaction_id
        assert lib.OSSL_CMP_MSG_update_transactionID(reprotect.ptr, msg.ptr) == 1
    return msg


def pbm_ctx(secret=b"secret"):
    ctx = Context()
    ctx.reference_value, ctx.secret_value = b"cli", secret
    return ctx


def edit_header(message, drop=(), replace=None, secret=b"secret"):
    """Drop the header fields [n] in ``drop``, replace [n] by ``replace[n]`` (DER of the
    inner value), and protect again with the PBM ``secret``."""
    _, fields = header_parts(message)
    replace = replace or {}
    out = [f.raw for f in fields[:3]]  # pvno, sender, recipient
    for f in fields[3:]:
        n = f.context_number
        if n in drop:
            continue
        if n in replace:
            out.append(_der.encode(0xA0 | n, replace.pop(n)))
        else:
            out.append(f.raw)
    for n, inner in sorted(replace.items()):  # new fields, in order
        out.append(_der.encode(0xA0 | n, inner))
    out[3:] = sorted(out[3:], key=lambda raw: raw[0])
    with pbm_ctx(secret) as ctx:
        return rebuild(message, out, ctx)


def crafted(server, body="IR"):
    """The first request of an enrollment (captured; the client never sees an answer)."""
    out = []

    def capture(c, request):
        out.append(request.copy())
        raise RuntimeError("captured")

    with client(server) as ctx:
        ctx.transfer_callback = capture
        with pytest.raises(RuntimeError):
            ctx.exec_ir()
    return out[0]


# --- 1. precise failInfo (RFC 9483 §3.5) -------------------------------------------------

@pytest.mark.parametrize("name, bit", sorted((n, b) for n, b in (
    ("MISSING_PROTECTION", FailInfo.BAD_MESSAGE_CHECK),
    ("WRONG_PBM_VALUE", FailInfo.BAD_MESSAGE_CHECK),
    ("ERROR_VALIDATING_PROTECTION", FailInfo.BAD_MESSAGE_CHECK),
    ("ERROR_VALIDATING_SIGNATURE", FailInfo.BAD_MESSAGE_CHECK),
    ("ALGORITHM_NOT_SUPPORTED", FailInfo.BAD_ALG),
    ("UNKNOWN_ALGORITHM_ID", FailInfo.BAD_ALG),
    ("NO_SUITABLE_SENDER_CERT", FailInfo.SIGNER_NOT_TRUSTED),
    ("MISSING_TRUST_STORE", FailInfo.SIGNER_NOT_TRUSTED),
    ("RECIPNONCE_UNMATCHED", FailInfo.BAD_RECIPIENT_NONCE),
    ("UNEXPECTED_PVNO", FailInfo.UNSUPPORTED_VERSION),
    ("TRANSACTIONID_UNMATCHED", FailInfo.TRANSACTION_ID_IN_USE),
    ("SENDER_GENERALNAME_TYPE_NOT_SUPPORTED", FailInfo.BAD_DATA_FORMAT),
    ("CERTHASH_UNMATCHED", FailInfo.BAD_CERT_ID),
    ("ERROR_PROTECTING_MESSAGE", FailInfo.SYSTEM_FAILURE),
    ("UNEXPECTED_PKIBODY", FailInfo.BAD_REQUEST),
    ("UNSUPPORTED_PKIBODY", FailInfo.BAD_REQUEST),
    ("ERROR_PROCESSING_MESSAGE", FailInfo.BAD_REQUEST),
)))
def test_reason_table(name, bit):
    """RFC 9483 §3.5: one bit per reason the server core can raise."""
    packed = (lib.ERR_LIB_CMP << 23) | CMP_REASONS[name]
    assert fail_info_for(packed) == bit


def test_reason_codes_match_the_headers():
    for name in ("WRONG_PBM_VALUE", "ERROR_PROCESSING_MESSAGE", "ERROR_VALIDATING_PROTECTION",
                 "NO_SUITABLE_SENDER_CERT"):
        assert CMP_REASONS[name] == getattr(lib, "CMP_R_" + name)
    header = Path("/usr/include/openssl/cmperr.h")
    if header.exists():  # every number, against the headers we build with
        defined = dict(re.findall(r"#\s*define CMP_R_(\w+) (\d+)", header.read_text()))
        for name, code in CMP_REASONS.items():
            assert name not in defined or int(defined[name]) == code, name
    assert fail_info_for(None) == FailInfo.BAD_REQUEST
    assert fail_info_for(1 << 31 | 5) == FailInfo.BAD_REQUEST  # a system error
    assert fail_info_for(13 << 23 | 1) == FailInfo.BAD_DATA_FORMAT  # ASN1
    # X509_R_CERTIFICATE_VERIFICATION_FAILED: the signer's path does not validate
    assert fail_info_for(11 << 23 | 139) == FailInfo.SIGNER_NOT_TRUSTED
    assert all(bin(b).count("1") == 1 for b in FAIL_INFO_BY_REASON.values())


def test_wrong_mac_is_bad_message_check_and_stays_mac_protected():
    """RFC 9483 §3.5: protection invalid → badMessageCheck; the answer keeps the MAC."""
    server = Issuer()
    responses = []
    with client(server, secret=b"wrong", responses=responses) as ctx:
        with pytest.raises(CMPError):
            ctx.exec_ir()
    (response,) = responses
    parts = status_of(response)
    assert parts.status == PKIStatus.REJECTION
    assert parts.fail_info == FailInfo.BAD_MESSAGE_CHECK
    assert parts.texts == ["wrong pbm value"]
    assert protection_oid(response) == PBM_OID
    assert validates(response, secret_value=b"secret")
    assert not validates(response, secret_value=b"wrong")


def test_unsupported_pvno_is_unsupported_version():
    server = Issuer()
    request = crafted(server)
    _, fields = header_parts(request)
    with pbm_ctx() as ctx:
        bad = rebuild(request, [_der.encode_integer(5)] + [f.raw for f in fields[1:]], ctx)
    parts = status_of(server.process(bad))
    assert parts.fail_info == FailInfo.UNSUPPORTED_VERSION


def test_sender_not_a_directory_name_is_bad_data_format():
    server = Issuer()
    request = crafted(server)
    _, fields = header_parts(request)
    dns = _der.encode(0x82, b"c.example")  # GeneralName dNSName
    with pbm_ctx() as ctx:
        bad = rebuild(request, [fields[0].raw, dns] + [f.raw for f in fields[2:]], ctx)
    assert status_of(server.process(bad)).fail_info == FailInfo.BAD_DATA_FORMAT


def test_wrong_recip_nonce_in_cert_conf_is_bad_recipient_nonce():
    server = Issuer()
    server.checks.cert_conf_same_credentials = False
    responses = []

    def edit(request):
        if request.body_type.name == "CERTCONF":
            return edit_header(request, replace={6: _der.encode(0x04, b"\x00" * 16)})
        return request

    with client(server, edit=edit, responses=responses) as ctx:
        with pytest.raises(CMPError):
            ctx.exec_ir()
    assert status_of(responses[-1]).fail_info == FailInfo.BAD_RECIPIENT_NONCE


def signed_server():
    """A server with a certificate and key of its own that trusts only CA."""
    server = Issuer()
    key = PrivateKey.generate()
    server.ctx.cert = Certificate.create("/CN=server", key, CA_KEY, issuer=CA)
    server.ctx.pkey = key
    server.ctx.trusted = TrustStore([CA])
    return server


def signing_client(server, issuer_key, issuer_cert, responses=None):
    key = PrivateKey.generate()
    cert = Certificate.create("/CN=signer", key, issuer_key, issuer=issuer_cert)
    ctx = client(server, secret=None, responses=responses)
    ctx.cert, ctx.pkey = cert, key
    ctx.trusted = TrustStore([CA])
    return ctx, cert


def test_untrusted_signer_is_signer_not_trusted_and_answer_stays_signed():
    """RFC 9483 §3.5: the signer's certificate cannot be validated → signerNotTrusted; the
    error answer is signed by the server, as the original was."""
    server = signed_server()
    other_key = PrivateKey.generate()
    other_ca = Certificate.create("/CN=other CA", other_key, other_key, ca=True)
    responses = []
    ctx, _ = signing_client(server, other_key, other_ca, responses)
    with ctx, pytest.raises(CMPError):
        ctx.exec_ir()
    parts = status_of(responses[0])
    assert parts.fail_info == FailInfo.SIGNER_NOT_TRUSTED, (parts.texts, parts.error_code & 0x7FFFFF)
    assert protection_oid(responses[0]) not in (None, PBM_OID)
    assert validates(responses[0], server_cert=server.ctx.cert)


def test_unprotected_original_stays_unprotected():
    server = Issuer()
    server.send_unprotected_errors = True
    responses = []
    with client(server, secret=b"wrong", responses=responses) as ctx, \
            pytest.raises(CMPError):
        ctx.exec_ir()
    assert status_of(responses[0]).fail_info == FailInfo.BAD_MESSAGE_CHECK
    assert protection_oid(responses[0]) is None


def test_handler_rejection_keeps_its_fail_info():
    class Refuser(Issuer):
        def handle_cert_request(self, request, *args):
            raise RejectRequest("not you", fail_info=FailInfo.NOT_AUTHORIZED)

        def handle_rr(self, request, issuer, serial):
            raise RejectRequest("no")

    server = Refuser()
    responses = []
    with client(server, responses=responses) as ctx, pytest.raises(CMPError) as info:
        ctx.exec_ir()
    assert status_of(responses[0]).fail_info == FailInfo.NOT_AUTHORIZED
    assert info.value.fail_info == FailInfo.NOT_AUTHORIZED  # the client validated it
    with pytest.raises(TypeError):
        RejectRequest("x", fail_info="bad")


# --- 2. header checks (RFC 9483 §3.1, §3.5, §4.1.1) ---------------------------------------

def test_missing_transaction_id_is_bad_request():
    server = Issuer()
    request = crafted(server)
    _, fields = header_parts(request)
    bad = rebuild(request, [f.raw for f in fields[:3]] +
                  [f.raw for f in fields[3:] if f.context_number != 4])
    parts = status_of(server.process(bad))
    assert parts.fail_info == FailInfo.BAD_REQUEST and "transactionID" in parts.texts[0]
    assert server.pool_size == 0  # refused before the server core


@pytest.mark.parametrize("nonce", [None, b"\x01" * 8])
def test_short_or_missing_sender_nonce_is_bad_sender_nonce(nonce):
    server = Issuer()
    request = crafted(server)
    if nonce is None:
        bad = edit_header(request, drop=(5,))
    else:
        bad = edit_header(request, replace={5: _der.encode(0x04, nonce)})
    response = server.process(bad)
    assert status_of(response).fail_info == FailInfo.BAD_SENDER_NONCE
    assert response.transaction_id == request.transaction_id
    assert protection_oid(response) == PBM_OID and validates(response, secret_value=b"secret")
    server.checks.min_sender_nonce_bytes = 0  # switched off: the core accepts it
    assert server.process(bad).body_type.name == "IP"


def test_stale_message_time_is_bad_time():
    server = Issuer()
    request = crafted(server)
    old = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1))
    stamp = _der.encode(0x18, old.strftime("%Y%m%d%H%M%SZ").encode())
    bad = edit_header(request, replace={0: stamp})
    assert status_of(server.process(bad)).fail_info == FailInfo.BAD_TIME
    server.checks.message_time_window = 7200
    assert server.process(bad).body_type.name == "IP"


def test_new_transaction_with_an_open_id_is_transaction_id_in_use():
    server = Issuer()
    request = crafted(server)
    assert server.process(request).body_type.name == "IP"  # open, awaiting certConf
    again = edit_header(request, replace={5: _der.encode(0x04, b"\x02" * 16)})
    assert status_of(server.process(again)).fail_info == FailInfo.TRANSACTION_ID_IN_USE


def cert_conf_editor(change):
    def edit(request):
        if request.body_type.name != "CERTCONF":
            return request
        top, fields = header_parts(request)
        return change(request, top, fields)
    return edit


def test_cert_conf_with_two_statuses_is_bad_request():
    server = Issuer()
    responses = []

    def twice(request, top, fields):
        content = _der.single(top[1].value)
        status = _der.children(content.value)[0].raw
        body = _der.encode(top[1].tag, _der.sequence(status, status))
        msg = Message.from_der(_der.sequence(top[0].raw, body))
        with pbm_ctx() as ctx:
            return rebuild(msg, [f.raw for f in fields], ctx)

    with client(server, edit=cert_conf_editor(twice), responses=responses) as ctx, \
            pytest.raises(CMPError):
        ctx.exec_ir()
    parts = status_of(responses[-1])
    assert parts.fail_info == FailInfo.BAD_REQUEST and "exactly one" in parts.texts[0]


def test_hash_alg_in_pvno2_cert_conf_is_unsupported_version():
    """RFC 9480 §2.10: hashAlg only with pvno 3."""
    server = Issuer()
    responses = []

    def with_hash_alg(request, top, fields):
        content = _der.single(top[1].value)
        status = _der.children(content.value)[0]
        alg = _der.encode(0xA0, _der.sequence(SHA256))
        new_status = _der.sequence(*(t.raw for t in _der.children(status.value)), alg)
        body = _der.encode(top[1].tag, _der.sequence(new_status))
        try:
            msg = Message.from_der(_der.sequence(top[0].raw, body))
        except OpenSSLError:  # OpenSSL < 3.2 has no hashAlg: it cannot even decode it
            skipped.append(True)
            return request
        with pbm_ctx() as ctx:
            return rebuild(msg, [f.raw for f in fields], ctx)

    skipped = []
    with client(server, edit=cert_conf_editor(with_hash_alg), responses=responses) as ctx:
        try:
            ctx.exec_ir()
        except CMPError:
            pass
    if skipped:
        pytest.skip("OpenSSL < 3.2 cannot decode a CertStatus with hashAlg")
    assert status_of(responses[-1]).fail_info == FailInfo.UNSUPPORTED_VERSION


def cert_conf_der(pvno, *statuses):
    """A minimal certConf PKIMessage DER (header fields are not looked at)."""
    header = _der.sequence(_der.encode_integer(pvno), b"\xa4\x02\x30\x00", b"\xa4\x02\x30\x00")
    return _der.sequence(header, _der.encode(0xB8, _der.sequence(*statuses)))


def test_cert_conf_checks_on_der():
    """RFC 9483 §4.1.1 (one CertStatus), RFC 9480 §2.10 (hashAlg needs pvno 3)."""
    plain = _der.sequence(_der.encode(0x04, b"h" * 32), _der.encode_integer(0))
    hashed = _der.sequence(_der.encode(0x04, b"h" * 32), _der.encode_integer(0),
                           _der.encode(0xA0, _der.sequence(SHA256)))
    checks = ServerChecks()
    check_cert_conf(checks, 2, cert_conf_der(2, plain))
    check_cert_conf(checks, 3, cert_conf_der(3, hashed))
    with pytest.raises(CheckFailure) as info:
        check_cert_conf(checks, 2, cert_conf_der(2, hashed))
    assert info.value.fail_info == FailInfo.UNSUPPORTED_VERSION
    with pytest.raises(CheckFailure) as info:
        check_cert_conf(checks, 2, cert_conf_der(2, plain, plain))
    assert info.value.fail_info == FailInfo.BAD_REQUEST
    with pytest.raises(CheckFailure) as info:
        check_cert_conf(checks, 2, cert_conf_der(2))
    assert info.value.fail_info == FailInfo.BAD_REQUEST
    checks.hash_alg_requires_pvno3 = checks.cert_conf_single_status = False
    check_cert_conf(checks, 2, cert_conf_der(2, hashed, plain))


def test_cert_conf_with_other_mac_reference_is_bad_message_check():
    """RFC 9483 §4.1.1: the certConf is protected with the credentials of its request."""
    server = Issuer()
    responses = []

    def other_kid(request, top, fields):
        with Context() as ctx:  # the same secret, another reference (senderKID)
            ctx.reference_value, ctx.secret_value = b"someone-else", b"secret"
            return rebuild(request, [f.raw for f in fields], ctx)

    with client(server, edit=cert_conf_editor(other_kid), responses=responses) as ctx, \
            pytest.raises(CMPError):
        ctx.exec_ir()
    parts = status_of(responses[-1])
    assert parts.fail_info == FailInfo.BAD_MESSAGE_CHECK and "certConf" in parts.texts[0]
    server.checks.cert_conf_same_credentials = False
    with client(server, edit=cert_conf_editor(other_kid)) as ctx:
        assert ctx.exec_ir()


def test_server_checks_validation():
    checks = ServerChecks()
    assert checks.min_sender_nonce_bytes == 16 and checks.message_time_window == 300
    with pytest.raises(TypeError):
        checks.require_transaction_id = 1
    with pytest.raises(ValueError):
        checks.min_sender_nonce_bytes = -1
    with pytest.raises(ValueError):
        checks.message_time_window = 0
    with pytest.raises(TypeError):
        Issuer().checks = "all"
    off = ServerChecks.none()
    assert not off.require_transaction_id and off.message_time_window is None
    assert "min_sender_nonce_bytes=0" in repr(off)


def test_checks_pass_for_openssl_cli_over_http(tmp_path):
    """The real `openssl cmp` client meets every check (RFC 9483 §3.1)."""
    server = Issuer()
    key = tmp_path / "key.pem"
    key.write_bytes(PrivateKey.generate().to_pem())
    with server.serve_http() as http:
        proc = subprocess.run(
            [OPENSSL, "cmp", "-config", "", "-server", "127.0.0.1:%d" % http.port,
             "-path", "pkix/", "-cmd", "ir", "-ref", "cli", "-secret", "pass:secret",
             "-newkey", str(key), "-subject", "/CN=cli", "-certout",
             str(tmp_path / "out.pem"), "-unprotected_errors", "-msg_timeout", "20",
             "-total_timeout", "40"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert Certificate.from_file(tmp_path / "out.pem").is_issued_by(CA)


# --- 3. MAC of answers to PBM requests (RFC 9481 §6) --------------------------------------

def test_pbm_answer_uses_hmac_sha256():
    """A request protected with hmac-sha1 (OpenSSL's default) is answered with
    hmac-sha256 (and owf at least SHA-256)."""
    server = Issuer()
    responses = []
    with client(server, responses=responses) as ctx:
        assert ctx.exec_ir()
    for response in responses:
        alg = response._header()["protection_alg"]
        oid, params = _der.children(_der.single(alg).value)
        assert oid.raw == PBM_OID
        salt, owf, count, mac = _der.children(params.value)
        assert _der.children(owf.value)[0].raw == SHA256
        assert _der.children(mac.value)[0].raw == HMAC_SHA256
    # the worker is back to the template's options afterwards
    (worker,) = list(server._all)
    from openssl_cmp import Option
    assert worker.ctx.get_option(Option.MAC_ALGNID) == server.ctx.get_option(Option.MAC_ALGNID)


def test_pbmac1_request_is_bad_alg():
    server = Issuer()
    request = crafted(server)
    _, fields = header_parts(request)
    pbmac1 = _der.encode(0xA1, _der.sequence(PBMAC1_OID, _der.sequence()))
    header = [f.raw if f.context_number != 1 else pbmac1 for f in fields]
    parts = status_of(server.process(rebuild(request, header)))
    assert parts.fail_info == FailInfo.BAD_ALG


# --- 4. per-client secrets, validated signer, RA --------------------------------------------

def test_secret_lookup_per_sender_kid():
    server = Issuer()
    server.ctx.secret_value = None
    secrets = {b"alice": b"alice-secret", b"bob": b"bob-secret"}
    server.secret_lookup = secrets.get
    for kid, secret in secrets.items():
        with client(server, secret=secret, reference=kid) as ctx:
            assert ctx.exec_ir().is_issued_by(CA)
    responses = []
    with client(server, secret=b"alice-secret", reference=b"mallory",
                responses=responses) as ctx, pytest.raises(CMPError):
        ctx.exec_ir()
    parts = status_of(responses[0])
    assert parts.fail_info == FailInfo.BAD_MESSAGE_CHECK and "senderKID" in parts.texts[0]
    with client(server, secret=b"bob-secret", reference=b"alice") as ctx, \
            pytest.raises(CMPError):
        ctx.exec_ir()
    with pytest.raises(TypeError):
        server.secret_lookup = 42


def test_validated_signer_and_ra():
    server = signed_server()
    ctx, cert = signing_client(server, CA_KEY, CA)
    with ctx:
        assert ctx.exec_ir()
    signer, from_ra = server.seen[-1]
    # the same on every version (3.0/3.1: found by openssl_cmp._signer)
    assert signer == cert and not from_ra
    server.ra_certs = [cert]
    assert server.is_ra(cert)
    ctx2 = client(server, secret=None)
    ctx2.cert, ctx2.pkey, ctx2.trusted = cert, ctx.pkey, TrustStore([CA])
    with ctx2:
        assert ctx2.exec_ir()
    assert server.seen[-1] == (cert, True)
    with client(server) as pbm:
        assert pbm.exec_ir()
    assert server.seen[-1] == (None, False)  # MAC-protected: no signer
    with pytest.raises(TypeError):
        server.ra_certs = ["x"]
