"""The command-line parser: subcommands and the long options named after ``openssl cmp``'s
(``-implicit_confirm`` is ``--implicit-confirm``).

Each option of a client subcommand is described once in :data:`CLIENT_OPTIONS`; the same
table maps config-file names (``implicit_confirm = 1`` in ``[cmp]``) onto the options.
"""

from __future__ import annotations

import argparse
from typing import Callable, NamedTuple, Sequence

__all__ = ["Opt", "CLIENT_OPTIONS", "SERVE_OPTIONS", "CLIENT_COMMANDS", "build_parser",
           "config_name"]

CLIENT_COMMANDS = ("ir", "cr", "p10cr", "kur", "rr", "genm")


class Opt(NamedTuple):
    """One long option: its name without dashes, kind (``str``, ``int``, ``flag``,
    ``pass`` for a password source) and help text."""

    name: str
    kind: str
    help: str
    default: object = None


_O = Opt
CLIENT_OPTIONS: dict[str, list[Opt]] = {
    "message transfer": [
        _O("server", "str", "[http[s]://]host[:port][/path] of the CMP server; without it "
           "an embedded MockCA answers in-process"),
        _O("path", "str", "HTTP path (CMP alias) at the server; default from --server, else /"),
        _O("proxy", "str", "[http[s]://]host[:port] of the HTTP(S) proxy"),
        _O("no-proxy", "str", "servers not to use the proxy for (comma-separated)"),
        _O("recipient", "str", "DN of the CA (/CN=…)"),
        _O("keep-alive", "int", "persistent HTTP connections: 0 no, 1 request, 2 require"),
        _O("msg-timeout", "int", "seconds per message round trip (0: infinite)"),
        _O("total-timeout", "int", "seconds for the whole transaction (0: infinite)"),
    ],
    "server authentication": [
        _O("trusted", "str", "trust anchors for the server's protection (files, "
           "comma-separated)"),
        _O("untrusted", "str", "intermediate certificates (files, comma-separated)"),
        _O("srvcert", "str", "the server's certificate, trusted directly"),
        _O("expect-sender", "str", "DN the server's responses must come from"),
        _O("ignore-keyusage", "flag", "ignore the server certificate's key usage"),
        _O("unprotected-errors", "flag", "accept unprotected error responses"),
        _O("ta-in-ip-extracerts", "flag", "trust anchors in the IP's extraCerts are fine"),
        _O("no-cache-extracerts", "flag", "do not cache extraCerts (OpenSSL 3.3+)"),
        _O("srvcertout", "str", "write the validated server certificate (PEM) here"),
        _O("extracertsout", "str", "write the response's extraCerts (PEM) here"),
        _O("cacertsout", "str", "write the caPubs of an IP, or the caCerts of a GENP, here"),
        _O("oldwithold", "str", "genm rootCaCert: the old root (OpenSSL 3.2+)"),
        _O("newwithnew", "str", "genm rootCaCert: write the new root here (OpenSSL 3.2+)"),
        _O("newwithold", "str", "genm rootCaCert: write newWithOld here (OpenSSL 3.2+)"),
        _O("oldwithnew", "str", "genm rootCaCert: write oldWithNew here (OpenSSL 3.2+)"),
        _O("crlcert", "str", "genm crlStatusList: certificate whose CRL to get (OpenSSL 3.4+)"),
        _O("oldcrl", "str", "genm crlStatusList: the CRL held so far (OpenSSL 3.4+)"),
        _O("crlout", "str", "genm crlStatusList: write the CRL here (OpenSSL 3.4+)"),
    ],
    "client authentication": [
        _O("ref", "str", "reference value (senderKID) for MAC protection"),
        _O("secret", "pass", "password source of the MAC secret (pass:, env:, file:, fd:, "
           "stdin)"),
        _O("cert", "str", "the client's certificate (chain), for signature protection"),
        _O("own-trusted", "str", "trust anchors to build the --cert chain with"),
        _O("key", "str", "the client's private key (file or URI)"),
        _O("keypass", "pass", "password source of --key and --cert"),
        _O("digest", "str", "digest for signatures and PBM (default sha256)"),
        _O("mac", "str", "MAC algorithm for PBM (default hmac-sha1)"),
        _O("extracerts", "str", "certificates to send in extraCerts"),
        _O("unprotected-requests", "flag", "send requests without protection"),
    ],
    "generic message": [
        _O("infotype", "str", "genm: the InfoType to ask for (caCerts, signKeyPairTypes, …)"),
        _O("profile", "str", "certificate profile name for the generalInfo header"),
        _O("geninfo", "str", "generalInfo entries OID:int:N or OID:str:TEXT "
           "(comma-separated)"),
        _O("template", "str", "genm certReqTemplate: write the template here (OpenSSL 3.4+)"),
        _O("keyspec", "str", "genm certReqTemplate: write the key spec here (OpenSSL 3.4+)"),
    ],
    "certificate enrollment": [
        _O("newkey", "str", "the key to certify (file or URI); generated (EC P-256) if "
           "absent"),
        _O("newkeypass", "pass", "password source of --newkey"),
        _O("centralkeygen", "flag", "ask the CA to generate the key (OpenSSL 3.5+)"),
        _O("newkeyout", "str", "write the new private key (PEM) here: a generated one, or "
           "the CA's with --centralkeygen"),
        _O("subject", "str", "subject DN of the requested certificate (/CN=…)"),
        _O("days", "int", "requested validity in days"),
        _O("reqexts", "str", "config section with the request extensions"),
        _O("sans", "str", "subject alternative names (DNS, IP, URI, email; comma-separated; "
           "'critical' marks them critical)"),
        _O("san-nodefault", "flag", "take no SANs from the reference certificate"),
        _O("policies", "str", "config section with the certificate policies"),
        _O("policy-oids", "str", "policy OIDs (comma-separated)"),
        _O("policy-oids-critical", "flag", "mark the policies extension critical"),
        _O("popo", "int", "proof of possession: -1 none, 0 raVerified, 1 signature, 2 keyEnc"),
        _O("csr", "str", "PKCS#10 CSR (PEM or DER) for p10cr, or as template"),
        _O("out-trusted", "str", "trust anchors to verify the new certificate with"),
        _O("implicit-confirm", "flag", "ask for implicit confirmation"),
        _O("disable-confirm", "flag", "do not confirm the new certificate (violates RFC 9810)"),
        _O("certout", "str", "write the new certificate (PEM) here"),
        _O("chainout", "str", "write the new certificate's chain (PEM) here"),
    ],
    "enrollment and revocation": [
        _O("oldcert", "str", "certificate to update (kur) or revoke (rr); default --cert"),
        _O("issuer", "str", "issuer DN for the template"),
        _O("serial", "str", "serial number to revoke (rr; decimal or 0x…)"),
        _O("revreason", "int", "rr reason code: 0..6, 8..10, -1 none", -1),
    ],
    "TLS": [
        _O("tls-used", "flag", "use HTTPS"),
        _O("tls-cert", "str", "client certificate (chain) for TLS"),
        _O("tls-key", "str", "client key for TLS"),
        _O("tls-keypass", "pass", "password source of --tls-key"),
        _O("tls-extra", "str", "extra certificates for the TLS client chain"),
        _O("tls-trusted", "str", "trust anchors for the TLS server"),
        _O("tls-host", "str", "host name the TLS server certificate must carry"),
    ],
    "offline and debugging": [
        _O("reqin", "str", "send the requests from these DER files (comma-separated)"),
        _O("reqin-new-tid", "flag", "accepted for compatibility (needs re-protection)"),
        _O("reqout", "str", "write the requests (DER) to these files"),
        _O("reqout-only", "str", "write the first request (DER) here and stop"),
        _O("rspin", "str", "take the responses from these DER files"),
        _O("rspout", "str", "write the responses (DER) to these files"),
        _O("certform", "str", "format of --certout and friends: PEM (default) or DER"),
        _O("keyform", "str", "accepted for compatibility (keys are recognized)"),
        _O("otherpass", "pass", "password source of certificate files"),
        _O("repeat", "int", "run the transaction this many times", 1),
    ],
}

