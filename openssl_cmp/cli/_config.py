"""Config files in OpenSSL's format (``config(5)``), looked up as ``openssl cmp -config FILE
-section NAMES`` does (``apps/cmp.c``).

Format: ``[section]`` headers, ``name = value`` lines, ``#`` comments, a trailing ``\\``
continues a line, ``"…"``/``'…'`` quoting and backslash escapes, variable references
``$var``, ``${var}``, ``$(var)``, ``$section::var``, ``${section::var}`` (section ``ENV``:
the environment), and ``.include FILE-or-DIRECTORY``.  Lines before the first header belong
to the unnamed section, stored as ``"default"`` as OpenSSL does.

Lookup: the file is ``--config`` (``""``: none), else ``$OPENSSL_CONF``, else the
``openssl.cnf`` of the linked OpenSSL (used only if it exists).  ``--section`` names one or
more sections separated by ``,``, ``:`` or blanks (default ``cmp``; ``""``: ``default``); a
section named later overrides one named earlier, and ``[default]`` gives per-option
fallback values.
"""

from __future__ import annotations

import os
import re
import ssl
from typing import Iterator

from openssl_cmp.cli._errors import CLIError

__all__ = ["Config", "default_config_file", "load_config", "split_sections"]

_HEADER = re.compile(r"^\s*\[\s*([^\]]*?)\s*\]\s*(?:#.*)?$")
_ASSIGN = re.compile(r"^\s*([A-Za-z0-9_.;:!%&*+,/@^`|~-]+?)\s*=\s*(.*)$")
_NAME = re.compile(r"[A-Za-z0-9_]+")
_MAX_INCLUDE_DEPTH = 8


class Config:
    """Sections of name/value pairs, read from an ``openssl.cnf``-format file."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path
        self.sections: dict[str, dict[str, str]] = {"default": {}}

    def get(self, sections: list[str], name: str) -> str | None:
        """The value of ``name``: from the last of ``sections`` that has it, else from
        ``[default]``; None when nowhere."""
        for section in reversed(sections):
            value = self.sections.get(section, {}).get(name)
            if value is not None:
                return value
        return self.sections["default"].get(name)

    def section(self, name: str, what: str) -> dict[str, str]:
        """A whole section (for ``--reqexts`` and ``--policies``); CLIError if absent."""
        try:
            return dict(self.sections[name])
        except KeyError:
            where = self.path or "no config file"
            raise CLIError("%s: no [%s] section in %s" % (what, name, where)) from None


def default_config_file() -> str | None:
    """``$OPENSSL_CONF``, else ``openssl.cnf`` in the linked OpenSSL's directory."""
    env = os.environ.get("OPENSSL_CONF")
    if env is not None:
        return env
    # OPENSSLDIR: the directory of the default CA file of the OpenSSL that ``ssl`` links
    # (the same libcrypto on a distribution build; OpenSSL has no getter for the dir itself)
    cafile = ssl.get_default_verify_paths().openssl_cafile
    return os.path.join(os.path.dirname(cafile), "openssl.cnf") if cafile else None


