"""Every ```python block of README.md and docs/*.md runs as written.

The blocks of one page run in order in one namespace (a fresh one per page), so a block may
use what an earlier block on the same page defined; each block is its own test, named
``page:line``. Running one block alone (``-k``) first runs the blocks before it on its page.

* A block that defines ``test_*`` functions is a pytest example: after it ran, the page's
  blocks up to it are also written to a file and run by pytest in a subprocess, so that its
  tests really run with this package's pytest plugin.
* A block fenced as ```python no-run is shown, not run (for code that cannot run here); such
  blocks are counted and listed at the end of the run.  There are none today: keep it so.
* Blocks in other languages (```sh ...) are not run.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
NO_RUN = "no-run"

# An opening fence (``` or ~~~, 3 or more), optionally indented (blocks inside list items),
# with its info string; the block ends at a closing fence of the same character, at least as
# long, indented no deeper than the content's indentation allows.
_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


class Block:
    def __init__(self, page: Path, line: int, info: str, code: str):
        self.page = page
        self.line = line  # 1-based line of the opening fence
        words = info.split()
        self.language = words[0] if words else ""
        self.flags = words[1:]
        self.code = code

    @property
    def name(self) -> str:
        return "%s:%d" % (self.page.relative_to(ROOT).as_posix(), self.line)

    @property
    def runs(self) -> bool:
        return self.language == "python" and NO_RUN not in self.flags


def code_blocks(page: Path) -> list[Block]:
    """The fenced code blocks of a Markdown page, in order."""
    blocks = []
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match or (match.group("fence")[0] == "`" and "`" in match.group("info")):
            i += 1
            continue
        indent, fence = len(match.group("indent")), match.group("fence")
        start, body = i, []
        i += 1
        while i < len(lines):
            close = re.match(r"^ *(%s+) *$" % re.escape(fence[0]), lines[i])
            if close and len(close.group(1)) >= len(fence):
                break
            text = lines[i]
            # strip the block's indentation (a block inside a list item)
            body.append(text[indent:] if text[:indent].strip() == "" else text.lstrip())
            i += 1
        else:
            raise AssertionError("%s:%d: unclosed code fence" % (page.name, start + 1))
        blocks.append(Block(page, start + 1, match.group("info").strip(), "\n".join(body)))
        i += 1
    return blocks


BLOCKS = {page: code_blocks(page) for page in PAGES}
RUNNABLE = [b for page in PAGES for b in BLOCKS[page] if b.runs]
SHOWN_ONLY = [b for page in PAGES for b in BLOCKS[page]
              if b.language == "python" and NO_RUN in b.flags]


def _defines_tests(code: str) -> bool:
    return any(isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
               for node in ast.parse(code).body)


class _Page:
    """The namespace of one page and how many of its runnable blocks ran in it."""

    def __init__(self, page: Path):
        self.page = page
        self.namespace: dict = {"__name__": "docs_example"}
        self.done = 0
        self.failed: str | None = None

    def run(self, block: Block) -> None:
        code = compile(block.code, "%s (block at line %d)" % (block.page.name, block.line),
                       "exec")
        exec(code, self.namespace)  # noqa: S102 - the documentation's own examples

    def close(self) -> None:
        """Stop what a page left running (HTTP servers, contexts)."""
        from openssl_cmp import Context
        from openssl_cmp.http import HTTPServing

        for value in list(self.namespace.values()):
            if isinstance(value, (HTTPServing, Context)):
                value.close()
        self.namespace.clear()


@pytest.fixture(scope="module")
def pages():
    opened: dict[Path, _Page] = {}
    yield opened
    for page in opened.values():
        page.close()


def _runnable_on(page: Path) -> list[Block]:
    return [b for b in BLOCKS[page] if b.runs]


def test_pages_have_examples():
    """The harness finds the blocks (a broken fence parser would make every page empty)."""
    assert len(RUNNABLE) >= 15, [b.name for b in RUNNABLE]
    for page in (ROOT / "README.md", ROOT / "docs" / "index.md", ROOT / "docs" / "server.md"):
        assert _runnable_on(page), page


def test_no_run_blocks_are_few():
    """``python no-run`` blocks are listed (and kept to a minimum)."""
    for block in SHOWN_ONLY:
        print("shown, not run: %s" % block.name)
    print("%d python blocks run, %d shown only (%s)" % (len(RUNNABLE), len(SHOWN_ONLY),
                                                          NO_RUN))
    assert len(SHOWN_ONLY) <= 2, [b.name for b in SHOWN_ONLY]


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_links_stay_in_the_repository(page: Path):
    """Relative links point at files of this repository (a clone has nothing beside it)."""
    text = page.read_text(encoding="utf-8")
    assert "../shared" not in text
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        path = target.split("#", 1)[0]
        if not path or re.match(r"^[a-z]+:", path):  # same page, or http:, mailto: ...
            continue
        assert (page.parent / path).exists(), "%s links to a missing %s" % (page.name, target)


def test_every_public_name_has_a_docstring():
    """Every class and function a public module exports (``__all__``), and every public
    method and property those classes define, says what it is: the API reference is
    generated from these docstrings."""
    import enum
    import importlib
    import inspect
    import pkgutil

    import openssl_cmp

    modules = [openssl_cmp] + [importlib.import_module("openssl_cmp." + info.name)
                               for info in pkgutil.iter_modules(openssl_cmp.__path__)
                               if not info.name.startswith("_")]
    missing = []
    for module in modules:
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            if not inspect.getdoc(obj):
                missing.append("%s.%s" % (module.__name__, name))
            if not inspect.isclass(obj) or issubclass(obj, enum.Enum):
                continue
            for attr, value in vars(obj).items():
                if attr.startswith("_"):
                    continue
                func = value.fget if isinstance(value, property) else \
                    getattr(value, "__func__", value)
                if inspect.isfunction(func) and not (func.__doc__ or "").strip():
                    missing.append("%s.%s.%s" % (module.__name__, name, attr))
    assert len(modules) > 20 and missing == []


# The project's own files name what they do, not the tracker's event that asked for it: a
# clone has no tracker, and a tracker number tells its reader nothing.
_TRACKER_NUMBER = re.compile(r"\bissues? ?#?\d+", re.IGNORECASE)
_SOURCES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
            *sorted((ROOT / "docs").glob("*.rst")),
            *(p for d in ("openssl_cmp", "tests", "benchmarks", "fuzz")
              for p in sorted((ROOT / d).rglob("*")) if p.suffix in (".py", ".c", ".md")
              and p.name != "_openssl.c")]  # (cffi's output, which quotes cffi's tracker)


def test_no_tracker_numbers_in_the_project_files():
    found = ["%s:%d: %s" % (path.relative_to(ROOT), n, line.strip())
             for path in _SOURCES if path.is_file()
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if _TRACKER_NUMBER.search(line)]
    assert found == []


@pytest.mark.parametrize("block", RUNNABLE, ids=[b.name for b in RUNNABLE])
def test_code_block(block: Block, pages, tmp_path):
    page = pages.setdefault(block.page, _Page(block.page))
    on_page = _runnable_on(block.page)
    index = on_page.index(block)
    if page.done > index:  # run again (e.g. pytest's --lf): start the page afresh
        page.close()
        page = pages[block.page] = _Page(block.page)
    if page.failed is not None:
        pytest.fail("an earlier block on this page failed: %s" % page.failed)
    for earlier in on_page[page.done:index]:  # when run alone with -k
        try:
            page.run(earlier)
        except BaseException:
            page.failed = earlier.name
            raise
        page.done += 1
    try:
        page.run(block)
    except BaseException:
        page.failed = block.name
        raise
    page.done += 1

    if _defines_tests(block.code):
        source = "\n\n".join(b.code for b in on_page[:index + 1])
        test_file = tmp_path / "test_docs_example.py"
        test_file.write_text(source, encoding="utf-8")
        env = dict(os.environ)
        env.pop("PYTEST_ADDOPTS", None)
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, textwrap.indent(result.stdout + result.stderr, "  ")
        assert re.search(r"\b[1-9]\d* passed\b", result.stdout), result.stdout
