"""Name: the OpenSSL (``/CN=a/O=b``) and RFC 4514 forms, escapes, DER, equality as
``X509_NAME_cmp`` defines it, lifetime, the ``cryptography`` bridge, and the pure-Python
parser behind ``Name.parse`` (``_names``)."""

from __future__ import annotations

import copy

import pytest

from openssl_cmp import CSR, Name, OpenSSLError, _names

from helpers import run_openssl


def test_name_parse_openssl_form():
    name = Name.parse("/CN=a/O=b")
    assert str(name) == "O=b,CN=a"
    assert len(name) == 2
    # DER: RDNs in the order written, most significant first
    assert name.to_der() == bytes.fromhex("3018310a300806035504030c0161310a3008060355040a"
                                          "0c0162")


def test_name_parse_matches_cli(tmp_path):
    # the CLI's own -subj parsing gives the same DER
    run_openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", "k.pem", "-subj", "/C=DE/O=Org\\/Unit/CN=x+UID=y",
                "-out", "r.csr", cwd=str(tmp_path))
    csr = CSR.from_file(tmp_path / "r.csr")
    assert csr.subject.to_der() == Name.parse("/C=DE/O=Org\\/Unit/CN=x+UID=y").to_der()


def test_name_multi_valued_rdn():
    name = Name.parse("/CN=a+O=b/OU=c")
    assert len(name) == 3
    assert str(name) == "OU=c,O=b+CN=a"
    assert name == Name.from_rfc4514("OU=c,CN=a+O=b")
    assert name != Name.parse("/CN=a/O=b/OU=c")


def test_name_escapes():
    assert str(Name.parse(r"/CN=a\/b/O=c")) == "O=c,CN=a/b"
    assert str(Name.parse(r"/CN=a\+b")) == r"CN=a\+b"
    assert len(Name.parse(r"/CN=a\+b")) == 1
    assert str(Name.parse(r"/CN=a\=b")) == "CN=a=b"
    assert str(Name.parse("/CN=a,b")) == r"CN=a\,b"


def test_name_from_rfc4514_order():
    rfc = Name.from_rfc4514("CN=a,O=b")
    assert rfc == Name.parse("/O=b/CN=a")
    assert rfc != Name.parse("/CN=a/O=b")
    assert str(rfc) == "CN=a,O=b"
    assert rfc.to_der() == Name.parse("/O=b/CN=a").to_der()


def test_name_from_rfc4514_escapes_and_spaces():
    assert Name.from_rfc4514(r"CN=a\,b, O=c") == Name.parse("/O=c/CN=a,b")
    assert Name.from_rfc4514(r"CN=a\2Cb") == Name.parse("/CN=a,b")
    assert Name.from_rfc4514(r"CN=\ a") == Name.parse("/CN= a")


def test_name_str_is_rfc4514_round_trip():
    for text in ("/C=DE/O=z/OU=u/CN=c", "/CN=a,b;c<d>e\"f", "/CN= a", "/CN=#a",
                 "/CN=a\\\\b", "/DC=example/DC=com/CN=x", "/CN=a+O=b"):
        name = Name.parse(text)
        assert Name.from_rfc4514(str(name)) == name, text
        assert Name.from_rfc4514(str(name)).to_der() == name.to_der(), text


def test_name_empty():
    assert len(Name.parse("/")) == 0
    assert str(Name.parse("/")) == ""
    assert Name.from_rfc4514("") == Name.parse("/")
    assert Name.parse("/").to_der() == b"\x30\x00"


def test_name_invalid_forms():
    for bad in ("CN=a", "/CN=a//O=b", "/CNa", "/=a"):
        with pytest.raises(ValueError):
            Name.parse(bad)
    for bad in ("CN=a,,O=b", "garbage", "=a"):
        with pytest.raises(ValueError):
            Name.from_rfc4514(bad)


def test_name_unknown_attribute_or_empty_value():
    for bad in ("/XX=a", "/CN="):
        with pytest.raises((ValueError, OpenSSLError)):
            Name.parse(bad)
    with pytest.raises((ValueError, OpenSSLError)):
        Name.from_rfc4514("XX=a")


def test_name_wrong_types():
    with pytest.raises(TypeError):
        Name.parse(b"/CN=a")
    with pytest.raises(TypeError):
        Name.from_rfc4514(None)
    with pytest.raises(TypeError):
        Name.from_der("0")
    with pytest.raises(TypeError):
        Name()


