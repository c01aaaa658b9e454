"""A small DER reader for the CMP fields OpenSSL exposes no getter for (PKIStatusInfo
fields, header sender/recipient/nonces, the requested public key on OpenSSL 3.0, and the
message body parts that ``_msg_fields`` reads).

It only splits TLVs; it never builds structures, and rejects indefinite or truncated
lengths with ValueError.
"""

from __future__ import annotations

import datetime
from typing import Any, NamedTuple, Sequence


class TLV(NamedTuple):
    """One DER TLV (tag, length, value)."""

    tag: int  # the identifier octet (class, constructed bit and number < 31)
    value: bytes  # the contents octets
    raw: bytes  # the whole encoding, tag and length included

    @property
    def context_number(self) -> int | None:
        """n for a context-specific tag [n], else None."""
        return self.tag & 0x1F if self.tag & 0xC0 == 0x80 else None


def read_tlv(data: bytes, pos: int = 0) -> tuple[TLV, int]:
    """The TLV at ``pos`` and the offset after it."""
    if pos + 2 > len(data):
        raise ValueError("truncated DER")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise ValueError("high tag numbers are not used in CMP")
    length = data[pos + 1]
    head = 2
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 4:
            raise ValueError("unsupported DER length encoding")
        if pos + 2 + n > len(data):
            raise ValueError("truncated DER length")
        length = int.from_bytes(data[pos + 2:pos + 2 + n], "big")
        head += n
    end = pos + head + length
    if end > len(data):
        raise ValueError("truncated DER value")
    return TLV(tag, data[pos + head:end], data[pos:end]), end


def children(value: bytes) -> list[TLV]:
    """The TLVs inside a constructed value (SEQUENCE, SET, explicit tag)."""
    out: list[TLV] = []
    pos = 0
    while pos < len(value):
        tlv, pos = read_tlv(value, pos)
        out.append(tlv)
    return out


def single(data: bytes) -> TLV:
    """The one TLV that ``data`` holds (trailing bytes are a ValueError)."""
    tlv, end = read_tlv(data)
    if end != len(data):
        raise ValueError("trailing bytes after DER value")
    return tlv


def integer(tlv: TLV) -> int:
    """The value of an INTEGER."""
    if tlv.tag != 0x02:
        raise ValueError("expected INTEGER")
    return int.from_bytes(tlv.value, "big", signed=True)


def bit_string_flags(tlv: TLV) -> int:
    """A named BIT STRING as an int whose bit n is the BIT STRING's bit n (0 = first)."""
    if tlv.tag != 0x03 or not tlv.value:
        raise ValueError("expected BIT STRING")
    bits = tlv.value[1:]
    mask = 0
    for i, byte in enumerate(bits):
        for j in range(8):
            if byte & (0x80 >> j):
                mask |= 1 << (i * 8 + j)
    return mask


def utf8_strings(tlv: TLV) -> list[str]:
    """PKIFreeText: SEQUENCE OF UTF8String."""
    if tlv.tag != 0x30:
        raise ValueError("expected SEQUENCE OF UTF8String")
    return [c.value.decode("utf-8", "replace") for c in children(tlv.value)]


def pkistatusinfo(der: bytes) -> tuple[int, int, list[str]]:
    """(status, fail_info bit mask, status strings) of a DER PKIStatusInfo."""
    seq = single(der)
    if seq.tag != 0x30:
        raise ValueError("expected PKIStatusInfo SEQUENCE")
    parts = children(seq.value)
    if not parts:
        raise ValueError("empty PKIStatusInfo")
    status = integer(parts[0])
    texts: list[str] = []
    fail_info = 0
    for part in parts[1:]:
        if part.tag == 0x30:
            texts = utf8_strings(part)
        elif part.tag == 0x03:
            fail_info = bit_string_flags(part)
    return status, fail_info, texts


def expect(tlv: TLV, tag: int, what: str) -> TLV:
    """``tlv`` itself, after checking that its tag is ``tag`` (ValueError naming ``what``)."""
    if tlv.tag != tag:
        raise ValueError("%s: expected tag 0x%02x, found 0x%02x" % (what, tag, tlv.tag))
    return tlv


def enumerated(tlv: TLV) -> int:
    """The value of an ENUMERATED."""
    if tlv.tag != 0x0A or not tlv.value:
        raise ValueError("expected ENUMERATED")
    return int.from_bytes(tlv.value, "big", signed=True)


def octet_string(tlv: TLV) -> bytes:
    """The contents of an OCTET STRING."""
    if tlv.tag != 0x04:
        raise ValueError("expected OCTET STRING")
    return tlv.value


def oid(tlv: TLV) -> str:
    """The dotted text of an OBJECT IDENTIFIER (X.690 8.19; minimal base-128 arcs)."""
    if tlv.tag != 0x06 or not tlv.value:
        raise ValueError("expected OBJECT IDENTIFIER")
    arcs: list[int] = []
    arc = 0
    start = True
    for byte in tlv.value:
        if start and byte == 0x80:
            raise ValueError("OBJECT IDENTIFIER arc with a leading 0x80 octet")
        arc = arc << 7 | byte & 0x7F
        start = not byte & 0x80
        if start:
            arcs.append(arc)
            arc = 0
    if not start:
        raise ValueError("truncated OBJECT IDENTIFIER")
    first = min(arcs[0] // 40, 2)  # the first octets join arcs 1 and 2: 40 * a1 + a2
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first, *arcs[1:]])


