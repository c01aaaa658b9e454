"""GeneralName: the constructors (DNS, IP, email, URI, directory, RID), ``parse``, DER,
equality and lifetime."""

from __future__ import annotations

import gc

import pytest

from openssl_cmp import GeneralName, Name, OpenSSLError


def test_general_name_constructors_der_and_str():
    cases = [
        (GeneralName.dns("a"), "820161", "DNS:a"),
        (GeneralName.ip("192.0.2.1"), "8704c0000201", "IP Address:192.0.2.1"),
        (GeneralName.email("a@b"), "8103614062", "email:a@b"),
        (GeneralName.uri("http://x"), "8608687474703a2f2f78", "URI:http://x"),
        (GeneralName.directory("/CN=x"), "a40e300c310a300806035504030c0178",
         "DirName:CN = x"),
    ]
    for gen, der_hex, text in cases:
        assert gen.to_der().hex() == der_hex
        assert str(gen) == text


def test_general_name_ipv6():
    gen = GeneralName.ip("2001:db8::1")
    assert gen.to_der() == b"\x87\x10" + bytes.fromhex("20010db8000000000000000000000001")
    assert str(gen) == "IP Address:2001:DB8:0:0:0:0:0:1"


def test_general_name_parse():
    assert GeneralName.parse("DNS:a.example") == GeneralName.dns("a.example")
    assert GeneralName.parse("dns:a.example") == GeneralName.dns("a.example")
    assert GeneralName.parse("IP:192.0.2.1") == GeneralName.ip("192.0.2.1")
    assert GeneralName.parse("URI:http://x/") == GeneralName.uri("http://x/")
    assert GeneralName.parse("email:a@b") == GeneralName.email("a@b")
    assert GeneralName.parse("dirName:/CN=x/O=y") == GeneralName.directory(Name.parse("/CN=x/O=y"))
    assert GeneralName.parse("dirName:O=y,CN=x") == GeneralName.directory("/CN=x/O=y")
    rid = GeneralName.parse("RID:1.2.3")
    assert rid.to_der().hex() == "88022a03"
    assert str(rid) == "Registered ID:1.2.3"


def test_general_name_directory_copies_name():
    name = Name.parse("/CN=x")
    gen = GeneralName.directory(name)
    name.close()
    gc.collect()
    assert str(gen) == "DirName:CN = x"


def test_general_name_invalid():
    for bad in ("nocolon", "foo:bar", "otherName:1.2.3;UTF8:x"):
        with pytest.raises(ValueError):
            GeneralName.parse(bad)
    for bad in ("DNS:", "email:"):
        with pytest.raises(ValueError):
            GeneralName.parse(bad)
    for bad in ("IP:999.1.1.1", "IP:abc", "RID:notanoid"):
        with pytest.raises(OpenSSLError):
            GeneralName.parse(bad)
    with pytest.raises(ValueError):
        GeneralName.dns("a\0b")
    with pytest.raises(ValueError):
        GeneralName.parse("dirName:CN")


def test_general_name_wrong_types():
    with pytest.raises(TypeError):
        GeneralName.parse(b"DNS:a")
    with pytest.raises(TypeError):
        GeneralName.dns(1)
    with pytest.raises(TypeError):
        GeneralName.ip(None)
    with pytest.raises(TypeError):
        GeneralName.directory(1)
    with pytest.raises(TypeError):
        GeneralName.from_der("x")


def test_general_name_der_round_trip():
    gen = GeneralName.dns("a.example")
    assert GeneralName.from_der(gen.to_der()) == gen
    with pytest.raises(ValueError, match="trailing"):
        GeneralName.from_der(gen.to_der() + b"\x00")
    with pytest.raises(OpenSSLError):
        GeneralName.from_der(b"\x30\x00")  # not a GeneralName CHOICE
    with pytest.raises(OpenSSLError):
        GeneralName.from_der(b"\x82\x05ab")  # truncated


def test_general_name_equality_and_hash():
    a, b = GeneralName.dns("a"), GeneralName.parse("DNS:a")
    assert a == b and hash(a) == hash(b)
    assert a != GeneralName.dns("b")
    assert a != GeneralName.uri("a")
    assert a != "DNS:a"
    assert len({a, b, GeneralName.dns("b")}) == 2


def test_general_name_repr_and_close():
    gen = GeneralName.dns("a")
    assert repr(gen) == "<GeneralName DNS:a>"
    with gen:
        pass
    assert gen.closed
    assert repr(gen) == "<GeneralName closed>"
    with pytest.raises(ValueError):
        gen.to_der()
