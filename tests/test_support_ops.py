"""Client support operations (RFC 9483 §4.3) on every OpenSSL: ``ctx.get_ca_certs``,
``get_root_ca_key_update``, ``get_cert_req_template``, ``get_crl_update`` and
``ctx.cert_profile``.  OpenSSL's own functions run where the linked library has them
(3.2/3.4); elsewhere openssl_cmp.support does the same over the generic GENM.  Both paths
are checked against MockCA and, where that OpenSSL's mock server can answer, against
``openssl cmp -port``."""

import datetime

import pytest

from openssl_cmp import (CMPError, Context, CRL, Certificate, CertReqTemplate, ITAV, Name,
                         Message, PrivateKey, RootCaKeyUpdate, TrustStore, binding, itavs)
from openssl_cmp.enums import PKIStatus
from openssl_cmp.server import Server
from openssl_cmp.testing import MockCA, Profile

from helpers import MockServer, capture

NATIVE_32 = binding.has("OSSL_CMP_get1_caCerts")
NATIVE_34 = binding.has("OSSL_CMP_get1_crlUpdate")


# -- caCerts (RFC 9483 §4.3.1) --------------------------------------------------------------

def test_get_ca_certs_from_mock_ca():
    mock = MockCA()
    with mock.client() as ctx:
        assert ctx.get_ca_certs() == [mock.ca_cert]


def test_second_operation_needs_reinit():
    """As OpenSSL (CMP_R_UNCLEAN_CTX): one transaction per context state."""
    mock = MockCA()
    with mock.client() as ctx:
        ctx.get_ca_certs()
        with pytest.raises(CMPError, match="unsuitable state|reinit"):
            ctx.get_ca_certs()
        ctx.reinit()
        assert ctx.get_ca_certs() == [mock.ca_cert]


class _Answering(MockCA):
    """A MockCA whose GENP is whatever the test puts in ``answer``."""

    answer: list = []

    def handle_genm(self, request, itavs_in):
        return list(self.answer)


def test_get_ca_certs_refuses_an_end_entity_certificate():
    mock = _Answering()
    key = PrivateKey.generate("EC")
    ee = Certificate.create("/CN=not a CA", key, mock.ca_key, issuer=mock.ca_cert)
    mock.answer = [itavs.new_ca_certs([mock.ca_cert, ee])]
    with mock.client() as ctx:
        with pytest.raises(CMPError, match="CA cert|not a CA"):
            ctx.get_ca_certs()


def test_get_ca_certs_without_the_info_type_in_the_answer():
    mock = _Answering()
    mock.answer = [ITAV(itavs.SIGN_KEY_PAIR_TYPES)]
    with mock.client() as ctx:
        with pytest.raises(CMPError):
            ctx.get_ca_certs()


def test_get_ca_certs_absent_value_is_an_empty_list():
    mock = _Answering()
    mock.answer = [ITAV(itavs.CA_CERTS)]
    with mock.client() as ctx:
        assert ctx.get_ca_certs() == []


def test_get_ca_certs_sends_one_genm_with_the_info_type():
    mock = MockCA()
    sent = capture(mock, lambda ctx: ctx.get_ca_certs())
    (request,) = [Message.from_der(d) for d in sent]
    assert request.body_type.name == "GENM"


# -- rootCaKeyUpdate (RFC 9483 §4.3.2) -------------------------------------------------------

def test_no_root_ca_key_update_is_none():
    mock = MockCA()
    with mock.client() as ctx:
        assert ctx.get_root_ca_key_update(mock.ca_cert) is None


def test_root_ca_key_update_validated_with_the_old_root():
    mock = MockCA()
    old_root = mock.ca_cert
    mock.update_root_key()
    with mock.client(trusted=TrustStore([old_root])) as ctx:
        update = ctx.get_root_ca_key_update(old_root)
    assert isinstance(update, RootCaKeyUpdate)
    assert update.new_with_new == mock.ca_cert
    assert update.new_with_old.is_issued_by(old_root)
    assert update.old_with_new.is_issued_by(mock.ca_cert)


def test_forged_root_ca_key_update_is_refused():
    """A new root whose link certificate is not signed by the old root (RFC 4210 §4.4)."""
    mock = _Answering()
    old_root = mock.ca_cert
    rogue = PrivateKey.generate("EC")
    new_key = PrivateKey.generate("EC")
    new_root = Certificate.create(old_root.subject, new_key, new_key, ca=True)
    link = Certificate.create(old_root.subject, new_key.public_key(), rogue,
                              issuer=Certificate.create("/CN=rogue", rogue, rogue, ca=True),
                              ca=True)
    mock.answer = [itavs.new_root_ca_key_update(RootCaKeyUpdate(new_root, link, None))]
    with mock.client(trusted=TrustStore([old_root])) as ctx:
        with pytest.raises(CMPError, match="validate|ROOTCAKEYUPDATE|rootCaKeyUpdate"):
            ctx.get_root_ca_key_update(old_root)


