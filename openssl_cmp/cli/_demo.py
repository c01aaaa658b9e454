"""``openssl-cmp demo``: a whole CMP lifecycle (IR with PBM, CR and KUR with signatures,
GENM, RR) against an embedded MockCA, in-process; prints what happens."""

from __future__ import annotations

import argparse

from openssl_cmp import binding
from openssl_cmp.enums import LogLevel, Option
from openssl_cmp.keys import PrivateKey
from openssl_cmp.message import ITAV
from openssl_cmp.objects import Certificate

__all__ = ["run"]


def _say(text: str) -> None:
    print(text, flush=True)


def _describe(cert: Certificate) -> str:
    return "%s (serial %#x, issuer %s, valid until %s)" % (
        cert.subject, cert.serial_number, cert.issuer,
        cert.not_valid_after.strftime("%Y-%m-%d"))


def run(args: argparse.Namespace) -> int:
    """The ``demo`` subcommand."""
    from openssl_cmp.testing import CA_CERTS_OID, MockCA

    _say("openssl_cmp demo on %s" % binding.OPENSSL_VERSION)
    mock = MockCA(protect_with_cert=True)
    _say("MockCA: %s" % mock.ca_cert.subject)
    key = PrivateKey.generate("EC", curve="P-256")
    with mock.client(subject_name=args.subject, new_pkey=key) as ctx:
        if args.verbose:
            ctx.log_verbosity = LogLevel.DEBUG
        ctx.push_subject_alt_name("DNS:" + args.dns)

        cert = ctx.exec_ir()
        _say("IR   (PBM)        -> %s" % _describe(cert))

        ctx.reinit()
        ctx.cert, ctx.pkey = cert, key  # from now on: signature protection
        ctx.secret_value = None
        ctx.reference_value = None
        ctx.set_new_pkey(PrivateKey.generate("EC", curve="P-256"))  # a CA certifies a key once
        cert2 = ctx.exec_cr()
        _say("CR   (signature)  -> %s" % _describe(cert2))

        ctx.reinit()
        new_key = PrivateKey.generate("EC", curve="P-256")
        ctx.old_cert = cert
        ctx.set_new_pkey(new_key)
        renewed = ctx.exec_kur()
        _say("KUR  (new key)    -> %s" % _describe(renewed))

        ctx.reinit()
        ctx.push_genm_itav(ITAV(CA_CERTS_OID))
        itavs = ctx.exec_genm()
        _say("GENM (caCerts)    -> %s" % ", ".join("%s (%d bytes)" % (i.name, len(
            i.value_der or b"")) for i in itavs))

        ctx.reinit()
        ctx.old_cert = cert
        ctx.set_option(Option.REVOCATION_REASON, 4)  # superseded
        ctx.exec_rr()
        _say("RR   (superseded) -> revoked serial %#x" % cert.serial_number)
    _say("MockCA issued %d certificates, revoked %d." % (len(mock.issued), len(mock.revoked)))
    if args.certout:
        with open(args.certout, "wb") as f:
            f.write(renewed.to_pem())
        _say("wrote %s" % args.certout)
    return 0
