"""Verification parameters of TrustStore (X509_VERIFY_PARAM of the X509_STORE the CMP
client verifies the server's signing certificate with, RFC 9483 §3.5 / RFC 4210 §5.1.3.3):
verify_time, purpose, partial_chain, depth, check_crls, crls."""

from __future__ import annotations

import datetime

import pytest

from openssl_cmp import (CMPError, Certificate, Extensions, PrivateKey, TrustStore)
from openssl_cmp.testing import MockCA

UTC = datetime.timezone.utc


class Pki:
    """root -> [inter ->] server (a CA: MockCA issues with it) -> client."""

    def __init__(self, *, inter: bool = False, server_ext: dict[str, str] | None = None):
        self.root_key = PrivateKey.generate("EC")
        self.root = Certificate.create("/CN=Root", self.root_key, self.root_key, ca=True,
                                       days=3650)
        issuer, issuer_key = self.root, self.root_key
        self.inter = None
        if inter:
            self.inter_key = PrivateKey.generate("EC")
            self.inter = Certificate.create("/CN=Intermediate", self.inter_key, self.root_key,
                                            issuer=self.root, ca=True, days=3650)
            issuer, issuer_key = self.inter, self.inter_key
        self.server_key = PrivateKey.generate("EC")
        self.server = Certificate.create(
            "/CN=CMP server", self.server_key, issuer_key, issuer=issuer, ca=True, days=30,
            extensions=Extensions(server_ext) if server_ext else None)
        self.client_key = PrivateKey.generate("EC")
        self.client = Certificate.create("/CN=client", self.client_key, self.server_key,
                                         issuer=self.server)

    def mock_ca(self) -> MockCA:
        """A MockCA that signs its responses with the server certificate (no PBM) and trusts
        the client certificates it issued (an intermediate anchor: partial chain)."""
        ca = MockCA(ca_key=self.server_key, ca_cert=self.server, protect_with_cert=True,
                    secret=None)
        ca.ctx.trusted = TrustStore([self.server], partial_chain=True)
        return ca

    def enroll(self, store: TrustStore, untrusted=()) -> Certificate:
        """An IR signed by the client certificate; the response is verified with store."""
        ca = self.mock_ca()
        ctx = ca.client(cert=self.client, pkey=self.client_key, trusted=store,
                        untrusted=list(untrusted), subject_name="/CN=new",
                        new_pkey=PrivateKey.generate("EC"))
        with ctx:
            return ctx.exec_ir()


@pytest.fixture(scope="module")
def pki():
    return Pki()


def now():
    return datetime.datetime.now(UTC).replace(microsecond=0)


# -- validation before any C call ----------------------------------------------------------

@pytest.mark.parametrize("kwargs, exc", [
    ({"verify_time": "2030-01-01"}, TypeError),
    ({"verify_time": datetime.datetime(2030, 1, 1)}, ValueError),  # naive
    ({"purpose": 1}, TypeError),
    ({"purpose": "no-such"}, ValueError),
    ({"purpose": "nosuchpurpose"}, ValueError),
    ({"partial_chain": 1}, TypeError),
    ({"depth": True}, TypeError),
    ({"depth": -1}, ValueError),
    ({"depth": 101}, ValueError),
    ({"check_crls": True}, TypeError),
    ({"check_crls": "some"}, ValueError),
    ({"crls": [object()]}, TypeError),
    ({"revocation": "ocsp"}, TypeError),
])
def test_bad_arguments_are_refused(kwargs, exc):
    with pytest.raises(exc):
        TrustStore(**kwargs)


def test_bad_values_leave_the_store_unchanged():
    store = TrustStore(depth=3, check_crls="leaf", purpose="sslserver")
    for name, value in (("depth", 200), ("check_crls", "every"), ("purpose", "x y"),
                        ("verify_time", datetime.datetime(2030, 1, 1)),
                        ("partial_chain", "yes")):
        with pytest.raises((TypeError, ValueError)):
            setattr(store, name, value)
    assert (store.depth, store.check_crls, store.purpose, store.verify_time,
            store.partial_chain) == (3, "leaf", "sslserver", None, False)


# -- the properties read back what OpenSSL holds -------------------------------------------

def test_properties_round_trip():
    when = datetime.datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
    store = TrustStore(verify_time=when, purpose="any", partial_chain=True, depth=2,
                       check_crls="all")
    assert store.verify_time == when
    assert store.purpose == "any"
    assert store.partial_chain is True
    assert store.depth == 2
    assert store.check_crls == "all"
    store.verify_time = None
    store.partial_chain = False
    store.depth = None
    store.check_crls = "none"
    store.purpose = None
    assert (store.verify_time, store.partial_chain, store.depth, store.check_crls,
            store.purpose) == (None, False, None, "none", None)
    assert TrustStore().check_crls == "none" and TrustStore().purpose is None


def test_verify_time_accepts_other_time_zones():
    cet = datetime.timezone(datetime.timedelta(hours=1))
    store = TrustStore(verify_time=datetime.datetime(2030, 1, 1, 1, 0, tzinfo=cet))
    assert store.verify_time == datetime.datetime(2030, 1, 1, 0, 0, tzinfo=UTC)