def test_name_rejects_nul_in_value():
    with pytest.raises(ValueError):
        Name.parse("/CN=a\0b")


def test_name_rejects_nul_in_attribute():
    with pytest.raises(ValueError):
        Name.parse("/C\0N=a")


def test_name_der_round_trip(ca_cert):
    der = ca_cert.subject.to_der()
    assert Name.from_der(der).to_der() == der
    assert Name.from_der(der) == ca_cert.subject
    with pytest.raises(ValueError, match="trailing"):
        Name.from_der(der + b"\x00")
    with pytest.raises(OpenSSLError):
        Name.from_der(b"\x31\x00")


def test_name_equality_with_str_and_hash():
    name = Name.parse("/O=b/CN=a")
    assert name == "CN=a,O=b"
    assert name == "/O=b/CN=a"
    assert name != "CN=b,O=b"
    assert name != 5
    same = Name.from_rfc4514("CN=a,O=b")
    assert hash(name) == hash(same)
    assert len({name, same, Name.parse("/CN=z")}) == 2


def test_name_equality_is_case_insensitive_like_openssl():
    # X509_NAME_cmp compares the canonical (lower-cased, space-folded) encoding
    assert Name.parse("/CN=ABC") == Name.parse("/CN=abc")


def test_name_hash_consistent_with_eq():
    a, b = Name.parse("/CN=ABC"), Name.parse("/CN=abc")
    assert a == b
    assert hash(a) == hash(b)


def test_name_eq_with_unparseable_str_is_false():
    name = Name.parse("/CN=a")
    assert (name == "not a name") is False
    assert (name == "XX=a") is False


def test_name_non_ascii_round_trip():
    name = Name.parse("/CN=café")
    assert str(name) == r"CN=caf\C3\A9"
    assert Name.from_rfc4514(str(name)) == name
    assert name == str(name)


def test_name_rfc4514_hex_escape_followed_by_hex_digits():
    assert Name.from_rfc4514(r"CN=\41BC") == Name.parse("/CN=ABC")


def test_name_rfc4514_escaped_backslash_hex():
    assert Name.from_rfc4514(r"CN=a\5Cb").to_der() == Name.parse(r"/CN=a\\b").to_der()


def test_name_rfc4514_escaped_trailing_space():
    name = Name.parse("/CN=a ")
    assert str(name) == "CN=a\\ "
    assert Name.from_rfc4514(str(name)) == name


def test_name_rfc4514_hexstring_value():
    name = Name.parse("/CN=x/1.2.3.4=foo")
    assert str(name) == "1.2.3.4=#0C03666F6F,CN=x"
    assert Name.from_rfc4514(str(name)).to_der() == name.to_der()


def test_name_repr_and_closed():
    name = Name.parse("/CN=a")
    assert repr(name) == "<Name 'CN=a'>"
    name.close()
    name.close()
    assert repr(name) == "<Name closed>"
    with pytest.raises(ValueError):
        str(name)


def test_name_deepcopy_independent():
    name = Name.parse("/CN=a")
    clone = copy.deepcopy(name)
    name.close()
    assert str(clone) == "CN=a"


def test_name_cryptography_round_trip():
    x509 = pytest.importorskip("cryptography.x509")
    name = Name.parse("/C=DE/O=b+OU=c/CN=a,d")
    theirs = name.to_cryptography()
    assert isinstance(theirs, x509.Name)
    assert theirs.public_bytes() == name.to_der()
    assert Name.from_cryptography(theirs) == name
    mine = Name.from_cryptography(x509.Name.from_rfc4514_string("CN=z,O=y"))
    assert mine == Name.parse("/O=y/CN=z")


def test_name_to_cryptography_other_attributes():
    pytest.importorskip("cryptography")
    for text in ("/CN=c/emailAddress=a@b.example", "/CN=x/serialNumber=1",
                 "/CN=x/1.2.3.4=foo"):
        name = Name.parse(text)
        assert name.to_cryptography().public_bytes() == name.to_der(), text


def test_name_parser_internals():
    assert _names.parse_openssl("/CN=a+O=b/OU=c") == [[("CN", "a"), ("O", "b")], [("OU", "c")]]
    assert _names.parse_rfc4514("CN=a,O=b") == [[("O", "b")], [("CN", "a")]]
    assert _names.parse_openssl("/") == []
    assert _names.parse_rfc4514("  ") == []
