"""Record the GENP answers of OpenSSL 3.5's own mock server (``openssl cmp -port``) to the
support operations, for tests/test_support_replay.py, which replays them on every OpenSSL
(3.0's mock server only echoes GENMs, so 3.0 cannot produce them).

Run on OpenSSL 3.5 from the project root:  PYTHONPATH=. python tests/data/record_genp.py
It writes tests/data/genp-3.5/: the PKI (old.pem, new.pem, nwo.pem, own.pem, crl.pem, cacert.pem,
ee.pem; certificates valid for 100 years) and <operation>.req.der / <operation>.rsp.der.
The requests use a fixed transactionID (TID below) and PBM with reference "ref" and secret
"s3cret"; the replaying test sets the recipNonce of each answer to its own request's
senderNonce (OpenSSL draws a new one per request) and re-protects it.
"""

import datetime
import os
import sys
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from helpers import MockServer  # noqa: E402

from openssl_cmp import CRL, Certificate, Context, Message, PrivateKey, TrustStore, binding  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "genp-3.5")
TID = bytes(range(16))
DAYS = 36500


def main():
    assert binding.has("OSSL_CMP_get1_crlUpdate"), "needs OpenSSL 3.4+"
    os.makedirs(OUT, exist_ok=True)
    old_key, new_key = PrivateKey.generate("EC"), PrivateKey.generate("EC")
    old = Certificate.create("/CN=Replay Root", old_key, old_key, ca=True, days=DAYS)
    new = Certificate.create("/CN=Replay Root", new_key, new_key, ca=True, days=DAYS)
    nwo = Certificate.create(new.subject, new_key.public_key(), old_key, issuer=old, ca=True,
                             days=DAYS)
    own = Certificate.create(old.subject, old_key.public_key(), new_key, issuer=new, ca=True,
                             days=DAYS)
    ee_key = PrivateKey.generate("EC")
    ee = Certificate.create("/CN=replay ee", ee_key, old_key, issuer=old, days=DAYS)
    when = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)
    crl = CRL.create(old, old_key, [(7, when, 1)], last_update=when,
                     next_update=when + datetime.timedelta(days=DAYS))
    files = {"old.pem": old, "new.pem": new, "nwo.pem": nwo, "own.pem": own, "ee.pem": ee,
             "cacert.pem": old, "crl.pem": crl}
    for name, obj in files.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(obj.to_pem())
    server = MockServer(("-srv_ref", "ref", "-srv_secret", "pass:s3cret", "-rsp_cert", "ee.pem",
                         "-rsp_capubs", "cacert.pem", "-rsp_newwithnew", "new.pem",
                         "-rsp_newwithold", "nwo.pem", "-rsp_oldwithnew", "own.pem",
                         "-rsp_crl", "crl.pem"), cwd=OUT)
    try:
        record(server, "caCerts", lambda ctx: ctx.get_ca_certs())
        record(server, "rootCaKeyUpdate", lambda ctx: ctx.get_root_ca_key_update(old))
        record(server, "crlUpdate", lambda ctx: ctx.get_crl_update(cert=ee))
    finally:
        server.stop()
        for name in os.listdir(OUT):
            if name.startswith("mock-server-"):
                os.remove(os.path.join(OUT, name))


def record(server, name, operation):
    def transfer(ctx, request):
        req = request.to_der()
        http = urllib.request.Request("http://%s/pkix/" % server.url, data=req,
                                      headers={"Content-Type": "application/pkixcmp"})
        with urllib.request.urlopen(http, timeout=20) as answer:
            rsp = answer.read()
        for suffix, der in ((".req.der", req), (".rsp.der", rsp)):
            with open(os.path.join(OUT, name + suffix), "wb") as f:
                f.write(der)
        return Message.from_der(rsp)

    with Context() as ctx:
        ctx.reference_value, ctx.secret_value = b"ref", b"s3cret"
        ctx.transaction_id = TID
        ctx.trusted = TrustStore([Certificate.from_file(os.path.join(OUT, "old.pem"))])
        ctx.transfer_callback = transfer
        print(name, operation(ctx))


if __name__ == "__main__":
    main()
