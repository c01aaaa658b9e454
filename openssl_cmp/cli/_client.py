"""The client subcommands ``ir cr p10cr kur rr genm``: a :class:`~openssl_cmp.Context` set
up from the options, one transaction, and the files ``openssl cmp`` would write.

Without ``--server`` (and without ``--rspin``) the transaction runs against an embedded
:class:`~openssl_cmp.testing.MockCA`, in-process; ``kur`` and ``rr`` then first enroll a
certificate to renew or revoke, unless ``--oldcert``/``--cert`` name one.
"""

from __future__ import annotations

import argparse
import ipaddress
import re
from typing import Any

from openssl_cmp import _der, binding, itavs
from openssl_cmp.cli._config import Config
from openssl_cmp.cli._errors import CLIError, UsageError
from openssl_cmp.cli._files import (load_cert, load_certs, load_crl, load_csr, load_key,
                                    load_public_key, load_store, split_list, write_bytes,
                                    write_certs, write_key)
from openssl_cmp.cli._offline import Offline, StopAfterRequest, http_forward, note
from openssl_cmp.cli._passwords import read_password
from openssl_cmp.context import Context
from openssl_cmp.enums import LogLevel, Option, ReqType
from openssl_cmp.errors import probe
from openssl_cmp.keys import PrivateKey, PublicKey
from openssl_cmp.message import ITAV
from openssl_cmp.objects import CSR, Certificate
from openssl_cmp.tls import TLS

__all__ = ["run", "INFO_TYPES"]

INFO_TYPES = {  # RFC 9810 / 9480 InfoType names as openssl spells them
    "signKeyPairTypes": "1.3.6.1.5.5.7.4.2", "encKeyPairTypes": "1.3.6.1.5.5.7.4.3",
    "preferredSymmAlg": "1.3.6.1.5.5.7.4.4", "caKeyUpdateInfo": "1.3.6.1.5.5.7.4.5",
    "currentCRL": "1.3.6.1.5.5.7.4.6", "unsupportedOIDs": "1.3.6.1.5.5.7.4.7",
    "keyPairParamReq": "1.3.6.1.5.5.7.4.10", "keyPairParamRep": "1.3.6.1.5.5.7.4.11",
    "revPassphrase": "1.3.6.1.5.5.7.4.12", "implicitConfirm": "1.3.6.1.5.5.7.4.13",
    "confirmWaitTime": "1.3.6.1.5.5.7.4.14", "origPKIMessage": "1.3.6.1.5.5.7.4.15",
    "suppLangTags": "1.3.6.1.5.5.7.4.16", "caCerts": "1.3.6.1.5.5.7.4.17",
    "rootCaKeyUpdate": "1.3.6.1.5.5.7.4.18", "certReqTemplate": "1.3.6.1.5.5.7.4.19",
    "rootCaCert": "1.3.6.1.5.5.7.4.20", "certProfile": "1.3.6.1.5.5.7.4.21",
    "crlStatusList": "1.3.6.1.5.5.7.4.22", "crls": "1.3.6.1.5.5.7.4.23",
}
_REQ_TYPES = {"ir": ReqType.IR, "cr": ReqType.CR, "p10cr": ReqType.P10CR, "kur": ReqType.KUR}
# the genm options of the support operations, with the info type that uses each: they run
# on every OpenSSL (openssl_cmp.support), where `openssl cmp` needs 3.2 / 3.4
_SUPPORT_OPTIONS = {"oldwithold": "rootCaCert", "newwithnew": "rootCaCert",
                    "newwithold": "rootCaCert", "oldwithnew": "rootCaCert",
                    "crlcert": "crlStatusList", "oldcrl": "crlStatusList",
                    "crlout": "crlStatusList", "template": "certReqTemplate",
                    "keyspec": "certReqTemplate"}


def _openssl_at_least(version: str) -> bool:
    major, minor = (int(x) for x in version.split("."))
    return binding.OPENSSL_VERSION_NUMBER >= (major << 28 | minor << 20)