def generalized_time(tlv: TLV) -> datetime.datetime:
    """A DER GeneralizedTime (``YYYYMMDDHHMMSS[.f…]Z``, X.690 11.7) as an aware UTC
    datetime; fractions beyond microseconds are cut."""
    if tlv.tag != 0x18:
        raise ValueError("expected GeneralizedTime")
    try:
        text = tlv.value.decode("ascii")
    except UnicodeDecodeError:
        raise ValueError("GeneralizedTime is not ASCII") from None
    if len(text) < 15 or not text.endswith("Z") or not text[:14].isdigit():
        raise ValueError("GeneralizedTime %r is not YYYYMMDDHHMMSS[.f]Z" % text)
    micro = 0
    frac = text[14:-1]
    if frac:
        digits = frac[1:]
        if frac[0] != "." or not digits.isdigit() or digits.endswith("0"):
            raise ValueError("GeneralizedTime %r has an invalid fraction" % text)
        micro = int((digits + "00000")[:6])
    try:  # the fields by position (strptime costs ~20 µs per call; this runs per request)
        return datetime.datetime(int(text[0:4]), int(text[4:6]), int(text[6:8]),
                                 int(text[8:10]), int(text[10:12]), int(text[12:14]),
                                 micro, tzinfo=datetime.timezone.utc)
    except ValueError:
        raise ValueError("GeneralizedTime %r is not a valid time" % text) from None


# PKIHeader field numbers (RFC 4210, explicit tags)
HEADER_FIELDS = {0: "message_time", 1: "protection_alg", 2: "sender_kid", 3: "recip_kid",
                 4: "transaction_id", 5: "sender_nonce", 6: "recip_nonce", 7: "free_text",
                 8: "general_info"}


def pkiheader(der: bytes) -> dict[str, Any]:
    """The fields of a DER PKIHeader: pvno, sender, recipient (GeneralName DER) and the
    optional [n] fields (OCTET STRING contents for kids/ids/nonces; DER otherwise), plus
    ``protection_oid``, the DER OID of protectionAlg when it has one."""
    seq = single(der)
    parts = children(seq.value)
    if len(parts) < 3:
        raise ValueError("PKIHeader too short")
    out: dict[str, Any] = {"pvno": integer(parts[0]), "sender": parts[1].raw,
                           "recipient": parts[2].raw}
    for part in parts[3:]:
        n = part.context_number
        if n is None or n not in HEADER_FIELDS:
            continue
        inner = single(part.value)
        if n in (2, 3, 4, 5, 6):
            out[HEADER_FIELDS[n]] = inner.value  # OCTET STRING contents
        else:
            out[HEADER_FIELDS[n]] = inner.raw
            if n == 1:  # read here once: every protection decision of a request needs it
                oid = algorithm_oid(inner)
                if oid is not None:
                    out["protection_oid"] = oid
    return out


def algorithm_oid(alg: TLV) -> bytes | None:
    """The DER OID an AlgorithmIdentifier (SEQUENCE { algorithm OID, parameters }) starts
    with, or None when its contents hold no readable OID first."""
    try:
        parts = children(alg.value)
    except ValueError:  # (e.g. the header of an undecodable body): no OID to act on
        return None
    return parts[0].raw if parts and parts[0].tag == 0x06 else None


# --- encoding (the few structures openssl_cmp builds itself) ---------------------------

def encode(tag: int, value: bytes) -> bytes:
    """A TLV with definite length."""
    n = len(value)
    if n < 0x80:
        return bytes((tag, n)) + value
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(raw))) + raw + value


def sequence(*parts: bytes) -> bytes:
    """A SEQUENCE of encoded ``parts``."""
    return encode(0x30, b"".join(parts))


def encode_integer(value: int) -> bytes:
    """An INTEGER."""
    length = max(1, (value.bit_length() + 8) // 8)
    return encode(0x02, value.to_bytes(length, "big", signed=True))


def encode_bit_string_flags(mask: int) -> bytes:
    """A named BIT STRING (DER: trailing zero bits removed) from bit n = flag n."""
    if mask == 0:
        return encode(0x03, b"\x00")
    nbits = mask.bit_length()
    nbytes = (nbits + 7) // 8
    out = bytearray(nbytes)
    for i in range(nbits):
        if mask >> i & 1:
            out[i // 8] |= 0x80 >> (i % 8)
    unused = nbytes * 8 - nbits
    return encode(0x03, bytes((unused,)) + bytes(out))


def encode_utf8(text: str) -> bytes:
    """A UTF8String."""
    return encode(0x0C, text.encode("utf-8"))


def encode_pkistatusinfo(status: int, fail_info: int, texts: Sequence[str]) -> bytes:
    """A PKIStatusInfo (status, optional statusString, optional failInfo)."""
    parts = [encode_integer(status)]
    if texts:
        parts.append(sequence(*(encode_utf8(t) for t in texts)))
    if fail_info:
        parts.append(encode_bit_string_flags(fail_info))
    return sequence(*parts)


def encode_oid(dotted: str) -> bytes:
    """An OBJECT IDENTIFIER from its dotted form."""
    arcs = [int(a) for a in dotted.split(".")]
    if len(arcs) < 2:
        raise ValueError("OID needs at least two arcs")
    body = bytearray((40 * arcs[0] + arcs[1],))
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return encode(0x06, bytes(body))
