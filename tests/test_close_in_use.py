"""close() while another thread uses the object: no crash, only results or
ValueError("... is closed"); and close() still frees at once when nobody else uses it.

Everything that could crash runs in a fresh interpreter (a crash fails the test instead of
killing pytest).  Free timing is observed with the allocator hook (OPENSSL_CMP_MEMHOOK=1:
libcrypto's live-block count), with the cyclic garbage collector off, so "freed" means
freed by close() itself, not later by gc."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from openssl_cmp import Certificate, Name, PrivateKey
from openssl_cmp.binding import lib
from openssl_cmp.objects import CertStack

TIMEOUT = 300


def run(code: str, *args, memhook: bool = False) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if memhook:
        env["OPENSSL_CMP_MEMHOOK"] = "1"
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
                          capture_output=True, text=True, timeout=TIMEOUT, env=env,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, "rc=%d\n%s\n%s" % (proc.returncode, proc.stdout[-3000:],
                                                    proc.stderr[-3000:])
    return proc


# -- many threads use an object while the main thread closes it ---------------------------

STRESS = r"""
import collections, json, sys, threading

from openssl_cmp import (CSR, GeneralName, ITAV, Certificate, Extensions, Message, Name,
                         PolicyInfo, PrivateKey, TrustStore)
from openssl_cmp.message import CertRequest
from openssl_cmp.testing import MockCA

ROUNDS, THREADS = int(sys.argv[1]), int(sys.argv[2])

KEY = PrivateKey.generate("EC")
KEY_DER = KEY.to_der()
PUB_DER = KEY.public_key().to_der()
CA_KEY = PrivateKey.generate("EC")
CA = Certificate.create("/CN=ca", CA_KEY, CA_KEY, ca=True)
CERT_DER = Certificate.create("/CN=t/O=o", KEY, CA_KEY, issuer=CA,
                              extensions=Extensions({"subjectAltName": "DNS:a.example"})
                              ).to_der()
CSR_DER = CSR.build("/CN=r", KEY, sans=["DNS:r.example"]).to_der()
EXT_DER = Extensions({"subjectAltName": "DNS:a.example",
                      "keyUsage": "critical,digitalSignature"}).to_der()

captured = {}


class Capturing(MockCA):
    def handle_cert_request(self, request, cert_req_id, crm, csr):
        captured["msg"], captured["crm"] = request.to_der(), crm.to_der()
        return super().handle_cert_request(request, cert_req_id, crm, csr)


with Capturing().client(subject_name="/CN=client", new_pkey=KEY) as ctx:
    ctx.exec_ir()


def created(key):
    c = Certificate.create("/CN=k", key, key)
    return str(c.subject), c.public_key().to_der(), c.is_issued_by(c)


def der_list(certs):
    return [c.to_der() for c in certs]


