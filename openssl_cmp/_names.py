"""Parsing distinguished names in the two text forms users type.

* the ``openssl`` command-line form ``/CN=a/O=b+OU=c`` (``\\`` escapes ``/``, ``+``, ``=``);
* RFC 4514 ``CN=a,O=b`` (most significant RDN *last*; ``\\,`` and ``\\2C`` escapes).

Both return ``[[(attr, value), ...], ...]``: RDNs in ASN.1 order (most significant first),
each a list of attribute/value pairs (more than one for a multi-valued RDN).
"""

from __future__ import annotations

import re


def _split_unescaped(text: str, sep: str) -> list[str]:
    parts, cur, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            cur.append(text[i:i + 2])
            i += 2
            continue
        if ch == sep:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return parts


_HEXPAIR = re.compile(r"\\([0-9A-Fa-f]{2})+")


def _unescape(value: str) -> str:
    # RFC 4514 hex pairs encode UTF-8 bytes; other backslashes escape one character.
    def hexrun(m):
        raw = bytes.fromhex(m.group(0).replace("\\", ""))
        return raw.decode("utf-8")

    value = _HEXPAIR.sub(hexrun, value)
    return re.sub(r"\\(.)", r"\1", value)


def _pair(text: str, form: str) -> tuple[str, str]:
    parts = _split_unescaped(text, "=")
    if len(parts) < 2 or not parts[0].strip():
        raise ValueError("invalid %s name component %r (expected TYPE=value)" % (form, text))
    attr = parts[0].strip()
    value = "=".join(parts[1:])
    return attr, _unescape(value)


def parse_openssl(text: str) -> list[list[tuple[str, str]]]:
    if not text.startswith("/"):
        raise ValueError("name %r must start with '/' (like /CN=a/O=b)" % text)
    if text == "/":
        return []
    rdns = []
    for rdn in _split_unescaped(text[1:], "/"):
        if not rdn:
            raise ValueError("empty RDN in name %r" % text)
        rdns.append([_pair(av, "openssl-form") for av in _split_unescaped(rdn, "+")])
    return rdns


def parse_rfc4514(text: str) -> list[list[tuple[str, str]]]:
    if not text.strip():
        return []
    rdns = []
    for rdn in _split_unescaped(text, ","):
        if not rdn.strip():
            raise ValueError("empty RDN in name %r" % text)
        rdns.append([_pair(av.strip(), "RFC 4514") for av in _split_unescaped(rdn, "+")])
    rdns.reverse()  # RFC 4514 writes the most significant RDN last
    return rdns