SERVE_OPTIONS: list[Opt] = [
    _O("host", "str", "address to listen on", "127.0.0.1"),
    _O("port", "int", "port to listen on (0 picks a free one)", 0),
    _O("max-msgs", "int", "stop after this many messages (0: never)", 0),
    _O("seconds", "float", "stop after this long (0: never)", 0.0),
    _O("workers", "int", "serve with N uvicorn worker processes (needs the [server] extra)"),
    _O("store", "str", "keep MockCA's records (issued, revoked, CRL) in this SQLite file, "
       "shared by --workers processes (default: in memory, per process)"),
    _O("srv-ref", "str", "the server's reference value (senderKID)"),
    _O("srv-secret", "pass", "password source of the server's MAC secret (pass:…)"),
    _O("srv-cert", "str", "the server's signing certificate"),
    _O("srv-key", "str", "the server's signing key"),
    _O("srv-keypass", "pass", "password source of --srv-key"),
    _O("srv-trusted", "str", "trust anchors for client signatures"),
    _O("srv-untrusted", "str", "intermediate certificates for client signatures"),
    _O("ca-cert", "str", "the issuing CA certificate (default: a fresh one)"),
    _O("ca-key", "str", "the issuing CA key"),
    _O("ca-keypass", "pass", "password source of --ca-key"),
    _O("cacertout", "str", "write the CA certificate (PEM) here"),
    _O("ref-cert", "str", "reference certificate for RR/KUR (OpenSSL 3.2+)"),
    _O("rsp-cert", "str", "return this fixed certificate for every enrollment"),
    _O("rsp-key", "str", "key of --rsp-cert for central key generation (OpenSSL 3.5)"),
    _O("rsp-keypass", "pass", "password source of --rsp-key"),
    _O("rsp-crl", "str", "CRL to return in a crls GENP (OpenSSL 3.4+)"),
    _O("rsp-extracerts", "str", "extra certificates to send in responses"),
    _O("rsp-capubs", "str", "CA certificates to send as caPubs"),
    _O("rsp-newwithnew", "str", "rootCaKeyUpdate: newWithNew"),
    _O("rsp-newwithold", "str", "rootCaKeyUpdate: newWithOld"),
    _O("rsp-oldwithnew", "str", "rootCaKeyUpdate: oldWithNew"),
    _O("poll-count", "int", "answer 'waiting' this many times first", 0),
    _O("check-after", "int", "checkAfter seconds of 'waiting' answers", 1),
    _O("grant-implicitconf", "flag", "grant implicit confirmation"),
    _O("pkistatus", "int", "PKIStatus of every response (0..6)"),
    _O("failure", "int", "failInfo bit number (0..26) of every response"),
    _O("failurebits", "int", "failInfo bits of every response", 0),
    _O("statusstring", "str", "status text of every response"),
    _O("send-error", "flag", "answer every request with an error message"),
    _O("send-unprotected", "flag", "send responses without protection"),
    _O("send-unprot-err", "flag", "send error responses without protection"),
    _O("accept-unprotected", "flag", "accept unprotected requests"),
    _O("accept-unprot-err", "flag", "accept unprotected error messages"),
    _O("accept-raverified", "flag", "accept raVerified proof of possession"),
    _O("allow-key-reuse", "flag", "allow a KUR to keep the old key"),
    _O("ra-certs", "str", "certificates of RAs whose signed requests (raVerified, "
       "nested) are trusted"),
    _O("days", "int", "validity of issued certificates", 365),
    _O("tls-cert", "str", "serve HTTPS with this certificate (chain)"),
    _O("tls-key", "str", "key of --tls-cert"),
    _O("tls-keypass", "pass", "password source of --tls-key"),
    # spellings of this project before the OpenSSL names were adopted
    _O("ref", "str", argparse.SUPPRESS),
    _O("secret", "str", argparse.SUPPRESS),
    _O("sign", "flag", argparse.SUPPRESS),
]