def _check_supported(args: argparse.Namespace) -> None:
    for name, infotype in _SUPPORT_OPTIONS.items():
        if getattr(args, name, None) is not None and (
                args.command != "genm" or (args.infotype or "") != infotype):
            raise UsageError("--%s is an option of genm --infotype %s" % (name, infotype))
    if args.command == "genm" and args.infotype == "rootCaCert" and not args.newwithnew:
        raise UsageError("genm --infotype rootCaCert needs --newwithnew")
    if args.command == "genm" and args.infotype == "crlStatusList":
        if not args.crlcert and not args.oldcrl:
            raise UsageError("genm --infotype crlStatusList needs --crlcert or --oldcrl")
        if not args.crlout:
            raise UsageError("genm --infotype crlStatusList needs --crlout")
    if args.command == "genm" and args.infotype == "certReqTemplate" and not args.template:
        raise UsageError("genm --infotype certReqTemplate needs --template")
    if args.centralkeygen and not _openssl_at_least("3.5"):
        raise UsageError("--centralkeygen needs OpenSSL 3.5 or later; this is %s"
                         % binding.OPENSSL_VERSION)
    if args.no_cache_extracerts and not _openssl_at_least("3.3"):
        raise UsageError("--no-cache-extracerts needs OpenSSL 3.3 or later; this is %s"
                         % binding.OPENSSL_VERSION)
    if args.certform not in (None, "PEM", "DER"):
        raise UsageError("--certform must be PEM or DER, not %r" % args.certform)
    if args.repeat < 1:
        raise UsageError("--repeat must be at least 1")
    if args.popo is not None and not -1 <= args.popo <= 2:
        raise UsageError("--popo must be -1, 0, 1 or 2, not %d" % args.popo)
    if args.revreason is not None and args.revreason not in (-1, 0, 1, 2, 3, 4, 5, 6, 8, 9,
                                                             10):
        raise UsageError("--revreason must be -1, 0..6 or 8..10, not %d" % args.revreason)


def _password(args: argparse.Namespace, name: str) -> str | None:
    """The password of a source option, read once (``stdin`` and ``fd:`` cannot be read
    twice, and ``--repeat`` reuses it)."""
    source = getattr(args, name.replace("-", "_"))
    if source is None:
        return None
    cache: dict[str, str] = args.__dict__.setdefault("read_passwords", {})
    if name not in cache:
        cache[name] = read_password(source, "--" + name)
    return cache[name]


