"""Config files for ``openssl-cmp`` in OpenSSL's format and with ``openssl cmp -config
-section``'s lookup: the same file drives both."""

from __future__ import annotations

import pytest

from openssl_cmp.cli import main
from openssl_cmp.cli._config import Config, load_config, split_sections
from openssl_cmp.cli._errors import CLIError

from helpers import REF, SECRET, pbm_server_args, run_openssl


def write(tmp_path, text, name="test.cnf"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_format(tmp_path, monkeypatch):
    monkeypatch.setenv("H6_CONF_VAR", "from-env")
    write(tmp_path, "[inc]\nincluded = yes\n", "inc.cnf")
    path = write(tmp_path, """\
# a comment
top = T
dir = /base
[ cmp ]   # trailing comment
plain = value   # comment after a value
quoted = "a # not a comment"
single = 'x$y'
escaped = a\\#b
joined = first \\
second
var = $dir/x ${dir}/y $(dir)/z
env = $ENV::H6_CONF_VAR
cmp::qualified = q
.include %s
[cmp]
other = ${inc::included}
""" % (tmp_path / "inc.cnf"))
    config = load_config(path, explicit=True)
    cmp = config.sections["cmp"]
    assert config.sections["default"] == {"top": "T", "dir": "/base"}
    assert cmp["plain"] == "value"
    assert cmp["quoted"] == "a # not a comment"
    assert cmp["single"] == "x$y"
    assert cmp["escaped"] == "a#b"
    assert cmp["joined"] == "first second"
    assert cmp["var"] == "/base/x /base/y /base/z"
    assert cmp["env"] == "from-env"
    assert cmp["qualified"] == "q"
    assert config.sections["inc"] == {"included": "yes"}
    assert cmp["other"] == "yes"


def test_undefined_variable_is_an_error(tmp_path):
    path = write(tmp_path, "[cmp]\nx = $nowhere\n")
    with pytest.raises(CLIError, match="line 2.*nowhere"):
        load_config(path, explicit=True)


def test_lookup_order():
    config = Config("x")
    config.sections.update({"default": {"days": "1", "ref": "d"}, "a": {"days": "2"},
                            "b": {"days": "3", "subject": "/CN=b"}})
    assert split_sections("a, b:c d") == ["a", "b", "c", "d"]
    assert split_sections("") == ["default"]
    assert config.get(["a", "b"], "days") == "3"  # named later wins
    assert config.get(["b", "a"], "days") == "2"
    assert config.get(["a"], "ref") == "d"  # [default] is the fallback
    assert config.get(["a"], "nothing") is None


def test_missing_named_section_is_usage_error(tmp_path, capsys):
    path = write(tmp_path, "[cmp]\n")
    assert main(["ir", "--config", path, "--section", "nope"]) == 2
    assert "[nope]" in capsys.readouterr().err


def test_explicit_missing_config_is_an_error(tmp_path, capsys):
    assert main(["ir", "--config", str(tmp_path / "absent.cnf")]) == 1
    assert "absent.cnf" in capsys.readouterr().err


def test_openssl_conf_is_the_default(tmp_path, monkeypatch, capsys):
    path = write(tmp_path, "[cmp]\nsubject = /CN=from-openssl-conf\n")
    monkeypatch.setenv("OPENSSL_CONF", path)
    out = tmp_path / "c.pem"
    assert main(["ir", "--certout", str(out)]) == 0
    from openssl_cmp import Certificate, Name

    assert Certificate.from_file(out).subject == Name.parse("/CN=from-openssl-conf")


def test_same_config_drives_openssl_cmp_and_us(pki, mock_server, tmp_path):
    server = mock_server(*pbm_server_args(pki))
    path = write(tmp_path, """\
[cmp]
server = %s
ref = %s
secret = pass:%s
newkey = %s
subject = /CN=test-client
implicit_confirm = 1
[ours]
certout = %s
[theirs]
certout = %s
""" % (server.url, REF, SECRET, pki.ee_key, tmp_path / "ours.pem", tmp_path / "theirs.pem"))
    result = run_openssl("cmp", "-config", path, "-section", "cmp,theirs", "-cmd", "ir",
                         timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert main(["ir", "--config", path, "--section", "cmp,ours"]) == 0
    assert (tmp_path / "ours.pem").read_bytes() == (tmp_path / "theirs.pem").read_bytes()
    # the command line wins over the file
    assert main(["ir", "--config", path, "--section", "cmp:ours", "--certout",
                 str(tmp_path / "cli.pem")]) == 0
    assert (tmp_path / "cli.pem").exists()


def test_reqexts_section(tmp_path):
    path = write(tmp_path, "[cmp]\nreqexts = exts\n[exts]\nkeyUsage = digitalSignature\n")
    out = tmp_path / "c.pem"
    assert main(["ir", "--config", path, "--subject", "/CN=e", "--certout", str(out)]) == 0
    text = run_openssl("x509", "-in", str(out), "-noout", "-text").stdout
    assert "Digital Signature" in text