# -- certReqTemplate (RFC 9483 §4.3.3) -------------------------------------------------------

def test_cert_req_template_from_mock_ca():
    template = CertReqTemplate(subject=Name.parse("/O=Example/CN=device"),
                               key_algorithms=("prime256v1",))
    mock = MockCA(cert_req_template=template)
    with mock.client() as ctx:
        got = ctx.get_cert_req_template()
    assert got is not None
    assert got.subject == template.subject
    assert got.key_algorithms  # id-ecPublicKey on the curve, as read back


def test_no_cert_req_template_is_none():
    mock = MockCA()
    with mock.client() as ctx:
        assert ctx.get_cert_req_template() is None


# -- CRL update (RFC 9483 §4.3.4) ------------------------------------------------------------

def test_crl_update_after_a_revocation():
    mock = MockCA(protect_with_cert=True)
    key = PrivateKey.generate("EC")
    with mock.client(subject_name="/CN=to revoke", new_pkey=key) as ctx:
        cert = ctx.exec_ir()
    with mock.client() as ctx:
        first = ctx.get_crl_update(cert=cert)
    assert isinstance(first, CRL)
    assert first.is_signed_by(mock.ca_cert)
    assert cert.serial_number not in [s for s, _, _ in first.revoked()]
    with mock.client(cert=cert, pkey=key, secret_value=None, reference_value=None) as ctx:
        ctx.old_cert = cert
        ctx.exec_rr()
    with mock.client() as ctx:
        newer = ctx.get_crl_update(cert=cert, old_crl=first)
    assert newer is not None and newer.last_update >= first.last_update
    assert cert.serial_number in [s for s, _, _ in newer.revoked()]


def test_crl_update_needs_cert_or_crl():
    with Context() as ctx:
        with pytest.raises(ValueError, match="cert or old_crl"):
            ctx.get_crl_update()
        with pytest.raises(TypeError):
            ctx.get_crl_update(cert="not a certificate")


# -- certProfile (RFC 9483 §3.4) -------------------------------------------------------------

def test_cert_profile_is_sent_in_general_info():
    mock = MockCA(profiles={"ee-default": Profile(validity_days=7)})

    def enroll(ctx):
        ctx.set_new_pkey(PrivateKey.generate("EC"))
        ctx.exec_ir()

    sent = capture(mock, enroll, subject_name="/CN=profiled", cert_profile="ee-default")
    request = Message.from_der(sent[0])
    issued = mock.issued[-1]  # the profile the CA selected: its validity
    assert (issued.not_valid_after - issued.not_valid_before).days == 7
    profiles = [itavs.get_cert_profile(i) for i in request.general_info or ()
                if i.type == itavs.CERT_PROFILE]
    assert profiles == ["ee-default"]


def test_cert_profile_replace_and_clear_keep_other_geninfo():
    with Context() as ctx:
        assert ctx.cert_profile is None
        other = itavs.new_supp_lang_tags(["en"])
        ctx.push_geninfo_itav(other)
        ctx.cert_profile = "one"
        ctx.cert_profile = "two"
        assert ctx.cert_profile == "two"
        assert [i.type for i in ctx.geninfo_itavs] == [itavs.SUPP_LANG_TAGS,
                                                         itavs.CERT_PROFILE]
        ctx.cert_profile = None
        assert ctx.cert_profile is None
        assert [i.type for i in ctx.geninfo_itavs] == [itavs.SUPP_LANG_TAGS]
        with pytest.raises(TypeError):
            ctx.cert_profile = 3


# -- against OpenSSL's mock server --------------------------------------------------------

def test_get_ca_certs_against_openssl_mock_server(pki, mock_server):
    """3.0's mock echoes the request (an absent value: no CA certificates); 3.2+ answers
    with its -rsp_capubs."""
    server = mock_server("-srv_ref", "ref", "-srv_secret", "pass:s3cret",
                         "-rsp_cert", str(pki.ee_crt), "-rsp_capubs", str(pki.ca_crt))
    with Context() as ctx:
        ctx.set_url("http://%s/pkix/" % server.url)
        ctx.reference_value, ctx.secret_value = b"ref", b"s3cret"
        ctx.set_option(binding.lib.OSSL_CMP_OPT_TOTAL_TIMEOUT, 20)
        certs = ctx.get_ca_certs()
    if NATIVE_32:
        assert certs == [Certificate.from_file(pki.ca_crt)]
    else:
        assert certs == []