# kind: (factory, [(name, reader)]); a reader's result must equal that of a reference
# object that is never closed
KINDS = {
    "Certificate": (lambda: Certificate.from_der(CERT_DER), [
        ("to_der", lambda c: c.to_der()),
        ("subject", lambda c: str(c.subject)),
        ("issuer", lambda c: str(c.issuer)),
        ("serial_number", lambda c: c.serial_number),
        ("not_valid_after", lambda c: c.not_valid_after),
        ("extensions", lambda c: c.extensions().names()),
        ("public_key", lambda c: c.public_key().to_der()),
        ("fingerprint", lambda c: c.fingerprint()),
        ("is_issued_by", lambda c: c.is_issued_by(CA)),
        ("copy", lambda c: c.copy().to_der()),
        ("eq", lambda c: c == Certificate.from_der(CERT_DER)),
        ("repr", lambda c: repr(c) if not c.closed else c.ptr),
        ("to_pem", lambda c: c.to_pem()),
    ]),
    "PrivateKey": (lambda: PrivateKey.from_der(KEY_DER), [
        ("Certificate.create", created),
        # compared by what they decode to: concurrent encoders of one EC key may add or
        # omit the optional curve parameters inside the PKCS#8 (OpenSSL toggles the key's
        # encoding flags while encoding), with or without close()
        ("to_pem", lambda k: PrivateKey.from_pem(k.to_pem()).public_key().to_der()),
        ("to_der", lambda k: PrivateKey.from_der(k.to_der()).public_key().to_der()),
        ("public_key", lambda k: k.public_key().to_der()),
        ("key_type", lambda k: k.key_type),
        ("key_size", lambda k: k.key_size),
        ("CSR.build", lambda k: str(CSR.build("/CN=b", k).subject)),
        ("copy", lambda k: k.copy().public_key().to_der()),
    ]),
    "Message": (lambda: Message.from_der(captured["msg"]), [
        ("to_der", lambda m: m.to_der()),
        ("body_type", lambda m: m.body_type),
        ("transaction_id", lambda m: m.transaction_id),
        ("sender_nonce", lambda m: m.sender_nonce),
        ("recip_nonce", lambda m: m.recip_nonce),
        ("sender_kid", lambda m: m.sender_kid),
        ("sender", lambda m: str(m.sender)),
        ("recipient", lambda m: str(m.recipient)),
        ("pvno", lambda m: m.pvno),
        ("copy", lambda m: m.copy().to_der()),
        ("hash", lambda m: hash(m)),
    ]),
    "CertRequest": (lambda: CertRequest.from_der(captured["crm"]), [
        ("cert_req_id", lambda r: r.cert_req_id),
        ("subject", lambda r: str(r.subject)),
        ("issuer", lambda r: r.issuer),
        ("serial_number", lambda r: r.serial_number),
        ("public_key", lambda r: r.public_key().to_der()),
        ("extensions", lambda r: (lambda e: e and e.names())(r.extensions())),
        ("old_cert_id", lambda r: r.old_cert_id),
        ("to_der", lambda r: r.to_der()),
    ]),
    "Name": (lambda: Name.parse("/CN=n/O=o+OU=u"), [
        ("str", str),
        ("entries", lambda n: n.entries()),
        ("len", len),
        ("hash", hash),
        ("to_der", lambda n: n.to_der()),
    ]),
    "Extensions": (lambda: Extensions.from_der(EXT_DER), [
        ("names", lambda e: e.names()),
        ("text", lambda e: e.text(0)),
        ("critical", lambda e: e.critical(1)),
        ("has_san", lambda e: e.has_san),
        ("len", len),
        ("to_der", lambda e: e.to_der()),
    ]),
    "CSR": (lambda: CSR.from_der(CSR_DER), [
        ("subject", lambda r: str(r.subject)),
        ("public_key", lambda r: r.public_key().to_der()),
        ("extensions", lambda r: r.extensions().names()),
        ("to_der", lambda r: r.to_der()),
    ]),
    "ITAV": (lambda: ITAV("1.2.3.4", b"\x30\x00"), [
        ("type", lambda i: i.type),
        ("name", lambda i: i.name),
        ("value_der", lambda i: i.value_der),
    ]),
    "TrustStore": (lambda: TrustStore([CA]), [
        ("certs", lambda s: der_list(s.certs)),
        ("len", len),
    ]),
    "PolicyInfo": (lambda: PolicyInfo("1.2.3.4"), [("oid", lambda p: p.oid),
                                                     ("to_der", lambda p: p.to_der())]),
    "GeneralName": (lambda: GeneralName.parse("DNS:g.example"), [
        ("str", str), ("to_der", lambda g: g.to_der())]),
}
EXPECTED = {}
for kind, (factory, readers) in KINDS.items():
    ref = factory()
    EXPECTED[kind] = {name: (None if name == "repr" else read(ref))
                      for name, read in readers}
EXPECTED["PrivateKey"]["Certificate.create"] = ("CN=k", PUB_DER, True)
EXPECTED["Certificate"]["repr"] = None  # checked below: it only must not fail

outcomes = collections.defaultdict(collections.Counter)
lock = threading.Lock()


def outcome_of(kind, name, read, obj):
    try:
        value = read(obj)
    except ValueError as exc:
        if str(exc) == "%s is closed" % type(obj).__name__:
            return "closed"
        return "ValueError: %s" % exc
    except BaseException as exc:  # noqa: BLE001 - reported, the test fails on it
        return "%s: %s" % (type(exc).__name__, exc)
    if name == "repr" or value == EXPECTED[kind][name]:
        return "ok"
    return "WRONG %r" % (value,)


def one_round(kind, index):
    factory, readers = KINDS[kind]
    obj = factory()
    started = threading.Barrier(THREADS + 1)
    closed = threading.Event()
    reached = threading.Event()
    target = index % (len(readers) * 2) + 1  # close after this many reads, varied by round
    done = [0]

    def worker():
        started.wait()
        while True:
            after = closed.is_set()  # every read of this pass starts after close()
            for name, read in readers:
                result = outcome_of(kind, name, read, obj)
                if after and result != "closed":
                    result = "used after close: " + result
                with lock:
                    outcomes["%s.%s" % (kind, name)][result] += 1
                    done[0] += 1
                    if done[0] == target:
                        reached.set()
            if after:
                return

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    started.wait()
    reached.wait()
    obj.close()
    closed.set()
    for t in threads:
        t.join()
    assert obj.closed