def test_parameters_follow_the_store_through_the_context(pki):
    """ctx.trusted hands out a new wrapper of the same X509_STORE: it sees the settings."""
    ca = pki.mock_ca()
    with ca.client(trusted=TrustStore([pki.root], purpose="sslserver", depth=4)) as ctx:
        assert ctx.trusted.purpose == "sslserver"
        assert ctx.trusted.depth == 4


def test_crls_are_added_and_listed(pki):
    from openssl_cmp import CRL
    crl = CRL.from_pem(_crl_pem(pki))
    store = TrustStore([pki.root], crls=[crl])
    assert [c.to_der() for c in store.crls] == [crl.to_der()]
    assert store.check_crls == "none"  # given CRLs do not switch checking on by themselves


def _crl_pem(pki) -> bytes:
    import subprocess
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as d:
        Path(d, "ca.pem").write_bytes(pki.root.to_pem())
        Path(d, "ca.key").write_bytes(pki.root_key.to_pem())
        Path(d, "index.txt").write_text("")
        Path(d, "ca.cnf").write_text("[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\n"
                                     "default_md=sha256\ndefault_crl_days=1\n")
        subprocess.run(["openssl", "ca", "-config", "ca.cnf", "-keyfile", "ca.key", "-cert",
                        "ca.pem", "-gencrl", "-out", "crl.pem"], cwd=d, check=True,
                       capture_output=True, timeout=30)
        return Path(d, "crl.pem").read_bytes()


# -- their effect on the verification of the CMP server's certificate ----------------------

def test_enrollment_with_the_defaults_succeeds(pki):
    assert str(pki.enroll(TrustStore([pki.root])).subject) == "CN=new"


def test_verify_time_after_expiry_refuses_the_server(pki, caplog):
    """RFC 5280 §6.1.3 (a)(2): the certificate must be valid at the time of verification.
    OpenSSL 3.0 checks the time window before the path (and only logs the reason: the
    message says what to check); 3.5 validates the path and names the certificate."""
    later = now() + datetime.timedelta(days=60)  # the server certificate lasts 30 days
    with pytest.raises(CMPError, match=r"expired or not yet valid at ctx.trusted.verify_time|"
                                       r"certificate has expired \(depth 0, subject /CN=CMP"):
        pki.enroll(TrustStore([pki.root], verify_time=later))
    assert "cert has expired" in caplog.text


def test_verify_time_inside_the_validity_period_succeeds(pki):
    pki.enroll(TrustStore([pki.root], verify_time=now() + datetime.timedelta(days=10)))


def test_verify_time_before_issuance_refuses_the_server(pki, caplog):
    with pytest.raises(CMPError, match="expired or not yet valid"):
        pki.enroll(TrustStore([pki.root], verify_time=now() - datetime.timedelta(days=2)))
    assert "cert is not yet valid" in caplog.text


def test_verify_time_of_the_root_is_checked_in_the_path():
    """The root expires before the server certificate: the path check names it."""
    short = Pki()
    root = Certificate.create("/CN=Root", short.root_key, short.root_key, ca=True, days=5)
    short.server = Certificate.create("/CN=CMP server", short.server_key, short.root_key,
                                      issuer=root, ca=True, days=30)
    short.client = Certificate.create("/CN=client", short.client_key, short.server_key,
                                      issuer=short.server)
    # 3.0 names it in the path of the server certificate (depth 1); 3.5 also tries the
    # trusted root itself as the signer and names it there (depth 0)
    with pytest.raises(CMPError, match=r"certificate has expired .depth [01], subject /CN=Root"):
        short.enroll(TrustStore([root], verify_time=now() + datetime.timedelta(days=10)))


def test_partial_chain_trusts_an_intermediate(pki):
    """A store holding only the server's issuing CA (here: the server certificate itself
    is a CA; the anchor is an intermediate of the root) verifies only with partial_chain."""
    chained = Pki(inter=True)
    with pytest.raises(CMPError, match="unable to get (local )?issuer certificate"):
        chained.enroll(TrustStore([chained.inter]))
    chained.enroll(TrustStore([chained.inter], partial_chain=True))


def test_depth_limits_the_intermediates():
    chained = Pki(inter=True)  # root -> intermediate -> server: one intermediate
    with pytest.raises(CMPError, match="certificate chain too long"):
        chained.enroll(TrustStore([chained.root], depth=0), untrusted=[chained.inter])
    chained.enroll(TrustStore([chained.root], depth=1), untrusted=[chained.inter])


def test_purpose_is_checked_against_the_extended_key_usage():
    """RFC 5280 §4.2.1.12: a server certificate for serverAuth only does not fit S/MIME."""
    eku = Pki(server_ext={"extendedKeyUsage": "serverAuth"})
    with pytest.raises(CMPError, match="unsuitable certificate purpose"):
        eku.enroll(TrustStore([eku.root], purpose="smimesign"))
    eku.enroll(TrustStore([eku.root], purpose="sslserver"))


def test_check_crls_without_a_crl_refuses_the_server(pki):
    """With CRL checking on, a certificate with no CRL for it is refused (RFC 5280 §6.3)."""
    with pytest.raises(CMPError, match="unable to get certificate CRL"):
        pki.enroll(TrustStore([pki.root], check_crls="leaf"))
