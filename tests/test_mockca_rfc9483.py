"""MockCA against RFC 9483: support messages (§4.3), authorization of revocation and key
update (§4.1.3, §4.2, §3.5), the extension profile it enforces (RFC 5280 §4.2.1.3,
§4.2.1.9), key reuse, the fault switches of OpenSSL's mock server, bounded records; and the
support messages over HTTP with the `openssl cmp` client."""

from __future__ import annotations

import pytest

from openssl_cmp import (ITAV, CMPError, Certificate, Extensions, FailInfo, Name, Option,
                         PKIStatus, PrivateKey, binding, itavs)
from openssl_cmp.testing import MockCA, Profile

from helpers import run_openssl

UNKNOWN = "1.3.6.1.5.5.7.4.99"


def genm(mock, *requests, **attributes):
    with mock.client(**attributes) as ctx:
        for itav in requests:
            ctx.push_genm_itav(itav)
        return ctx.exec_genm()


def enroll(mock, key=None, subject="/CN=ee", **attributes):
    key = key or PrivateKey.generate()
    with mock.client(subject_name=subject, new_pkey=key, **attributes) as ctx:
        return ctx.exec_ir(), key


def signed(mock, cert, key, **attributes):
    """A client that signs with ``cert`` (MockCA answers with signatures)."""
    ctx = mock.client(**attributes)
    ctx.secret_value = None
    ctx.reference_value = None
    ctx.cert, ctx.pkey = cert, key
    return ctx


# -- §4.3 support messages ---------------------------------------------------------------

def test_ca_certs_and_unknown_info_type_4_3_1():  # RFC 9483 §4.3.1, §4.3 (no echo)
    mock = MockCA()
    answer = genm(mock, ITAV(itavs.CA_CERTS), ITAV(UNKNOWN))
    assert [i.type for i in answer] == [itavs.CA_CERTS]
    assert itavs.get_ca_certs(answer[0]) == [mock.ca_cert]
    assert genm(mock, ITAV(UNKNOWN)) == []


def test_root_ca_key_update_4_3_2():  # RFC 9483 §4.3.2, RFC 4210 §4.4
    mock = MockCA()
    old_root = mock.ca_cert
    answer = genm(mock, itavs.new_root_ca_cert(old_root))
    assert [i.type for i in answer] == [itavs.ROOT_CA_KEY_UPDATE]
    assert itavs.get_root_ca_key_update(answer[0]) is None  # current: absent
    update = mock.update_root_key()
    got = itavs.get_root_ca_key_update(genm(mock, itavs.new_root_ca_cert(old_root))[0])
    assert got == update and got.new_with_new == mock.ca_cert
    assert got.new_with_new.subject == old_root.subject
    assert got.new_with_new.is_issued_by(got.new_with_new)
    assert got.new_with_old.is_issued_by(old_root)
    assert got.new_with_old.public_key() == got.new_with_new.public_key()
    assert got.old_with_new.is_issued_by(got.new_with_new)
    assert got.old_with_new.public_key() == old_root.public_key()
    # now current: absent again; new certificates come from the new root
    assert itavs.get_root_ca_key_update(
        genm(mock, itavs.new_root_ca_cert(mock.ca_cert))[0]) is None
    cert, _ = enroll(mock)
    assert cert.is_issued_by(mock.ca_cert) and not cert.is_issued_by(old_root)
    assert mock.crl.is_signed_by(mock.ca_cert)


def test_cert_req_template_4_3_3():  # RFC 9483 §4.3.3
    mock = MockCA()
    assert itavs.get_cert_req_template(genm(mock, ITAV(itavs.CERT_REQ_TEMPLATE))[0]) is None
    mock.cert_req_template = itavs.CertReqTemplate(Name.parse("/O=Example"),
                                                   key_algorithms=("prime256v1",))
    got = itavs.get_cert_req_template(genm(mock, ITAV(itavs.CERT_REQ_TEMPLATE))[0])
    assert got.subject == Name.parse("/O=Example")
    assert got.key_algorithms == ("1.2.840.10045.3.1.7",)