@pytest.fixture
def key_update_files(tmp_path):
    """An old root, a new root under the same name (as OpenSSL's mock requires), the link
    certificates (RFC 4210 §4.4), and a CRL of the old root, as files."""
    old_key, new_key = PrivateKey.generate("EC"), PrivateKey.generate("EC")
    old = Certificate.create("/CN=Support Root", old_key, old_key, ca=True)
    new = Certificate.create("/CN=Support Root", new_key, new_key, ca=True)
    new_with_old = Certificate.create(new.subject, new_key.public_key(), old_key, issuer=old,
                                      ca=True)
    old_with_new = Certificate.create(old.subject, old_key.public_key(), new_key, issuer=new,
                                      ca=True)
    crl = CRL.create(old, old_key, [(7, datetime.datetime(2026, 1, 1,
                                                            tzinfo=datetime.timezone.utc), 1)])
    files = {"old": old, "new": new, "nwo": new_with_old, "own": old_with_new}
    for name, cert in files.items():
        (tmp_path / (name + ".pem")).write_bytes(cert.to_pem())
    (tmp_path / "crl.pem").write_bytes(crl.to_pem())
    files["crl"] = crl
    return tmp_path, files


def _pbm_client(server):
    ctx = Context()
    ctx.set_url("http://%s/pkix/" % server.url)
    ctx.reference_value, ctx.secret_value = b"ref", b"s3cret"
    ctx.set_option(binding.lib.OSSL_CMP_OPT_TOTAL_TIMEOUT, 20)
    return ctx


@pytest.mark.skipif(not NATIVE_32, reason="OpenSSL's mock server answers rootCaCert on 3.2+")
def test_root_ca_key_update_against_openssl_mock_server(pki, key_update_files):
    d, files = key_update_files
    server = MockServer(("-srv_ref", "ref", "-srv_secret", "pass:s3cret", "-rsp_cert",
                         str(pki.ee_crt), "-rsp_newwithnew", "new.pem", "-rsp_newwithold",
                         "nwo.pem", "-rsp_oldwithnew", "own.pem"), cwd=d)
    try:
        with _pbm_client(server) as ctx:
            ctx.trusted = TrustStore([files["old"]])
            update = ctx.get_root_ca_key_update(files["old"])
    finally:
        server.stop()
    assert update == RootCaKeyUpdate(files["new"], files["nwo"], files["own"])


@pytest.mark.skipif(not NATIVE_34, reason="OpenSSL's mock server answers crlStatusList on 3.4+")
def test_crl_update_against_openssl_mock_server(pki, key_update_files):
    d, files = key_update_files
    server = MockServer(("-srv_ref", "ref", "-srv_secret", "pass:s3cret", "-rsp_cert",
                         str(pki.ee_crt), "-rsp_crl", "crl.pem"), cwd=d)
    try:
        with _pbm_client(server) as ctx:
            crl = ctx.get_crl_update(cert=files["nwo"])
    finally:
        server.stop()
    assert crl is not None and crl.to_der() == files["crl"].to_der()


def test_results_outlive_their_context():
    """Ownership (API.md): what the support operations return is the caller's own (get1
    results on 3.2+/3.4+, decoded copies before); closing and dropping the context, and
    the server, leaves them usable."""
    import gc

    mock = MockCA(protect_with_cert=True, cert_req_template=CertReqTemplate(
        subject=Name.parse("/CN=tmpl")))
    old_root = mock.ca_cert
    key = PrivateKey.generate("EC")
    with mock.client(subject_name="/CN=lifetime", new_pkey=key) as ctx:
        cert = ctx.exec_ir()
    results = []
    for op in (lambda c: c.get_ca_certs(), lambda c: c.get_cert_req_template(),
               lambda c: c.get_crl_update(cert=cert)):
        ctx = mock.client()
        results.append(op(ctx))
        ctx.reinit()
        ctx.close()
        del ctx
    mock.update_root_key()
    ctx = mock.client(trusted=TrustStore([old_root]))
    update = ctx.get_root_ca_key_update(old_root)
    ctx.close()
    del ctx, mock
    gc.collect()
    certs, template, crl = results
    assert certs[0].subject == old_root.subject and certs[0].to_der()
    assert template.subject == Name.parse("/CN=tmpl")
    assert crl.to_der() and crl.issuer == old_root.subject
    assert update.new_with_new.is_issued_by(update.new_with_new)
    assert update.new_with_old.is_issued_by(old_root)
