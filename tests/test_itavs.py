"""openssl_cmp.itavs: typed support-message ITAVs (RFC 9483 §4.3, RFC 4210 §5.3.19), their
DER next to OpenSSL's own encoders, and the CRLs they carry (RFC 5280 §5)."""

from __future__ import annotations

import datetime

import pytest

from openssl_cmp import CRL, ITAV, Certificate, Extensions, GeneralName, Name, PrivateKey
from openssl_cmp import _bio, binding, itavs
from openssl_cmp.binding import lib

NOW = datetime.datetime(2026, 12, 1, 10, 0, 0, tzinfo=datetime.timezone.utc)


@pytest.fixture(scope="module")
def ca():
    key = PrivateKey.generate("EC")
    return key, Certificate.create("/CN=itav CA", key, key, ca=True)


def test_crl_create_and_read(ca):  # RFC 5280 §5.1, §5.2.3, §5.3.1
    key, cert = ca
    crl = CRL.create(cert, key, [(7, NOW, 1), (5, NOW, None)], number=4, last_update=NOW)
    assert crl.is_signed_by(cert) and crl.number == 4
    assert crl.issuer == cert.subject and crl.last_update == NOW
    assert crl.next_update == NOW + datetime.timedelta(days=1)
    assert crl.revoked() == [(5, NOW, None), (7, NOW, 1)]  # sorted by serial
    assert CRL.from_der(crl.to_der()) == crl
    other = PrivateKey.generate("EC")
    assert not crl.is_signed_by(Certificate.create("/CN=itav CA", other, other, ca=True))
    with pytest.raises(ValueError):
        CRL.create(cert, key, [(1, NOW, 7)])  # CRLReason 7 is unused
    with pytest.raises(ValueError):
        CRL.create(cert, key, [(1, NOW.replace(tzinfo=None), None)])
    with pytest.raises(TypeError):
        CRL.create(key, key)


def test_ca_certs(ca):  # RFC 9483 §4.3.1
    cert = ca[1]
    itav = itavs.new_ca_certs([cert])
    assert itav.type == itavs.CA_CERTS and itavs.get_ca_certs(itav) == [cert]
    assert itavs.new_ca_certs(None).value_der is None
    assert itavs.get_ca_certs(ITAV(itavs.CA_CERTS)) == []
    with pytest.raises(ValueError, match="expected an ITAV of type"):
        itavs.get_ca_certs(itavs.new_supp_lang_tags(["en"]))
    with pytest.raises(TypeError):
        itavs.new_ca_certs(["not a cert"])


def test_root_ca_key_update(ca):  # RFC 9483 §4.3.2
    key, cert = ca
    new_key = PrivateKey.generate("EC")
    new = Certificate.create("/CN=itav CA", new_key, new_key, ca=True)
    link = Certificate.create("/CN=itav CA", new_key, key, issuer=cert, ca=True)
    update = itavs.RootCaKeyUpdate(new, link, None)
    got = itavs.get_root_ca_key_update(itavs.new_root_ca_key_update(update))
    assert got == update
    assert itavs.get_root_ca_key_update(itavs.new_root_ca_key_update(None)) is None
    assert itavs.get_root_ca_cert(itavs.new_root_ca_cert(cert)) == cert
    assert itavs.get_root_ca_cert(itavs.new_root_ca_cert(None)) is None


def test_cert_req_template():  # RFC 9483 §4.3.3
    tmpl = itavs.CertReqTemplate(Name.parse("/O=Example"),
                                 Extensions({"keyUsage": "critical,digitalSignature"}),
                                 ("prime256v1", "ED25519"), 3072)
    got = itavs.get_cert_req_template(itavs.new_cert_req_template(tmpl))
    assert got.subject == tmpl.subject and got.extensions == tmpl.extensions
    assert got.key_algorithms == ("1.2.840.10045.3.1.7", "1.3.101.112")
    assert got.rsa_key_length == 3072
    assert itavs.get_cert_req_template(itavs.new_cert_req_template(None)) is None
    with pytest.raises(ValueError):
        itavs.new_cert_req_template(itavs.CertReqTemplate(rsa_key_length=0))


def test_cert_template_der_is_openssls():  # RFC 4211 §5: OpenSSL re-encodes it unchanged
    tmpl = itavs.CertReqTemplate(Name.parse("/CN=x/O=y"),
                                 Extensions({"subjectAltName": "DNS:x.example"}))
    der, _ = itavs.template_der(tmpl)
    ptr = _bio.d2i(lib.d2i_OSSL_CRMF_CERTTEMPLATE, der, "CertTemplate")[0]
    try:
        assert _bio.i2d(lib.i2d_OSSL_CRMF_CERTTEMPLATE, ptr, "CertTemplate") == der
    finally:
        lib.OSSL_CRMF_CERTTEMPLATE_free(ptr)