def test_crl_update_4_3_4():  # RFC 9483 §4.3.4
    mock = MockCA(protect_with_cert=True)
    cert, key = enroll(mock)
    status = itavs.CRLStatus(issuer=(itavs.GeneralName.directory(mock.ca_cert.subject),))
    crls = itavs.get_crls(genm(mock, itavs.new_crl_status_list([status]))[0])
    assert crls == [mock.crl] and crls[0].revoked() == []
    current = status._replace(this_update=mock.crl.last_update)
    answer = genm(mock, itavs.new_crl_status_list([current]))
    assert answer[0].type == itavs.CRLS and itavs.get_crls(answer[0]) == []  # absent
    with signed(mock, cert, key, old_cert=cert) as ctx:
        ctx.exec_rr()
    crls = itavs.get_crls(genm(mock, itavs.new_crl_status_list([current]))[0])
    assert [serial for serial, _, _ in crls[0].revoked()] == [cert.serial_number]
    assert crls[0].is_signed_by(mock.ca_cert) and crls[0].number == 2


def test_configurable_general_info_4_3():  # RFC 4210 §5.3.19.2-4, .9
    mock = MockCA(enc_key_pair_types=["X25519"], preferred_symm_alg="AES-256-CBC",
                  supp_lang_tags=["de"], profiles={"ca": Profile(ca=True)})
    answer = genm(mock, ITAV(itavs.SIGN_KEY_PAIR_TYPES), ITAV(itavs.ENC_KEY_PAIR_TYPES),
                  ITAV(itavs.PREFERRED_SYMM_ALG), ITAV(itavs.SUPP_LANG_TAGS),
                  ITAV(itavs.CERT_PROFILE))
    assert itavs.get_sign_key_pair_types(answer[0]) == mock.sign_key_pair_types
    assert itavs.get_enc_key_pair_types(answer[1]) == ["1.3.101.110"]
    assert itavs.get_preferred_symm_alg(answer[2]) == "2.16.840.1.101.3.4.1.42"
    assert itavs.get_supp_lang_tags(answer[3]) == ["de"]
    assert itavs.get_cert_profile(answer[4]) == "ca"


# -- §4.2, §4.1.3, §3.5 authorization ------------------------------------------------------

def rejected(run):
    with pytest.raises(CMPError) as info:
        run()
    assert info.value.server_rejected
    return info.value.fail_info


def test_revocation_only_by_holder_or_ra_4_2():  # RFC 9483 §4.2
    ra_key = PrivateKey.generate()
    probe = MockCA(protect_with_cert=True)
    mock = MockCA(probe.ca_key, probe.ca_cert, protect_with_cert=True)
    ra_cert, _ = enroll(mock, ra_key, "/CN=ra")
    mock.ra_certs = [ra_cert]  # issued by the CA: trusted already
    alice, alice_key = enroll(mock, subject="/CN=alice")
    bob, bob_key = enroll(mock, subject="/CN=bob")
    with mock.client(old_cert=alice) as ctx:  # MAC-protected
        assert rejected(ctx.exec_rr) == FailInfo.NOT_AUTHORIZED
    with signed(mock, bob, bob_key, old_cert=alice) as ctx:  # not the holder
        assert rejected(ctx.exec_rr) == FailInfo.NOT_AUTHORIZED
    assert not mock.is_revoked(alice)
    with signed(mock, ra_cert, ra_key, old_cert=alice) as ctx:  # the RA
        ctx.exec_rr()
    assert mock.is_revoked(alice)
    with signed(mock, bob, bob_key, old_cert=bob) as ctx:  # the holder
        ctx.exec_rr()
    assert mock.is_revoked(bob)


def test_hold_and_revive_reason_codes_4_2():  # RFC 9483 §4.2, RFC 5280 §5.3.1
    mock = MockCA(protect_with_cert=True)
    ra_key = PrivateKey.generate()
    ra_cert, _ = enroll(mock, ra_key, "/CN=ra")
    mock.ra_certs = [ra_cert]
    cert, _ = enroll(mock)

    def rr(reason):
        with signed(mock, ra_cert, ra_key, old_cert=cert) as ctx:
            ctx.set_option(Option.REVOCATION_REASON, reason)
            ctx.exec_rr()

    assert rejected(lambda: rr(8)) == FailInfo.BAD_REQUEST  # not on hold: refused
    assert not mock.is_revoked(cert)
    rr(6)  # certificateHold
    assert mock.crl.revoked()[0][2] == 6
    rr(8)  # removeFromCRL: revived
    assert not mock.is_revoked(cert) and mock.crl.revoked() == []
    assert rejected(lambda: rr(7)) == FailInfo.BAD_REQUEST  # unknown value


