"""Hypothesis strategies for CMP: names, keys, certificate templates, ITAVs and whole
messages produced by OpenSSL (``pip install openssl_cmp[test]``; hypothesis is imported
only when this module is).

The recipe "for any such request, OpenSSL's server answers X" (docs/testing.md)::

    @given(request=strategies.requests())
    def test_any_request_is_certified(request):
        mock = MockCA()
        answer = mock.process(request.message)
        assert answer.body_type == BodyType.IP

Messages come from OpenSSL itself: a client built from a drawn template enrolls with a
``MockCA`` through an ``Intercept`` that keeps every message; ``messages()`` then optionally
edits one with ``Message.edit``.
"""

from __future__ import annotations

import datetime
from typing import Any, NamedTuple

from hypothesis import strategies as st

from openssl_cmp import itavs as _itavs
from openssl_cmp.enums import BodyType, FailInfo, LogLevel
from openssl_cmp.keys import PrivateKey
from openssl_cmp.message import ITAV, Message
from openssl_cmp.objects import GeneralName, Name
from openssl_cmp.testing._intercept import Intercept

__all__ = ["names", "keys", "general_names", "cert_templates", "itavs", "requests",
           "messages", "CertTemplate", "Exchanged"]

# letters, digits, space and a few marks: valid in every RDN, never an escape in either
# name syntax (the point is the CMP path, not name escaping)
_TEXT = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -.",
                min_size=1, max_size=24).map(str.strip).filter(bool)
_ATTRS = ("CN", "O", "OU", "L", "C")
_KEY_TYPES = (("EC", "P-256"), ("EC", "P-384"), ("Ed25519", None))
_DNS = st.from_regex(r"\A[a-z][a-z0-9]{0,10}(\.[a-z][a-z0-9]{0,10}){1,2}\Z")


@st.composite
def names(draw: st.DrawFn, min_size: int = 1, max_size: int = 4) -> Name:
    """A distinguished Name with a CN and up to ``max_size`` RDNs (C: two letters)."""
    count = draw(st.integers(min_size, max_size))
    parts = ["/CN=" + draw(_TEXT)]
    for attr in draw(st.lists(st.sampled_from(_ATTRS[1:]), min_size=count - 1,
                              max_size=count - 1, unique=True)):
        value = draw(st.sampled_from(["DE", "US", "FI"])) if attr == "C" else draw(_TEXT)
        parts.append("/%s=%s" % (attr, value))
    return Name.parse("".join(parts))


def keys(types: tuple[tuple[str, str | None], ...] = _KEY_TYPES,
         ) -> st.SearchStrategy[PrivateKey]:
    """A fresh private key of one of ``types`` (``(kind, curve)``; RSA is left out by
    default: slow to generate)."""
    def make(kind_curve: tuple[str, str | None]) -> PrivateKey:
        kind, curve = kind_curve
        if kind == "RSA":
            return PrivateKey.generate("RSA", bits=2048)
        return PrivateKey.generate(kind, curve=curve) if curve else PrivateKey.generate(kind)
    return st.sampled_from(types).map(make)


def general_names() -> st.SearchStrategy[GeneralName]:
    """A DNS name, an IPv4 address or an e-mail address."""
    return st.one_of(
        _DNS.map(GeneralName.dns),
        st.ip_addresses(v=4).map(lambda ip: GeneralName.ip(str(ip))),
        st.tuples(st.from_regex(r"\A[a-z]{1,8}\Z"), _DNS).map(
            lambda t: GeneralName.email("%s@%s" % t)))


class CertTemplate(NamedTuple):
    """What a client asks for: subject, key and subjectAltNames."""

    subject: Name
    key: PrivateKey
    sans: list[GeneralName]

    def configure(self, ctx: Any) -> None:
        """Set this template on a ``Context`` (subject, new key, SANs)."""
        ctx.subject_name = self.subject
        ctx.set_new_pkey(self.key)
        for san in self.sans:
            ctx.push_subject_alt_name(san)


def cert_templates() -> st.SearchStrategy[CertTemplate]:
    """A certificate template: a Name, a key and up to three SANs."""
    return st.builds(CertTemplate, names(), keys(),
                     st.lists(general_names(), max_size=3))


