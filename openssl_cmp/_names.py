"""Parsing distinguished names in the two text forms users type.

* the ``openssl`` command-line form ``/CN=a/O=b+OU=c`` (``\\`` escapes ``/``, ``+``, ``=``);
* RFC 4514 ``CN=a,O=b`` (most significant RDN *last*; ``\\,`` and ``\\C3\\A9`` escapes,
  ``#``-prefixed DER values).

Both return ``[[(attr, value), ...], ...]``: RDNs in ASN.1 order (most significant first),
each a list of attribute/value pairs (more than one for a multi-valued RDN).  A value is a
``str``, or ``bytes`` for RFC 4514 ``#hex`` values (the DER contents of the string).
"""

from __future__ import annotations

import re
from typing import Union

from openssl_cmp import _der

# an attribute value: text, or the DER contents of an RFC 4514 ``#hex`` value
Value = Union[str, bytes]


def _split_unescaped(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    cur: list[str] = []
    i = 0
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


_ESCAPE = re.compile(r"\\([0-9A-Fa-f]{2}|.)", re.S)


def _unescape(value: str) -> str:
    """One pass: ``\\XX`` hex pairs are UTF-8 bytes (runs decode together), ``\\c`` is c."""
    out: list[str] = []
    pending = bytearray()
    pos = 0
    for m in _ESCAPE.finditer(value):
        if m.start() != pos:
            if pending:
                out.append(pending.decode("utf-8"))
                pending.clear()
            out.append(value[pos:m.start()])
        token = m.group(1)
        if len(token) == 2:
            pending.append(int(token, 16))
        else:
            if pending:
                out.append(pending.decode("utf-8"))
                pending.clear()
            out.append(token)
        pos = m.end()
    if pending:
        try:
            out.append(pending.decode("utf-8"))
        except UnicodeDecodeError:
            raise ValueError("escaped bytes in %r are not UTF-8" % value) from None
    out.append(value[pos:])
    return "".join(out)


def _strip_unescaped(text: str) -> str:
    """Strip whitespace that is not escaped (``CN=a\\ `` keeps its trailing space)."""
    text = text.lstrip()
    end = len(text)
    while end > 0 and text[end - 1] == " ":
        backslashes = len(text[:end - 1]) - len(text[:end - 1].rstrip("\\"))
        if backslashes % 2:
            break
        end -= 1
    return text[:end]


def _pair(text: str, form: str) -> tuple[str, Value]:
    parts = _split_unescaped(text, "=")
    if len(parts) < 2 or not parts[0].strip():
        raise ValueError("invalid %s name component %r (expected TYPE=value)" % (form, text))
    attr = parts[0].strip()
    value = "=".join(parts[1:])
    if form == "RFC 4514" and value.startswith("#"):
        try:
            tlv = _der.single(bytes.fromhex(value[1:]))
        except ValueError:
            raise ValueError("invalid #hex value in %r" % text) from None
        return attr, tlv.value
    try:
        return attr, _unescape(value)
    except UnicodeDecodeError:
        raise ValueError("escaped bytes in %r are not UTF-8" % text) from None


def parse_openssl(text: str) -> list[list[tuple[str, Value]]]:
    """The RDNs of an openssl-form name (``/CN=a/O=b``)."""
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


def parse_rfc4514(text: str) -> list[list[tuple[str, Value]]]:
    """The RDNs of an RFC 4514 name (``CN=a,O=b``), most significant first."""
    if not text.strip():
        return []
    rdns = []
    for rdn in _split_unescaped(text, ","):
        if not rdn.strip():
            raise ValueError("empty RDN in name %r" % text)
        rdns.append([_pair(_strip_unescaped(av), "RFC 4514")
                     for av in _split_unescaped(rdn, "+")])
    rdns.reverse()  # RFC 4514 writes the most significant RDN last
    return rdns