def split_sections(text: str) -> list[str]:
    """``"a, b:c"`` -> ``["a", "b", "c"]``; ``""`` -> ``["default"]``."""
    names = [n for n in re.split(r"[,:\s]+", text) if n]
    return names or ["default"]


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) with ``\\``-continued lines joined."""
    pending = ""
    start = 0
    for number, line in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        stripped = line.rstrip()
        backslashes = len(stripped) - len(stripped.rstrip("\\"))
        if backslashes % 2 == 1:
            pending += stripped[:-1]
            continue
        yield start, pending + line
        pending = ""
    if pending:
        yield start, pending


class _Parser:
    def __init__(self, config: Config) -> None:
        self.config = config

    def fail(self, path: str, line: int, why: str) -> CLIError:
        return CLIError("config file %s, line %d: %s" % (path, line, why))

    def lookup(self, section: str, name: str, current: str, path: str, line: int) -> str:
        if section == "ENV":
            value = os.environ.get(name)
        elif section:
            value = self.config.sections.get(section, {}).get(name)
        else:
            value = self.config.sections.get(current, {}).get(name)
            if value is None:
                value = self.config.sections["default"].get(name)
        if value is None:
            raise self.fail(path, line, "variable %s%s has no value"
                            % (section + "::" if section else "", name))
        return value

    def value(self, raw: str, current: str, path: str, line: int) -> str:
        """Unquote, unescape and expand a value, stopping at an unquoted ``#``."""
        out: list[str] = []
        i, n = 0, len(raw)
        while i < n:
            c = raw[i]
            if c == "#":
                break
            if c in "\"'":
                end = i + 1
                chunk = []
                while end < n and raw[end] != c:
                    if c == '"' and raw[end] == "\\" and end + 1 < n:
                        end += 1
                    chunk.append(raw[end])
                    end += 1
                if end >= n:
                    raise self.fail(path, line, "unterminated quote")
                out.append("".join(chunk))
                i = end + 1
                continue
            if c == "\\" and i + 1 < n:
                out.append({"n": "\n", "r": "\r", "t": "\t", "b": "\b"}.get(raw[i + 1],
                                                                            raw[i + 1]))
                i += 2
                continue
            if c == "$":
                i, text = self.variable(raw, i + 1, current, path, line)
                out.append(text)
                continue
            out.append(c)
            i += 1
        return "".join(out).strip()

    def variable(self, raw: str, i: int, current: str, path: str,
                 line: int) -> tuple[int, str]:
        close = {"{": "}", "(": ")"}.get(raw[i:i + 1])
        if close:
            end = raw.find(close, i + 1)
            if end < 0:
                raise self.fail(path, line, "unterminated variable reference")
            ref, after = raw[i + 1:end], end + 1
        else:
            m = re.compile(r"[A-Za-z0-9_]+(?:::[A-Za-z0-9_]+)?").match(raw, i)
            if not m:
                raise self.fail(path, line, "'$' without a variable name")
            ref, after = m.group(0), m.end()
        section, sep, name = ref.partition("::")
        if not sep:
            section, name = "", ref
        if not _NAME.fullmatch(name) or (section and not _NAME.fullmatch(section)):
            raise self.fail(path, line, "bad variable reference ${%s}" % ref)
        return after, self.lookup(section, name, current, path, line)

    def read(self, path: str, current: str = "default", depth: int = 0) -> str:
        try:
            with open(path, encoding="utf-8", errors="surrogateescape") as f:
                text = f.read()
        except OSError as exc:
            raise CLIError("cannot read config file %s: %s" % (path, exc.strerror or exc)) \
                from None
        for number, line in _logical_lines(text):
            body = line.strip()
            if not body or body.startswith("#"):
                continue
            header = _HEADER.match(body)
            if header:
                current = self.value(header.group(1), current, path, number) or "default"
                self.config.sections.setdefault(current, {})
                continue
            if body.startswith(".include") or body.startswith(".pragma"):
                directive, _, arg = body.partition(" ") if " " in body else \
                    body.partition("=")
                arg = arg.strip().lstrip("=").strip()
                if directive.strip().rstrip("=").strip() == ".include":
                    current = self.include(self.value(arg, current, path, number), path,
                                           current, depth, number)
                continue  # pragmas change OpenSSL's parsing of odd corners only
            assign = _ASSIGN.match(body)
            if not assign:
                raise self.fail(path, number, "expected [section] or name = value")
            name = assign.group(1)
            section, sep, key = name.partition("::")
            target = section if sep else current
            self.config.sections.setdefault(target, {})[key if sep else name] = \
                self.value(assign.group(2), current, path, number)
        return current

    def include(self, target: str, path: str, current: str, depth: int, line: int) -> str:
        if depth >= _MAX_INCLUDE_DEPTH:
            raise self.fail(path, line, ".include nested too deeply")
        if not os.path.isabs(target):
            target = os.path.join(os.environ.get("OPENSSL_CONF_INCLUDE", ""), target) \
                if os.environ.get("OPENSSL_CONF_INCLUDE") else target
        if os.path.isdir(target):
            for name in sorted(os.listdir(target)):
                if name.endswith((".cnf", ".conf")):
                    current = self.read(os.path.join(target, name), current, depth + 1)
            return current
        return self.read(target, current, depth + 1)


def load_config(path: str | None, explicit: bool) -> Config | None:
    """The config file at ``path`` (None or ``""``: no file).  A default file that does not
    exist is no error (as in ``openssl cmp``); an explicit one is."""
    if not path:
        return None
    if not explicit and not os.path.exists(path):
        return None
    config = Config(path)
    _Parser(config).read(path)
    return config