def itavs() -> st.SearchStrategy[ITAV]:
    """An ITAV built with the :mod:`openssl_cmp.itavs` constructors (profiles, language
    tags, key pair types), or an unknown type with an arbitrary DER value."""
    oid_arc = st.integers(1, 2**31 - 1)
    unknown = st.tuples(oid_arc, st.binary(max_size=16)).map(
        lambda t: ITAV("1.3.6.1.4.1.99999.%d" % t[0], b"\x04" + bytes((len(t[1]),)) + t[1]))
    return st.one_of(
        _TEXT.map(_itavs.new_cert_profile),
        st.lists(st.sampled_from(["en", "de", "fi", "fr"]), min_size=1, max_size=3,
                 unique=True).map(_itavs.new_supp_lang_tags),
        st.lists(st.sampled_from(["prime256v1", "ED25519", "rsaEncryption"]), min_size=1,
                 max_size=3, unique=True).map(_itavs.new_sign_key_pair_types),
        unknown)


class Exchanged(NamedTuple):
    """The messages of one IR transaction OpenSSL's client ran against a ``MockCA``:
    ``message`` (the one drawn), ``all`` (every message, in order), the ``template``."""

    message: Message
    all: list[Message]
    template: CertTemplate


def _enroll(template: CertTemplate, implicit_confirm: bool) -> list[Message]:
    from openssl_cmp.mockca import MockCA
    from openssl_cmp.errors import CMPError

    mock = MockCA(grant_implicit_confirm=implicit_confirm)
    mock.ctx.log_verbosity = LogLevel.EMERG
    seen: list[Message] = []

    def keep(msg: Message) -> None:
        seen.append(msg.copy())

    with mock.client() as ctx:
        ctx.log_verbosity = LogLevel.EMERG
        template.configure(ctx)
        ctx.transfer_callback = Intercept(mock, on_request=keep, on_response=keep)
        try:
            ctx.exec_ir()
        except CMPError:
            pass  # a refused template still gives the ir and the answer
    return seen


@st.composite
def requests(draw: st.DrawFn, implicit_confirm: bool = False) -> Exchanged:
    """An ir that OpenSSL's client built for a drawn template (``.message``), with the
    whole transaction it belongs to."""
    template = draw(cert_templates())
    seen = _enroll(template, implicit_confirm)
    return Exchanged(seen[0], seen, template)


_EDITS: dict[str, st.SearchStrategy[Any]] = {
    "transaction_id": st.binary(min_size=0, max_size=20),
    "sender_nonce": st.binary(min_size=0, max_size=20),
    "recip_nonce": st.one_of(st.none(), st.binary(max_size=20)),
    "pvno": st.integers(0, 5),
    "message_time": st.one_of(st.none(), st.datetimes(
        min_value=datetime.datetime(1990, 1, 1), max_value=datetime.datetime(2100, 1, 1),
        timezones=st.just(datetime.timezone.utc))),
    "fail_info": st.integers(0, int(max(FailInfo)) * 2 - 1),
    "cert_req_id": st.integers(-1, 3),
}


@st.composite
def messages(draw: st.DrawFn, body_types: tuple[BodyType, ...] | None = None,
             edit: bool = True) -> Message:
    """A message of an IR transaction (ir, ip, certConf, pkiConf) produced by OpenSSL,
    restricted to ``body_types`` if given; with ``edit``, maybe changed in one to three
    fields (protection then kept as it was, removed or broken)."""
    exchanged = draw(requests())
    pool = [m for m in exchanged.all if body_types is None or m.body_type in body_types]
    if not pool:
        raise ValueError("the transaction has no message of types %s" % (body_types,))
    msg = draw(st.sampled_from(pool))
    if not edit or not draw(st.booleans()):
        return msg
    fields: dict[str, Any] = {}
    for key in draw(st.lists(st.sampled_from(sorted(_EDITS)), min_size=1, max_size=3,
                             unique=True)):
        if key in ("fail_info",) and msg.body_type not in (BodyType.IP, BodyType.ERROR):
            continue
        if key == "cert_req_id" and msg.body_type not in (BodyType.IR, BodyType.IP,
                                                          BodyType.CERTCONF):
            continue
        fields[key] = draw(_EDITS[key])
    protection = draw(st.sampled_from(["keep", "none", "break"]))
    if protection == "break" and msg.protection_alg is None:
        protection = "keep"
    return msg.edit(protection=protection, **fields)