def _split_server(text: str) -> tuple[bool, str, int | None, str | None]:
    """``[http[s]://]host[:port][/path]`` -> (https, host, port, path)."""
    https = False
    m = re.match(r"^(https?)://", text, re.IGNORECASE)
    if m:
        https = m.group(1).lower() == "https"
        text = text[m.end():]
    elif "://" in text:
        raise UsageError("--server: only http:// and https:// are supported, not %r" % text)
    hostport, slash, path = text.partition("/")
    if hostport.startswith("["):  # [IPv6]:port
        host, _, rest = hostport[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port_text = hostport.partition(":")
    if not host:
        raise UsageError("--server: no host in %r" % text)
    port = None
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise UsageError("--server: bad port %r" % port_text)
        port = int(port_text)
    return https, host, port, (path if slash else None)


def _general_name(text: str) -> str:
    """``openssl cmp -sans`` spelling -> ``TYPE:value``: an IP address, else email (has
    ``@``), else URI (has ``:``), else a DNS name."""
    try:
        ipaddress.ip_address(text)
        return "IP:" + text
    except ValueError:
        pass
    if "@" in text:
        return "email:" + text
    if ":" in text:
        return "URI:" + text
    return "DNS:" + text


def _geninfo(text: str) -> list[ITAV]:
    itavs = []
    for item in split_list(text):
        oid, sep, rest = item.partition(":")
        kind, sep2, value = rest.partition(":")
        if not (sep and sep2) or kind not in ("int", "str"):
            raise UsageError("--geninfo: %r must be OID:int:NUMBER or OID:str:TEXT" % item)
        if kind == "int":
            try:
                der = _der.encode_integer(int(value, 0))
            except ValueError:
                raise UsageError("--geninfo: %r is no integer" % value) from None
        else:
            der = _der.encode_utf8(value)
        itavs.append(ITAV(oid, der))
    return itavs


def _profile_itav(name: str) -> ITAV:
    # id-it-certProfile: SEQUENCE OF UTF8String (RFC 9480 section 2.3.2)
    return ITAV(INFO_TYPES["certProfile"], _der.sequence(_der.encode_utf8(name)))


def _algorithm_nid(name: str, option: str) -> int:
    """The NID of an algorithm named as ``openssl cmp -digest/-mac`` takes it (a short or
    long OpenSSL name, or a dotted OID); a usage error when OpenSSL does not know it."""
    with probe():  # an unknown name is an answer (0), not an error
        nid = int(binding.lib.OBJ_txt2nid(name.encode("ascii", "replace")))
        if nid == 0:
            nid = int(binding.lib.OBJ_sn2nid(name.lower().encode("ascii", "replace")))
    if nid == 0:
        raise UsageError("%s: algorithm name not recognized: %r" % (option, name))
    return nid


def configure(ctx: Context, args: argparse.Namespace, config: Config | None) -> None:
    """Apply the options to ``ctx`` (everything but the transfer and the new key)."""
    if args.verbosity is not None:
        ctx.log_verbosity = LogLevel(max(0, min(8, args.verbosity)))
    if args.server:
        https, host, port, path = _split_server(args.server)
        ctx.server = host
        ctx.server_port = port or (443 if https else 80)
        ctx.server_path = args.path if args.path is not None else (path or "/")
        if https:
            args.tls_used = True
    if args.proxy:
        ctx.proxy = args.proxy
    if args.no_proxy:
        ctx.no_proxy = args.no_proxy
    if args.recipient:
        ctx.recipient = args.recipient
    if args.expect_sender:
        ctx.expected_sender = args.expect_sender
    for option, value in ((Option.KEEP_ALIVE, args.keep_alive),
                          (Option.MSG_TIMEOUT, args.msg_timeout),
                          (Option.TOTAL_TIMEOUT, args.total_timeout),
                          (Option.VALIDITY_DAYS, args.days),
                          (Option.POPO_METHOD, args.popo),
                          (Option.REVOCATION_REASON, args.revreason)):
        if value is not None:
            ctx.set_option(option, value)
    if args.digest is not None:  # as apps/cmp.c: a digest name (sha256, SHA384, ...)
        ctx.set_option(Option.DIGEST_ALGNID, _algorithm_nid(args.digest, "--digest"))
    if args.mac is not None:  # a MAC name (hmac-sha1, hmacWithSHA256, ...)
        ctx.set_option(Option.MAC_ALGNID, _algorithm_nid(args.mac, "--mac"))
    for option, flag in ((Option.IGNORE_KEYUSAGE, args.ignore_keyusage),
                         (Option.UNPROTECTED_ERRORS, args.unprotected_errors),
                         (Option.UNPROTECTED_SEND, args.unprotected_requests),
                         (Option.PERMIT_TA_IN_EXTRACERTS_FOR_IR, args.ta_in_ip_extracerts),
                         (Option.NO_CACHE_EXTRACERTS, args.no_cache_extracerts),
                         (Option.SUBJECTALTNAME_NODEFAULT, args.san_nodefault),
                         (Option.POLICIES_CRITICAL, args.policy_oids_critical),
                         (Option.IMPLICIT_CONFIRM, args.implicit_confirm),
                         (Option.DISABLE_CONFIRM, args.disable_confirm)):
        if flag:
            ctx.set_option(option, 1)
    if args.trusted:
        ctx.trusted = load_store(args.trusted, "--trusted")
    if args.untrusted:
        ctx.untrusted = load_certs(args.untrusted, "--untrusted")
    if args.srvcert:
        ctx.server_cert = load_cert(args.srvcert, "--srvcert")[0]
    if args.ref is not None:
        ctx.reference_value = args.ref
    secret = _password(args, "secret")
    if secret is not None:
        ctx.secret_value = secret
    keypass = _password(args, "keypass")
    if args.cert:
        cert, chain = load_cert(args.cert, "--cert")
        if args.key is None:
            raise UsageError("--cert needs --key")
        key = load_key(args.key, keypass, "--key")
        if cert.public_key() != key.public_key():
            raise CLIError("--key does not belong to --cert")
        ctx.cert, ctx.pkey = cert, key
        if chain:
            ctx.untrusted = ctx.untrusted + chain
        if args.own_trusted:
            ctx.build_cert_chain(load_store(args.own_trusted, "--own-trusted"), chain)
    elif args.key:
        raise UsageError("--key needs --cert")
    if args.extracerts:
        ctx.extra_certs_out = load_certs(args.extracerts, "--extracerts")
    if args.subject:
        ctx.subject_name = args.subject
    if args.issuer:
        ctx.issuer = args.issuer
    extensions: dict[str, str] = {}
    for named_by, section in (("--reqexts", args.reqexts), ("--policies", args.policies)):
        if section:
            if config is None:
                raise UsageError("%s names a config section, but no config file is in use"
                                 % named_by)
            extensions.update(config.section(section, named_by))
    if extensions:
        ctx.req_extensions = extensions
    if args.sans:
        for item in split_list(args.sans):
            if item == "critical":
                ctx.set_option(Option.SUBJECTALTNAME_CRITICAL, 1)
            else:
                ctx.push_subject_alt_name(_general_name(item))
    if args.policy_oids:
        for oid in split_list(args.policy_oids):
            ctx.push_policy(oid)
    if args.csr:
        ctx.p10_csr = load_csr(args.csr, "--csr")
    if args.oldcert:
        ctx.old_cert = load_cert(args.oldcert, "--oldcert")[0]
    if args.serial is not None:
        try:
            ctx.serial_number = int(args.serial, 0)
        except ValueError:
            raise UsageError("--serial: %r is no number" % args.serial) from None
    if args.profile:
        ctx.push_geninfo_itav(_profile_itav(args.profile))
    if args.geninfo:
        for itav in _geninfo(args.geninfo):
            ctx.push_geninfo_itav(itav)
    if args.centralkeygen:
        ctx.central_key_generation = True
    if args.tls_used:
        tls_pass = _password(args, "tls-keypass")
        tls_cert: Certificate | None = None
        tls_chain: list[Certificate] = []
        tls_key: PrivateKey | None = None
        if args.tls_cert:
            tls_cert, tls_chain = load_cert(args.tls_cert, "--tls-cert")
            tls_key = load_key(args.tls_key or args.tls_cert, tls_pass, "--tls-key")
        extra = tls_chain + (load_certs(args.tls_extra, "--tls-extra") if args.tls_extra
                             else [])
        trusted = load_store(args.tls_trusted, "--tls-trusted") if args.tls_trusted else None
        ctx.tls = TLS(trusted=trusted, cert=tls_cert, key=tls_key, extra_certs=extra,
                      host=args.tls_host)
    elif any(getattr(args, n) for n in ("tls_cert", "tls_key", "tls_trusted", "tls_extra",
                                        "tls_host")):
        raise UsageError("the --tls-* options need --tls-used (or an https:// --server)")


def _new_key(args: argparse.Namespace) -> PrivateKey | PublicKey | None:
    if args.newkey:
        return load_public_key(args.newkey, _password(args, "newkeypass"), "--newkey")
    return None


def _embedded(args: argparse.Namespace) -> Any:
    """A MockCA that knows this client's credentials."""
    from openssl_cmp.testing import MockCA  # only when no --server: the test CA stays out

    secret = _password(args, "secret")
    mock = MockCA(secret=(secret or "mock-secret").encode(), protect_with_cert=True,
                  grant_implicit_confirm=True)
    note("no --server given: using an embedded MockCA (%s), in-process"
         % mock.ca_cert.subject)
    return mock


def _enroll_first(mock: Any, command: str) -> tuple[Certificate, PrivateKey]:
    """kur/rr against a fresh MockCA: enroll a certificate to renew or revoke."""
    key = PrivateKey.generate("EC", curve="P-256")
    with mock.client(subject_name="/CN=openssl-cmp %s example" % command,
                     new_pkey=key) as ctx:
        cert = ctx.exec_ir()
    note("enrolled %s first, to have a certificate to %s"
         % (cert.subject, "renew" if command == "kur" else "revoke"))
    return cert, key


def _write_outputs(ctx: Context, args: argparse.Namespace, cert: Certificate | None) -> None:
    form = args.certform or "PEM"
    if cert is not None and args.certout:
        write_certs(args.certout, [cert], "--certout", form)
    if args.chainout:
        write_certs(args.chainout, ctx.new_chain, "--chainout", form)
    if args.cacertsout and args.command != "genm":
        write_certs(args.cacertsout, ctx.ca_pubs, "--cacertsout", form)
    if args.extracertsout:
        write_certs(args.extracertsout, ctx.extra_certs_in, "--extracertsout", form)
    if args.srvcertout:
        srv = ctx.validated_server_cert
        write_certs(args.srvcertout, [srv] if srv is not None else [], "--srvcertout", form)


def _support_operation(ctx: Context, args: argparse.Namespace, infotype: str) -> bool:
    """The genm info types with a support operation (RFC 9483 §4.3), as ``openssl cmp``
    runs them (3.2+/3.4+ there; here on every OpenSSL): True when ``infotype`` is one."""
    form = args.certform or "PEM"
    if infotype == "caCerts":
        certs = ctx.get_ca_certs()
        print("caCerts: %d certificate(s)" % len(certs))
        if args.cacertsout:
            write_certs(args.cacertsout, certs, "--cacertsout", form)
        return True
    if infotype == "rootCaCert":
        old = load_cert(args.oldwithold, "--oldwithold")[0] if args.oldwithold else None
        update = ctx.get_root_ca_key_update(old)
        if update is None:
            print("no root CA certificate update available")
            return True
        print("rootCaKeyUpdate: new root %s" % update.new_with_new.subject)
        for option, cert in (("newwithnew", update.new_with_new),
                             ("newwithold", update.new_with_old),
                             ("oldwithnew", update.old_with_new)):
            path = getattr(args, option)
            if path:
                write_certs(path, [cert] if cert is not None else [], "--" + option, form)
        return True
    if infotype == "crlStatusList":
        cert = load_cert(args.crlcert, "--crlcert")[0] if args.crlcert else None
        old_crl = load_crl(args.oldcrl, "--oldcrl") if args.oldcrl else None
        crl = ctx.get_crl_update(cert, old_crl)
        if crl is None:
            print("no CRL update available")
            return True
        print("crls: CRL of %s, number %s" % (crl.issuer, crl.number))
        write_bytes(args.crlout, crl.to_der() if form == "DER" else crl.to_pem(), "--crlout")
        return True
    if infotype == "certReqTemplate":
        template = ctx.get_cert_req_template()
        if template is None:
            print("no certificate request template available")
            return True
        template_der, key_spec_der = itavs.template_der(template)
        write_bytes(args.template, template_der, "--template")
        if args.keyspec and key_spec_der is not None:
            write_bytes(args.keyspec, key_spec_der, "--keyspec")
        print("certReqTemplate: written to %s" % args.template)
        return True
    return False


def _genm(ctx: Context, args: argparse.Namespace) -> None:
    infotype = args.infotype or "signKeyPairTypes"
    if _support_operation(ctx, args, infotype):
        return
    oid = INFO_TYPES.get(infotype, infotype)
    ctx.push_genm_itav(ITAV(oid))
    for itav in ctx.exec_genm():
        print("%s: %d bytes" % (itav.name, len(itav.value_der or b"")))


def run(args: argparse.Namespace) -> int:
    """Run one client subcommand; returns the exit status."""
    _check_supported(args)
    command: str = args.command
    config: Config | None = getattr(args, "loaded_config", None)
    offline = any((args.reqout, args.rspout, args.reqin, args.rspin, args.reqout_only))
    mock = None
    if not args.server and not args.rspin and not args.reqout_only:
        mock = _embedded(args)
    for _ in range(args.repeat):
        with Context() as ctx:
            configure(ctx, args, config)
            old: tuple[Certificate, PrivateKey] | None = None
            if mock is not None:
                if args.trusted is None and args.srvcert is None:
                    ctx.trusted = [mock.ca_cert]
                if command in ("kur", "rr") and not (args.oldcert or args.cert or
                                                     args.serial):
                    old = _enroll_first(mock, command)
                    ctx.old_cert = old[0]
                    ctx.cert, ctx.pkey = old  # the CA wants these signed by their owner
                elif args.secret is None and args.cert is None:
                    # the embedded CA's own MAC credentials: a first run needs no setup
                    ctx.reference_value = args.ref or "openssl-cmp"
                    ctx.secret_value = mock.secret
                if command == "p10cr" and args.csr is None:
                    csr_key = PrivateKey.generate("EC", curve="P-256")
                    ctx.p10_csr = CSR.build(args.subject or "/CN=openssl-cmp p10cr example",
                                            csr_key)
                    note("no --csr given: made one for %s" % (args.subject or
                                                              "/CN=openssl-cmp p10cr example"))
                if command in ("ir", "cr") and not (args.subject or args.csr or args.cert):
                    ctx.subject_name = "/CN=openssl-cmp %s example" % command
            if mock is None and not args.server and not args.rspin and not args.reqout_only:
                raise UsageError("no --server given")
            transfer: Offline | None = None
            if offline:
                forward = None
                if mock is not None:
                    forward = mock.process
                elif args.server:
                    if args.tls_used or args.proxy:
                        raise UsageError("--reqout/--rspout/--reqin/--rspin with a server "
                                         "work over plain HTTP without --proxy only")
                    forward = http_forward(ctx.server or "", ctx.server_port or 80,
                                           ctx.server_path or "/",
                                           float(args.msg_timeout) if args.msg_timeout
                                           else 120.0)
                transfer = Offline(forward, args.reqout, args.rspout, args.reqin, args.rspin,
                                   args.reqout_only)
                ctx.transfer_callback = transfer
            elif mock is not None:
                mock.attach(ctx)
            key = _new_key(args)
            generated = None
            if command in ("ir", "cr", "kur") and key is None and not args.centralkeygen:
                if args.csr is None and (command != "kur" or old is None) and \
                        (command == "kur" or args.cert is None):
                    generated = PrivateKey.generate("EC", curve="P-256")
                    key = generated
                    note("no --newkey given: generated an EC P-256 key%s"
                         % (" (saved to %s)" % args.newkeyout if args.newkeyout
                            else " (use --newkeyout to keep it)"))
                elif command == "kur" and old is not None:
                    generated = key = PrivateKey.generate("EC", curve="P-256")
            if key is not None:
                ctx.set_new_pkey(key)
            try:
                if command == "rr":
                    ctx.exec_rr()
                    print("revocation accepted")
                    cert = None
                elif command == "genm":
                    _genm(ctx, args)
                    cert = None
                else:
                    cert = ctx.exec_certreq(_REQ_TYPES[command])
                    print("enrolled %s (serial %#x, issuer %s)"
                          % (cert.subject, cert.serial_number, cert.issuer))
            except StopAfterRequest:
                note("request written to %s; stopped (--reqout-only)" % args.reqout_only)
                return 0
            except Exception:
                if transfer is not None and transfer.stopped:
                    note("request written to %s; stopped (--reqout-only)" % args.reqout_only)
                    return 0
                raise
            _write_outputs(ctx, args, cert)
            if args.newkeyout:
                new_private = ctx.get_new_pkey(private=True) if args.centralkeygen \
                    else generated
                if isinstance(new_private, PrivateKey):
                    write_key(args.newkeyout, new_private, "--newkeyout")
    return 0