def test_kur_signed_by_the_certificate_4_1_3():  # RFC 9483 §4.1.3
    mock = MockCA(protect_with_cert=True)
    cert, key = enroll(mock)
    with signed(mock, cert, key, new_pkey=PrivateKey.generate()) as ctx:
        renewed = ctx.exec_kur()  # no oldCertID set: the signer is the one to update
    assert renewed.subject == cert.subject
    other, other_key = enroll(mock, subject="/CN=other")
    with signed(mock, other, other_key, old_cert=cert,
                new_pkey=PrivateKey.generate()) as ctx:
        assert rejected(ctx.exec_kur) in (FailInfo.NOT_AUTHORIZED, FailInfo.BAD_CERT_ID)


def test_revoked_signer_is_refused_3_5():  # RFC 9483 §3.5: signerNotTrusted
    mock = MockCA(protect_with_cert=True)
    cert, key = enroll(mock)
    with signed(mock, cert, key, old_cert=cert) as ctx:
        ctx.exec_rr()
    with signed(mock, cert, key, subject_name="/CN=again",
                new_pkey=PrivateKey.generate()) as ctx:
        assert rejected(ctx.exec_cr) == FailInfo.SIGNER_NOT_TRUSTED


# -- RFC 5280 profiles and key reuse ---------------------------------------------------------

CA_EXTS = {"basicConstraints": "critical,CA:TRUE", "keyUsage": "critical,keyCertSign,cRLSign"}


def test_end_entity_profile_refuses_ca_extensions_rfc5280_4_2_1_9():
    mock = MockCA()
    for exts in (CA_EXTS, {"basicConstraints": "CA:FALSE,pathlen:0"},
                 {"keyUsage": "cRLSign"}):
        with mock.client(subject_name="/CN=sub", new_pkey=PrivateKey.generate()) as ctx:
            ctx.req_extensions = exts
            assert rejected(ctx.exec_ir) == FailInfo.BAD_CERT_TEMPLATE
    assert mock.issued == []


def test_ca_profile_selected_by_cert_profile_4_1_1():  # RFC 9483 §4.1.1
    mock = MockCA(profiles={"ca": Profile(ca=True)})
    with mock.client(subject_name="/CN=sub CA", new_pkey=PrivateKey.generate()) as ctx:
        ctx.push_geninfo_itav(itavs.new_cert_profile("ca"))
        ctx.req_extensions = CA_EXTS
        sub = ctx.exec_ir()
    exts = sub.extensions()
    assert "CA:TRUE" in exts.text(exts.names().index("basicConstraints"))
    with mock.client(subject_name="/CN=x", new_pkey=PrivateKey.generate()) as ctx:
        ctx.push_geninfo_itav(itavs.new_cert_profile("nope"))
        assert rejected(ctx.exec_ir) == FailInfo.BAD_CERT_TEMPLATE


def test_key_reuse_policy():
    mock = MockCA()
    _, key = enroll(mock)
    assert rejected(lambda: enroll(mock, key)) == FailInfo.BAD_CERT_TEMPLATE
    assert rejected(lambda: enroll(mock, mock.ca_key)) == FailInfo.BAD_CERT_TEMPLATE
    mock.allow_key_reuse = True
    assert enroll(mock, key)[0].public_key() == key.public_key()


# -- fault switches (openssl cmp "Mock server options") and records --------------------------

def test_rsp_cert_capubs_extracerts_and_failure_bit():
    key = PrivateKey.generate()
    probe = MockCA()
    fixed = Certificate.create("/CN=fixed", key, probe.ca_key, issuer=probe.ca_cert)
    extra = Certificate.create("/CN=extra", PrivateKey.generate(), probe.ca_key,
                               issuer=probe.ca_cert)
    mock = MockCA(probe.ca_key, probe.ca_cert, rsp_cert=fixed, rsp_capubs=[extra],
                  rsp_extracerts=[extra])
    with mock.client(subject_name="/CN=any", new_pkey=key) as ctx:
        assert ctx.exec_ir() == fixed
        assert ctx.ca_pubs == [extra] and extra in ctx.extra_certs_in
    bad = MockCA(pkistatus=PKIStatus.REJECTION, failure=19)
    assert bad.fail_info == FailInfo.BAD_CERT_TEMPLATE


def test_send_unprotected_is_refused_by_the_client():  # RFC 9483 §3.2
    mock = MockCA(send_unprotected=True)
    with pytest.raises(CMPError):
        enroll(mock)


def test_rsp_root_update_and_crl():
    mock = MockCA()
    other = MockCA()
    mock2 = MockCA(rsp_newwithnew=other.ca_cert, rsp_crl=other.crl)
    got = itavs.get_root_ca_key_update(genm(mock2, itavs.new_root_ca_cert(mock.ca_cert))[0])
    assert got.new_with_new == other.ca_cert
    status = itavs.CRLStatus(issuer=(itavs.GeneralName.directory(other.ca_cert.subject),))
    assert itavs.get_crls(genm(mock2, itavs.new_crl_status_list([status]))[0]) == [other.crl]