for kind in KINDS:
    rounds = ROUNDS if kind in ("Certificate", "PrivateKey", "Message") else ROUNDS // 3
    for i in range(rounds):
        one_round(kind, i)
print(json.dumps({k: dict(v) for k, v in outcomes.items()}))
"""


def test_close_while_threads_use_the_object():
    proc = run(STRESS, 300, 4)
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    bad = {reader: results for reader, results in seen.items()
           if set(results) - {"ok", "closed"}}
    assert not bad, bad
    for kind in ("Certificate", "PrivateKey", "Message", "CertRequest", "Name", "Extensions",
                 "CSR", "ITAV", "TrustStore", "PolicyInfo", "GeneralName"):
        results = [r for reader, r in seen.items() if reader.startswith(kind + ".")]
        assert results, kind
        # both outcomes happened: the test really raced close() against the readers
        assert sum(r.get("ok", 0) for r in results) > 0, kind
        assert sum(r.get("closed", 0) for r in results) > 0, kind


# -- a handler's kept view, used by other threads while the callback ends ------------------

KEPT_VIEW = r"""
import sys, threading

from openssl_cmp import BodyType, ITAV, PrivateKey
from openssl_cmp.testing import MockCA

ROUNDS, THREADS = int(sys.argv[1]), int(sys.argv[2])
kept = [None]
stop = threading.Event()
errors = []


class Keeping(MockCA):
    def handle_genm(self, request, itavs):
        kept[0] = request  # kept: it becomes a copy when the callback ends
        return super().handle_genm(request, itavs)


def reader():
    while not stop.is_set():
        request = kept[0]
        if request is None:
            continue
        try:
            assert request.body_type == BodyType.GENM
            assert len(request.transaction_id) == 16
            assert request.to_der()
            request.sender_nonce
        except BaseException as exc:  # noqa: BLE001
            errors.append(repr(exc))
            return


key = PrivateKey.generate("EC")
threads = [threading.Thread(target=reader) for _ in range(THREADS)]
for t in threads:
    t.start()
with Keeping().client(subject_name="/CN=k", new_pkey=key) as ctx:
    for _ in range(ROUNDS):
        ctx.push_genm_itav(ITAV("1.2.3.4"))
        ctx.exec_genm()
        ctx.reinit()
stop.set()
for t in threads:
    t.join()
assert not errors, errors[:3]
print("ok")
"""


def test_kept_view_used_by_other_threads_while_the_callback_ends():
    """A request view the handler keeps is read by other threads while the server core
    frees the request it lent: end_view lets their calls on C's pointer finish first."""
    assert run(KEPT_VIEW, 300, 3).stdout.split() == ["ok"]


# -- a new Name used by several threads at once (no close() at all) ------------------------

NEW_NAME = r"""
import sys, threading

from openssl_cmp import Name

ROUNDS, THREADS = int(sys.argv[1]), int(sys.argv[2])
TEXT = "/CN=n/O=o+OU=u"
REF = Name.parse(TEXT)
EXPECTED = (hash(REF), str(REF), REF.to_der())
wrong = []


def first_use(name, go):
    go.wait()  # all threads make the name's first use together
    got = (hash(name), str(name), name.to_der())
    if got != EXPECTED or name != REF:
        wrong.append(got)


for _ in range(ROUNDS):
    name = Name.parse(TEXT)
    go = threading.Barrier(THREADS)
    threads = [threading.Thread(target=first_use, args=(name, go)) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
assert not wrong, wrong[:3]
print("ok")
"""


def test_new_name_used_by_threads_at_once():
    """A Name built by openssl_cmp is encoded when built: OpenSSL's lazy first encoding
    (which frees and rebuilds the name's buffers) raced, and crashed, when several threads
    made the first use of a new Name together."""
    assert run(NEW_NAME, 2000, 4).stdout.split() == ["ok"]


# -- close() frees at once when unused, and when the last use in flight ends ---------------

