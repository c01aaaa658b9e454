"""The binding covers every function and macro-generated name of ``cmp.h``, ``crmf.h`` and
``cmp_util.h`` of the OpenSSL headers it was built against.

The names are derived from the headers by reading them as text: function declarations,
function-like macros (the ``sk_<TYPE>_*`` stack macros among them), name aliases,
``#define`` constants, the ``OPENSSL_sk_*`` functions the stack macros expand to, and the
expansions of ``DECLARE_ASN1_FUNCTIONS``, ``DECLARE_ASN1_DUP_FUNCTION``,
``DECLARE_ASN1_ITEM``, ``DECLARE_ASN1_ENCODE_FUNCTIONS`` and ``DEFINE_STACK_OF``.  A few
functional checks show that the new names work, not only that they link."""

import hashlib
import hmac
import os
import re
from pathlib import Path

import pytest

from openssl_cmp import binding
from openssl_cmp.binding import ffi, lib

HEADERS = ("cmp.h", "crmf.h", "cmp_util.h")

# name -> why the binding leaves it out
EXCLUDED = {
    # header guards and feature macros: no API
    "OPENSSL_CMP_H": "header guard", "OPENSSL_CRMF_H": "header guard",
    "OPENSSL_CMP_UTIL_H": "header guard",
    "HEADER_CMP_H": "header guard", "HEADER_CRMF_H": "header guard",
    "HEADER_CMP_UTIL_H": "header guard",
    # 3.4+: a struct tag alias (``#define stack_st_OSSL_CMP_ATAV stack_st_OSSL_CRMF_…``),
    # not a function or constant; its stack type is OCMP_STACK_OF_OSSL_CRMF_ATTRIBUTETYPEANDVALUE
    "stack_st_OSSL_CMP_ATAV": "struct tag alias",
}

STACK_OPS = ("num value new new_null new_reserve reserve free zero delete delete_ptr push "
             "unshift pop shift pop_free insert set find find_ex find_all sort is_sorted dup "
             "deep_copy set_cmp_func").split()

_MACRO_CALL = re.compile(r"(DECLARE_ASN1_\w+|DEFINE_STACK_OF\w*|SKM_DEFINE_STACK_OF\w*|"
                         r"DEFINE_OR_DECLARE_STACK_OF)\s*\(([^)]*)\)")


def include_dir() -> Path:
    """The headers build_ffi.py compiles against: $OPENSSL_DIR/include, else the system's."""
    prefix = os.environ.get("OPENSSL_DIR")
    return Path(prefix, "include", "openssl") if prefix else Path("/usr/include/openssl")


def header_version(directory: Path) -> int:
    text = (directory / "opensslv.h").read_text()
    major, minor, patch = (int(re.search(r"#\s*define\s+OPENSSL_VERSION_%s\s+(\d+)" % part,
                                         text).group(1)) for part in ("MAJOR", "MINOR", "PATCH"))
    return (major << 28) | (minor << 20) | (patch << 4)


def expand(kind: str, args: list[str]) -> set[str]:
    """The names a declaration macro of OpenSSL's headers defines."""
    t = args[0]
    if kind == "DECLARE_ASN1_FUNCTIONS":
        return {t + "_new", t + "_free", "d2i_" + t, "i2d_" + t, t + "_it"}
    if kind == "DECLARE_ASN1_DUP_FUNCTION":
        return {t + "_dup"}
    if kind == "DECLARE_ASN1_ITEM":
        return {t + "_it"}
    if kind == "DECLARE_ASN1_ENCODE_FUNCTIONS":  # (type, itname, name)
        return {"d2i_" + args[2], "i2d_" + args[2], args[1] + "_it"}
    if kind in ("DEFINE_STACK_OF", "DEFINE_STACK_OF_CONST", "DEFINE_OR_DECLARE_STACK_OF"):
        return {"sk_%s_%s" % (t, op) for op in STACK_OPS}
    if kind.startswith("SKM_DEFINE_STACK_OF"):
        return set()  # static inline type checks; the sk_ macros follow as #defines
    raise AssertionError("a declaration macro this test does not know: %s" % kind)