def test_max_records_and_on_issue():
    seen = []
    mock = MockCA(max_records=2, on_issue=seen.append)
    certs = [enroll(mock, subject="/CN=n%d" % i)[0] for i in range(3)]
    assert mock.issued == certs[1:] and seen == certs and len(mock.confirmed) == 2
    with pytest.raises(ValueError):
        MockCA(max_records=0)


def test_repro_no_longer_yields_a_sub_ca():
    mock = MockCA()
    with mock.client(subject_name="/CN=openssl_cmp Mock CA",
                     new_pkey=PrivateKey.generate()) as ctx:
        ctx.req_extensions = CA_EXTS
        assert rejected(ctx.exec_ir) == FailInfo.BAD_CERT_TEMPLATE


# -- over HTTP with the openssl CLI --------------------------------------------------------

def cli_genm(tmp_path, mock, url, *args):
    return run_openssl("cmp", "-config", "", "-cmd", "genm", "-server", url,
                       "-ref", "cli", "-secret", "pass:mock-secret", *args,
                       cwd=tmp_path, timeout=30, check=False)


@pytest.mark.parametrize("infotype", ["caCerts", "signKeyPairTypes"])
def test_cli_support_messages_over_http(tmp_path, infotype):  # RFC 9483 §4.3.1
    mock = MockCA()
    extra = []
    if infotype == "caCerts" and binding.OPENSSL_VERSION_NUMBER >= 0x30200000:
        extra = ["-cacertsout", "out.pem"]
    with mock.serve_http() as http:
        proc = cli_genm(tmp_path, mock, http.url, "-infotype", infotype, *extra)
    assert proc.returncode == 0, proc.stderr
    assert "received GENP" in proc.stderr + proc.stdout
    if extra:
        assert Certificate.list_from_pem((tmp_path / "out.pem").read_bytes()) == [mock.ca_cert]


def test_cli_unknown_info_type_gets_no_echo(tmp_path):  # RFC 9483 §4.3
    mock = MockCA()
    with mock.serve_http() as http:
        proc = cli_genm(tmp_path, mock, http.url, "-infotype", "caProtEncCert")
    assert proc.returncode == 0, proc.stderr  # MockCA has no encryption certificate
    output = proc.stdout + proc.stderr
    assert "received GENP" in output
    # what the client prints of the answer: no ITAV of the type asked for (3.5 logs the
    # request's info type before sending, so only the part after the GENP counts)
    assert "caProtEncCert" not in output.split("received GENP", 1)[1]


ON_35 = pytest.mark.skipif(binding.OPENSSL_VERSION_NUMBER < 0x30500000,
                           reason="the openssl CLI has these info types from 3.5")


@ON_35
def test_cli_root_ca_cert_35(tmp_path):  # RFC 9483 §4.3.2
    mock = MockCA()
    old = tmp_path / "old.pem"
    old.write_bytes(mock.ca_cert.to_pem())
    mock.update_root_key()
    with mock.serve_http() as http:
        proc = cli_genm(tmp_path, mock, http.url, "-infotype", "rootCaCert",
                        "-oldwithold", str(old), "-newwithnew", "nwn.pem")
    assert proc.returncode == 0, proc.stderr
    assert Certificate.from_file(tmp_path / "nwn.pem") == mock.ca_cert


@ON_35
def test_cli_cert_req_template_35(tmp_path):  # RFC 9483 §4.3.3
    mock = MockCA(cert_req_template=itavs.CertReqTemplate(Name.parse("/O=Example"),
                                                          key_algorithms=("prime256v1",)))
    with mock.serve_http() as http:
        proc = cli_genm(tmp_path, mock, http.url, "-infotype", "certReqTemplate",
                        "-template", "tmpl.der", "-keyspec", "keyspec.der")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "tmpl.der").exists()


@ON_35
def test_cli_crl_status_list_35(tmp_path):  # RFC 9483 §4.3.4
    mock = MockCA()
    crlcert = tmp_path / "ca.pem"
    crlcert.write_bytes(mock.ca_cert.to_pem())
    with mock.serve_http() as http:
        proc = cli_genm(tmp_path, mock, http.url, "-infotype", "crlStatusList",
                        "-crlcert", str(crlcert), "-crlout", "crl.pem")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "crl.pem").exists()