def test_crl_status_list_and_crls(ca):  # RFC 9483 §4.3.4
    key, cert = ca
    statuses = [itavs.CRLStatus(issuer=(GeneralName.directory(cert.subject),),
                                this_update=NOW),
                itavs.CRLStatus(distribution_point=(GeneralName.uri("http://x/c.crl"),))]
    assert itavs.get_crl_status_list(itavs.new_crl_status_list(statuses)) == statuses
    with pytest.raises(ValueError):
        itavs.new_crl_status_list([])
    with pytest.raises(ValueError):
        itavs.new_crl_status_list([itavs.CRLStatus()])
    crl = CRL.create(cert, key)
    assert itavs.get_crls(itavs.new_crls([crl, crl])) == [crl, crl]
    assert itavs.get_crls(itavs.new_crls(None)) == []


def test_general_info_types(ca):  # RFC 4210 §5.3.19, RFC 9483 §4.1.1
    cert = ca[1]
    assert itavs.get_cert_profile(itavs.new_cert_profile("ca")) == "ca"
    with pytest.raises(ValueError):
        itavs.get_cert_profile(itavs.new_cert_profile(["a", "b"]))
    assert itavs.get_sign_key_pair_types(itavs.new_sign_key_pair_types(
        ["prime256v1", "rsaEncryption"])) == ["1.2.840.10045.3.1.7", "1.2.840.113549.1.1.1"]
    assert itavs.get_enc_key_pair_types(itavs.new_enc_key_pair_types(["X25519"])) == \
        ["1.3.101.110"]
    assert itavs.get_preferred_symm_alg(itavs.new_preferred_symm_alg("AES-128-CBC")) == \
        "2.16.840.1.101.3.4.1.2"
    assert itavs.get_supp_lang_tags(itavs.new_supp_lang_tags(["en", "de"])) == ["en", "de"]
    assert itavs.get_ca_prot_enc_cert(itavs.new_ca_prot_enc_cert(cert)) == cert
    assert itavs.get_unsupported_oids(itavs.new_unsupported_oids(["1.2.3.4"])) == ["1.2.3.4"]
    assert itavs.get_confirm_wait_time(itavs.new_confirm_wait_time(NOW)) == NOW
    assert itavs.new_implicit_confirm().to_der() == bytes.fromhex("300c06082b0601050507040d0500")
    with pytest.raises(TypeError):
        itavs.new_supp_lang_tags("en")


@pytest.mark.parametrize("build", [
    lambda c: itavs.new_sign_key_pair_types(["prime256v1", "ED25519", "rsaEncryption"]),
    lambda c: itavs.new_enc_key_pair_types(["X25519"]),
    lambda c: itavs.new_preferred_symm_alg("AES-256-CBC"),
    lambda c: itavs.new_supp_lang_tags(["en"]),
    lambda c: itavs.new_ca_prot_enc_cert(c[1]),
    lambda c: itavs.new_current_crl(CRL.create(c[1], c[0])),
    lambda c: itavs.new_unsupported_oids(["1.2.3.4"]),
    lambda c: itavs.new_confirm_wait_time(NOW),
    lambda c: itavs.new_ca_certs([c[1]]),
    lambda c: itavs.new_root_ca_key_update(itavs.RootCaKeyUpdate(c[1], c[1], c[1])),
    lambda c: itavs.new_cert_profile("p"),
], ids=["signKeyPairTypes", "encKeyPairTypes", "preferredSymmAlg", "suppLangTags",
        "caProtEncCert", "currentCRL", "unsupportedOIDs", "confirmWaitTime", "caCerts",
        "rootCaKeyUpdate", "certProfile"])
def test_our_der_is_what_openssl_encodes(ca, build):
    """OpenSSL decodes the value into its own structure (for the types it knows in the
    linked release) and encodes it again: the same bytes."""
    itav = build(ca)
    assert ITAV.from_der(itav.to_der()).to_der() == itav.to_der()


def _pair_args(name, ca):
    key, cert = ca
    return {
        "OSSL_CMP_ITAV_new_caCerts": [[cert, cert]],
        "OSSL_CMP_ITAV_new_rootCaCert": [cert],
        "OSSL_CMP_ITAV_new_rootCaKeyUpdate": [itavs.RootCaKeyUpdate(cert, cert, cert)],
        "OSSL_CMP_ITAV_new0_certReqTemplate": [itavs.CertReqTemplate(
            Name.parse("/CN=t"), Extensions({"keyUsage": "digitalSignature"}),
            ("prime256v1",), 2048)],
        "OSSL_CMP_ITAV_new0_crlStatusList": [[
            itavs.CRLStatus(issuer=(GeneralName.directory(cert.subject),), this_update=NOW),
            itavs.CRLStatus(distribution_point=(GeneralName.uri("http://x/c.crl"),))]],
        "OSSL_CMP_ITAV_new_crls": [[CRL.create(cert, key)]],
        "OSSL_CMP_ITAV_new0_certProfile": [["profile"]],
    }[name]


@pytest.mark.parametrize("name", sorted(itavs._PAIRS))
def test_der_path_equals_openssl_constructor(ca, name):
    """Where OpenSSL has the constructor (3.2+/3.3+/3.4+), our DER gives the same bytes."""
    if not binding.has(name):
        pytest.skip("%s needs OpenSSL %s" % (name, binding.since(name)))
    c_build, der_build = itavs._PAIRS[name]
    args = _pair_args(name, ca)
    assert c_build(*args).to_der() == der_build(*args).to_der()