def header_names(text: str) -> dict[str, set[str]]:
    """{"functions", "macros", "constants", "generic"} names of one header's text."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text).replace("\\\n", " ")
    out: dict[str, set[str]] = {k: set() for k in ("functions", "macros", "constants",
                                                    "generic")}
    code = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("#"):
            code.append(stripped)
            continue
        m = re.match(r"#\s*define\s+(\w+)(\()?\s*(.*)", stripped)
        if not m:
            continue
        name, function_like, body = m.groups()
        out["generic"] |= set(re.findall(r"\bOPENSSL_sk_\w+", body))
        if function_like:
            out["macros"].add(name)
        elif body:  # a constant or an alias of a function (no body: a guard)
            out["constants"].add(name)
    joined = re.sub(r"\bSTACK_OF\s*\(\s*\w+\s*\)", "STACK", " ".join(code))
    joined = re.sub(r'extern\s+"C"\s*\{', " ", joined)
    for statement in joined.split(";"):
        statement = statement.strip().lstrip("}").strip()
        while (m := _MACRO_CALL.match(statement)):
            kind = "macros" if "STACK" in m.group(1) else "functions"
            out[kind] |= expand(m.group(1), [a.strip() for a in m.group(2).split(",")])
            statement = statement[m.end():].strip()
        if not statement or statement.startswith(("typedef", "static")) or "(" not in statement:
            continue
        m = re.search(r"([A-Za-z_]\w*)\s*\(", statement)
        if m:
            out["functions"].add(m.group(1))
    return out


DIRECTORY = include_dir()
if not all((DIRECTORY / h).exists() for h in HEADERS + ("opensslv.h",)):
    pytest.skip("the OpenSSL headers are not in %s" % DIRECTORY, allow_module_level=True)
if header_version(DIRECTORY) >> 4 != binding.BUILT_WITH_VERSION_NUMBER >> 4:
    pytest.skip("the headers in %s are not those the module was built with" % DIRECTORY,
                allow_module_level=True)

NAMES: dict[str, set[str]] = {k: set() for k in ("functions", "macros", "constants",
                                                  "generic")}
for _header in HEADERS:
    for _kind, _names in header_names((DIRECTORY / _header).read_text()).items():
        NAMES[_kind] |= _names


def test_the_parser_finds_the_headers_api():
    """A slip of the parser must not shrink the check silently (3.0 counts in brackets)."""
    assert len(NAMES["functions"]) >= 180  # (190)
    assert len(NAMES["macros"]) >= 170  # (180)
    assert len(NAMES["constants"]) >= 100  # (121)
    assert {"OSSL_CMP_CTX_new", "OSSL_CRMF_pbm_new", "d2i_OSSL_CRMF_MSGS", "OSSL_CMP_MSG_it",
            "OSSL_CRMF_CERTID_dup", "OSSL_CMP_log_open"} <= NAMES["functions"]
    assert {"sk_OSSL_CRMF_MSG_push", "sk_OSSL_CMP_CERTSTATUS_find_all",
            "OSSL_CMP_CTX_set_log_verbosity"} <= NAMES["macros"]
    assert {"OPENSSL_sk_num", "OPENSSL_sk_deep_copy"} <= NAMES["generic"]
    assert "OSSL_CMP_PKIFAILUREINFO_badPOP" in NAMES["constants"]
    assert "STACK" not in NAMES["functions"] and "STACK_OF" not in NAMES["functions"]


def test_parser_expands_declaration_macros():
    names = header_names("DECLARE_ASN1_FUNCTIONS(FOO)\nDECLARE_ASN1_DUP_FUNCTION(FOO)\n"
                         "DEFINE_STACK_OF(BAR)\n/* int hidden(void); */\n"
                         "STACK_OF(BAR) *get_bars(const FOO *a,\n    int b);\n"
                         "# define FOO_VERSION 3\n# define foo_num(x) OPENSSL_sk_num(x)\n")
    assert names["functions"] == {"FOO_new", "FOO_free", "d2i_FOO", "i2d_FOO", "FOO_it",
                                  "FOO_dup", "get_bars"}
    assert {"sk_BAR_num", "sk_BAR_deep_copy", "foo_num"} <= names["macros"]
    assert names["constants"] == {"FOO_VERSION"} and names["generic"] == {"OPENSSL_sk_num"}


@pytest.mark.parametrize("kind", ["functions", "macros", "constants", "generic"])
def test_every_name_is_bound(kind):
    missing = sorted(name for name in NAMES[kind]
                     if name not in EXCLUDED and not binding.has(name))
    assert not missing, "%d %s of %s missing from binding.lib: %s" % (
        len(missing), kind, ", ".join(HEADERS), missing)


def test_exclusions_are_still_needed():
    """An exclusion whose name is now bound (or gone from the headers) is stale."""
    everything = set().union(*NAMES.values())
    stale = sorted(n for n in EXCLUDED if binding.has(n))
    assert not stale, stale
    assert everything  # exclusions of names the headers lack are harmless guards


# -- the new names work -------------------------------------------------------------------

def test_crmf_msgs_stack_and_der_round_trip():
    """RFC 4211 §3: CertReqMessages ::= SEQUENCE OF CertReqMsg."""
    msgs = lib.sk_OSSL_CRMF_MSG_new_null()
    try:
        for rid in (7, 9):
            msg = lib.OSSL_CRMF_MSG_new()
            assert lib.OSSL_CRMF_MSG_set_certReqId(msg, rid) == 1
            assert lib.sk_OSSL_CRMF_MSG_push(msgs, msg) == (2 if rid == 9 else 1)
        out = ffi.new("unsigned char **")
        n = lib.i2d_OSSL_CRMF_MSGS(msgs, out)
        assert n > 0
        der = ffi.buffer(out[0], n)[:]
        lib.OPENSSL_free(out[0])
        p = ffi.new("const unsigned char **", ffi.from_buffer(der))
        back = lib.d2i_OSSL_CRMF_MSGS(ffi.NULL, p, len(der))
        assert back != ffi.NULL
        assert lib.sk_OSSL_CRMF_MSG_num(back) == 2
        assert lib.OSSL_CRMF_MSG_get_certReqId(lib.sk_OSSL_CRMF_MSG_value(back, 1)) == 9
        first = lib.sk_OSSL_CRMF_MSG_shift(back)
        assert lib.OSSL_CRMF_MSG_get_certReqId(first) == 7
        lib.OSSL_CRMF_MSG_free(first)
        assert lib.OPENSSL_sk_num(ffi.cast("OPENSSL_STACK *", back)) == 1  # the generic
        lib.OSSL_CRMF_MSGS_free(back)
    finally:
        lib.sk_OSSL_CRMF_MSG_pop_free(msgs, lib.OSSL_CRMF_MSG_free)


def utc_time(text):
    der = b"\x17" + bytes([len(text)]) + text
    p = ffi.new("const unsigned char **", ffi.from_buffer(der))
    t = lib.d2i_ASN1_TIME(ffi.NULL, p, len(der))
    assert t != ffi.NULL
    return t


def test_reg_token_and_validity():
    """RFC 4211 §6.1 regToken and §5 OptionalValidity through the new setters/getters."""
    msg = lib.OSSL_CRMF_MSG_new()
    token = lib.ASN1_UTF8STRING_new()
    try:
        assert lib.ASN1_STRING_set(token, b"secret-token", 12) == 1
        assert lib.OSSL_CRMF_MSG_get0_regCtrl_regToken(msg) == ffi.NULL
        assert lib.OSSL_CRMF_MSG_set1_regCtrl_regToken(msg, token) == 1
        got = lib.OSSL_CRMF_MSG_get0_regCtrl_regToken(msg)
        assert ffi.buffer(got.data, got.length)[:] == b"secret-token"
        not_before, not_after = utc_time(b"250101000000Z"), utc_time(b"260101000000Z")
        assert lib.OSSL_CRMF_MSG_set0_validity(msg, not_before, not_after) == 1  # takes them
    finally:
        lib.ASN1_UTF8STRING_free(token)
        lib.OSSL_CRMF_MSG_free(msg)


def test_password_based_mac_matches_rfc_4211():
    """RFC 4211 §4.4: K = H^iterations(password || salt), MAC = HMAC-H(K, message)."""
    sha256 = lib.OBJ_txt2nid(b"SHA256")
    hmac_sha256 = lib.OBJ_txt2nid(b"hmacWithSHA256")
    pbmp = lib.OSSL_CRMF_pbmp_new(ffi.NULL, 16, sha256, 500, hmac_sha256)
    assert pbmp != ffi.NULL
    try:
        out = ffi.new("unsigned char **")
        n = lib.i2d_OSSL_CRMF_PBMPARAMETER(pbmp, out)
        der = ffi.buffer(out[0], n)[:]
        lib.OPENSSL_free(out[0])
        assert der[0] == 0x30 and der[2] == 0x04 and der[3] == 16  # salt comes first
        salt = der[4:20]
        mac = ffi.new("unsigned char **")
        mac_len = ffi.new("size_t *")
        assert lib.OSSL_CRMF_pbm_new(ffi.NULL, ffi.NULL, pbmp, b"message", 7, b"pw", 2,
                                     mac, mac_len) == 1
        got = ffi.buffer(mac[0], mac_len[0])[:]
        lib.OPENSSL_free(mac[0])
    finally:
        lib.OSSL_CRMF_PBMPARAMETER_free(pbmp)
    key = b"pw" + salt
    for _ in range(500):
        key = hashlib.sha256(key).digest()
    assert got == hmac.new(key, b"message", hashlib.sha256).digest()


def test_certid_der_and_stack():
    """RFC 4211 §6.5 CertId: DER round trip, dup, and the typed stack."""
    name = lib.X509_NAME_new()
    serial = lib.ASN1_INTEGER_new()
    lib.ASN1_INTEGER_set_int64(serial, 42)
    cid = lib.OSSL_CRMF_CERTID_gen(name, serial)  # an empty name is a valid directoryName
    lib.X509_NAME_free(name)
    lib.ASN1_INTEGER_free(serial)
    assert cid != ffi.NULL
    stack = lib.sk_OSSL_CRMF_CERTID_new_null()
    try:
        copy = lib.OSSL_CRMF_CERTID_dup(cid)
        assert lib.sk_OSSL_CRMF_CERTID_push(stack, copy) == 1
        assert lib.sk_OSSL_CRMF_CERTID_find(stack, copy) == 0
        out = ffi.new("unsigned char **")
        n = lib.i2d_OSSL_CRMF_CERTID(cid, out)
        der = ffi.buffer(out[0], n)[:]
        lib.OPENSSL_free(out[0])
        p = ffi.new("const unsigned char **", ffi.from_buffer(der))
        back = lib.d2i_OSSL_CRMF_CERTID(ffi.NULL, p, len(der))
        value = ffi.new("int64_t *")
        assert lib.ASN1_INTEGER_get_int64(value, lib.OSSL_CRMF_CERTID_get0_serialNumber(back))
        assert value[0] == 42
        lib.OSSL_CRMF_CERTID_free(back)
    finally:
        lib.sk_OSSL_CRMF_CERTID_pop_free(stack, lib.OSSL_CRMF_CERTID_free)
        lib.OSSL_CRMF_CERTID_free(cid)