FREE_TIMING = r"""
import gc, weakref

from openssl_cmp import binding
from openssl_cmp import Certificate, Message, Name, PrivateKey, objects
from openssl_cmp.binding import ffi, lib
from openssl_cmp.objects import CertStack

assert binding.MEMHOOK_ACTIVE
gc.disable()  # what is freed below is freed by close() itself
live = lib.ocmp_memhook_live

KEY = PrivateKey.generate("EC")
DER = Certificate.create("/CN=t", KEY, KEY).to_der()
Certificate.from_der(DER).subject  # warm-up: lazy initialisation
base = live()

# unused: close() frees at once
cert = Certificate.from_der(DER)
assert live() > base
cert.close()
assert cert.closed and live() == base, (live(), base)
try:
    cert.ptr
except ValueError as exc:
    assert str(exc) == "Certificate is closed"
else:
    raise AssertionError("ptr of a closed Certificate")
cert.close()  # idempotent
with Certificate.from_der(DER) as cert:
    assert live() > base
assert cert.closed and live() == base

# in use (a C call in flight holds the cdata, as its argument): freed when it ends
cert = Certificate.from_der(DER)
in_flight = cert.ptr
cert.close()
assert cert.closed and live() > base
del in_flight
assert live() == base

# a close() in the middle of a derivation (between the get0 call and the copy): the getter
# completes normally, and the certificate is freed as soon as it returns
orig = Name._copied.__func__
cert = Certificate.from_der(DER)
def closing(cls, ptr):
    cert.close()
    return orig(cls, ptr)
Name._copied = classmethod(closing)
subject = cert.subject
Name._copied = classmethod(orig)
assert str(subject) == "CN=t" and cert.closed
del subject
assert live() == base, (live(), base)

orig_int = objects.asn1_integer_to_int
cert = Certificate.from_der(DER)
expected = Certificate.from_der(DER).serial_number
def closing_int(ptr):
    cert.close()
    return orig_int(ptr)
objects.asn1_integer_to_int = closing_int
assert cert.serial_number == expected and cert.closed
objects.asn1_integer_to_int = orig_int
assert live() == base

# a copy does not keep the original's cdata (and so its release) waiting
cert = Certificate.from_der(DER)
watch = weakref.ref(cert._ptr)
copy = cert.copy()
borrowed = Certificate._borrowed(cert.ptr)  # what Context does with a given certificate
cert.close()
assert watch() is None, "a copy keeps the original's gc cdata alive"
copy.close(); borrowed.close()
assert live() == base

# CertStack: a certificate closed while in the stack stays valid until the stack ends
cert = Certificate.from_der(DER)
with CertStack([cert], "certificate") as sk:
    cert.close()
    out = ffi.new("unsigned char **")
    n = lib.i2d_X509(lib.sk_X509_value(sk, 0), out)
    assert ffi.buffer(out[0], n)[:] == DER
    lib.OPENSSL_free(out[0])
assert live() == base

# a view: close() never frees C's pointer
raw = lib.X509_NAME_new()
view = Name._view(raw)
with_raw = live()
view.close()
assert view.closed and live() == with_raw
lib.X509_NAME_free(raw)
assert live() == base

# no leak from the new close(), across every path above, many times
for _ in range(200):
    c = Certificate.from_der(DER)
    p = c.ptr
    c.copy().close()
    c.close()
    del p
    m = Certificate.create("/CN=x", KEY, KEY)
    m.subject, m.serial_number
    m.close()
assert live() == base, (live(), base)
print("ok")
"""


def test_close_frees_at_once_or_when_the_last_use_ends():
    assert run(FREE_TIMING, memhook=True).stdout.split() == ["ok"]


# -- in-process checks (cannot crash) -------------------------------------------------------

@pytest.fixture(scope="module")
def cert_and_der():
    key = PrivateKey.generate("EC")
    cert = Certificate.create("/CN=in-process", key, key)
    return cert, cert.to_der()


def test_closed_object_raises_documented_value_error(cert_and_der):
    _, der = cert_and_der
    cert = Certificate.from_der(der)
    cert.close()
    assert cert.closed
    for use in (lambda: cert.ptr, cert.to_der, lambda: cert.subject,
                lambda: cert.serial_number, cert.extensions, cert.public_key):
        with pytest.raises(ValueError, match="^Certificate is closed$"):
            use()


def test_certstack_keeps_a_closed_certificate_until_the_block_ends(cert_and_der):
    _, der = cert_and_der
    cert = Certificate.from_der(der)
    with CertStack([cert], "certificate") as sk:
        cert.close()
        assert lib.sk_X509_num(sk) == 1
        assert Certificate._borrowed(lib.sk_X509_value(sk, 0)).to_der() == der
    assert cert.closed


def test_view_close_does_not_free_and_end_view_of_unkept_view():
    from openssl_cmp._ownership import end_view, lend

    raw = lib.X509_NAME_new()
    try:
        view = Name._view(raw)
        kept = lend(view)
        view.close()
        assert view.closed
        assert lib.X509_NAME_entry_count(raw) == 0  # still C's, still valid
        end_view(kept)  # ending a closed (even a still referenced) view is a no-op
        assert view.closed
        del view
        end_view(kept)  # nor does ending a view nobody holds any more
    finally:
        lib.X509_NAME_free(raw)