def config_name(option: str) -> str:
    """The config-file (and ``openssl cmp``) name of a long option: ``no_proxy``."""
    return option.replace("-", "_")


class _HelpFormatter(argparse.HelpFormatter):
    """Plain text that shows a default where there is one."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and "%(default)" not in text:
            text += " (default: %(default)s)"
        return text


def _add(parser: argparse.ArgumentParser | argparse._ArgumentGroup, opt: Opt) -> None:
    flag = "--" + opt.name
    dest = opt.name.replace("-", "_")
    if opt.kind == "flag":
        parser.add_argument(flag, dest=dest, action="store_true", help=opt.help)
        return
    types: dict[str, Callable[[str], object]] = {"int": int, "float": float}
    metavar = {"int": "N", "float": "SECONDS", "pass": "SOURCE"}.get(opt.kind, "VALUE")
    parser.add_argument(flag, dest=dest, type=types.get(opt.kind, str), default=opt.default,
                        metavar=metavar, help=opt.help)


def _add_common(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("general")
    group.add_argument("--config", metavar="FILE", default=None,
                       help="config file (\"\": none; default $OPENSSL_CONF, else the "
                            "linked OpenSSL's openssl.cnf)")
    group.add_argument("--section", metavar="NAMES", default="cmp",
                       help="config section(s), separated by ',' or ':'; later ones win "
                            "(default: cmp)")
    group.add_argument("--verbosity", metavar="N", type=int, default=None,
                       help="log level: 3 ERR, 4 WARN, 6 INFO, 7 DEBUG, 8 TRACE "
                            "(8 also shows Python tracebacks)")
    group.add_argument("--debug", action="store_true",
                       help="show the Python traceback of a failure")


def build_parser() -> argparse.ArgumentParser:
    """The ``openssl-cmp`` command-line parser."""
    from openssl_cmp.cli import _batch, _client, _demo, _serve  # the commands' functions

    parser = argparse.ArgumentParser(
        prog="openssl-cmp", formatter_class=_HelpFormatter,
        description="CMP (RFC 9810/9483) client and test CA over OpenSSL's CMP API; "
                    "options are named after `openssl cmp`'s.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command, what in (("ir", "initialization request: enroll a new entity"),
                          ("cr", "certificate request: enroll with an existing certificate"),
                          ("p10cr", "enroll a PKCS#10 CSR (--csr)"),
                          ("kur", "key update: renew --oldcert with a new key"),
                          ("rr", "revoke --oldcert (or --issuer/--serial)"),
                          ("genm", "general message: ask the CA for --infotype")):
        p = sub.add_parser(command, help=what, description=what,
                           usage="openssl-cmp %s [options]" % command,
                           formatter_class=_HelpFormatter)
        _add_common(p)
        for title, options in CLIENT_OPTIONS.items():
            group = p.add_argument_group(title)
            for opt in options:
                _add(group, opt)
        p.set_defaults(func=_client.run)
    s = sub.add_parser("serve", help="run a MockCA over HTTP (OpenSSL's mock-server options)",
                       usage="openssl-cmp serve [options]", formatter_class=_HelpFormatter)
    _add_common(s)
    group = s.add_argument_group("mock server")
    for opt in SERVE_OPTIONS:
        _add(group, opt)
    s.set_defaults(func=_serve.run)
    _batch.add_parser(sub, _HelpFormatter, _add_common)
    d = sub.add_parser("demo", help="run IR, CR, KUR, GENM and RR against an embedded MockCA",
                       formatter_class=_HelpFormatter)
    d.add_argument("--subject", default="/CN=openssl-cmp demo")
    d.add_argument("--dns", default="demo.example")
    d.add_argument("--certout", help="write the renewed certificate (PEM) here")
    d.add_argument("-v", "--verbose", action="store_true", help="show OpenSSL's CMP log")
    d.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    d.set_defaults(func=_demo.run, section="cmp", config="")
    return parser


def options_of(parser: argparse.ArgumentParser, command: str) -> dict[str, argparse.Action]:
    """Config name -> action of the subcommand's long options."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            sub = action.choices.get(command)
            if sub is None:
                return {}
            found: dict[str, argparse.Action] = {}
            for a in sub._actions:
                for flag in a.option_strings:
                    if flag.startswith("--"):
                        found[config_name(flag[2:])] = a
            return found
    return {}


def tokens_from_config(actions: dict[str, argparse.Action],
                       lookup: Callable[[str], str | None]) -> list[str]:
    """Command-line tokens for the options the config file sets (``--days 30``, ``--tls-used``
    for a non-zero flag value).  They go before the user's own, which thus win."""
    tokens: list[str] = []
    for name, action in actions.items():
        if name in ("config", "section", "help"):
            continue
        value = lookup(name)
        if value is None:
            continue
        flag = action.option_strings[-1]
        if isinstance(action, argparse._StoreTrueAction):
            try:
                on = int(value, 0) != 0
            except ValueError:
                on = value.lower() in ("true", "yes", "on")
            if on:
                tokens.append(flag)
        else:
            tokens += [flag, value]
    return tokens


def command_of(argv: Sequence[str]) -> str | None:
    """The subcommand of ``argv`` (its first word), or None."""
    return argv[0] if argv and not argv[0].startswith("-") else None
