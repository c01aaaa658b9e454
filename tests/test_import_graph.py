"""The package's import graph has no cycle.

Every ``openssl_cmp`` module is parsed with ``ast`` (nothing is imported) and each import of
a package module becomes an edge: ``import openssl_cmp.x``, ``from openssl_cmp.x import y``,
``from openssl_cmp import x`` and relative imports, at module level and inside functions
(a lazy import is still an edge: it only moves the cycle from import time to call time).
Imports under ``if TYPE_CHECKING:`` are left out: they never run.  A name imported from the
package itself (``from openssl_cmp import Certificate``) is an edge to ``__init__``.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path
from typing import NamedTuple

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "openssl_cmp"


class Edge(NamedTuple):
    source: str
    target: str
    path: str  # of the importing file, relative to the package's parent
    line: int
    lazy: bool  # inside a function or method

    def __str__(self):
        return "%s -> %s (%s:%d%s)" % (self.source, self.target, self.path, self.line,
                                      ", lazy" if self.lazy else "")


def module_names(package_dir: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file of the package (subpackages
    included; a package is named by its ``__init__.py``)."""
    root = package_dir.name
    modules = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = [root, *path.relative_to(package_dir).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return ((isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
            or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _imports(tree: ast.AST):
    """(node, lazy) for every import that runs, skipping ``if TYPE_CHECKING:`` bodies."""
    def walk(node, lazy):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for sub in child.orelse:  # the else branch does run
                    yield from walk_one(sub, lazy)
                continue
            yield from walk_one(child, lazy)

    def walk_one(node, lazy):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, lazy
        yield from walk(node, lazy or isinstance(node, (ast.FunctionDef,
                                                        ast.AsyncFunctionDef, ast.Lambda)))

    yield from walk(tree, False)


def import_edges(package_dir: Path) -> list[Edge]:
    modules = module_names(package_dir)
    edges = []
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        where = path.relative_to(package_dir.parent).as_posix()
        tree = ast.parse(path.read_text(), filename=str(path))
        for node, lazy in _imports(tree):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names if alias.name in modules]
            else:
                if node.level:  # relative: from the module's own package upwards
                    base = module.split(".")
                    if not is_package:
                        base.pop()
                    base = base[:len(base) - (node.level - 1)]
                    prefix = ".".join(base + ([node.module] if node.module else []))
                else:
                    prefix = node.module or ""
                for alias in node.names:  # a submodule, or a name defined in the module
                    sub = "%s.%s" % (prefix, alias.name)
                    if sub in modules:
                        targets.append(sub)
                    elif prefix in modules:
                        targets.append(prefix)
            # names outside the package, and compiled modules (``_openssl``), are no nodes
            for target in dict.fromkeys(targets):
                if target != module:
                    edges.append(Edge(module, target, where, node.lineno, lazy))
    return edges


def find_cycles(edges: list[Edge], limit: int = 100) -> list[list[Edge]]:
    """Elementary cycles of the graph (each once, starting at its smallest module), at most
    ``limit`` of them."""
    graph: dict[str, dict[str, Edge]] = {}
    for edge in edges:
        graph.setdefault(edge.source, {}).setdefault(edge.target, edge)  # first site
    cycles = []
    for start in sorted(graph):
        stack = [(start, iter(sorted(graph.get(start, {}))))]
        path: list[Edge] = []
        on_path = {start}
        while stack and len(cycles) < limit:
            node, successors = stack[-1]
            nxt = next(successors, None)
            if nxt is None:
                stack.pop()
                if path:
                    on_path.discard(path.pop().target)
                continue
            if nxt < start:  # a cycle through a smaller module was found from that one
                continue
            edge = graph[node][nxt]
            if nxt == start:
                cycles.append(path + [edge])
            elif nxt not in on_path:
                path.append(edge)
                on_path.add(nxt)
                stack.append((nxt, iter(sorted(graph.get(nxt, {})))))
    return cycles


def describe(cycles: list[list[Edge]]) -> str:
    lines = ["%d import cycle(s) in openssl_cmp:" % len(cycles)]
    for cycle in cycles:
        lines.append("  " + " -> ".join([cycle[0].source] + [e.target for e in cycle]))
        lines.extend("      " + str(edge) for edge in cycle)
    common = set.intersection(*(set(cycle) for cycle in cycles)) if cycles else set()
    if common:
        lines.append("every cycle goes through: " + "; ".join(map(str, sorted(common))))
    return "\n".join(lines)


# -- the package ---------------------------------------------------------------------------

def test_package_has_no_import_cycle():
    cycles = find_cycles(import_edges(PACKAGE_DIR))
    assert not cycles, describe(cycles)


def test_walker_sees_the_package():
    """The walker finds the package's modules and its eager, lazy and TYPE_CHECKING-only
    imports where they are (so that a passing cycle test means something)."""
    modules = module_names(PACKAGE_DIR)
    assert {"openssl_cmp", "openssl_cmp.context", "openssl_cmp.binding"} <= set(modules)
    edges = import_edges(PACKAGE_DIR)
    assert any(e.source == "openssl_cmp" and e.target == "openssl_cmp.context"
               and not e.lazy for e in edges)
    assert any(e.source == "openssl_cmp.context" and e.target == "openssl_cmp.binding"
               for e in edges)
    assert any(e.lazy for e in edges)
    assert all(e.source in modules and e.target in modules for e in edges)


def test_scale_modules_layering():
    """The record store is a leaf (plain DB-API, no binding: usable and testable without
    OpenSSL); MockCA uses it; the front ends (asgi, wsgi, aio) never import MockCA, and
    the server imports no front end eagerly."""
    edges = import_edges(PACKAGE_DIR)

    def targets(source, lazy=None):
        return {e.target for e in edges if e.source == source
                and (lazy is None or e.lazy == lazy)}

    assert targets("openssl_cmp.mockca_store") == set()
    assert "openssl_cmp.mockca_store" in targets("openssl_cmp.mockca")
    for front in ("openssl_cmp.asgi", "openssl_cmp.wsgi", "openssl_cmp.aio"):
        assert "openssl_cmp.mockca" not in targets(front)
        assert "openssl_cmp.server" not in targets(front)
    assert not {"openssl_cmp.asgi", "openssl_cmp.wsgi"} & targets("openssl_cmp.server",
                                                                  lazy=False)


def test_testing_aids_layering():
    """The testing aids sit on top: nothing of the core imports ``openssl_cmp.testing``
    (only the pytest plugin does), hypothesis' strategies are imported only on demand, and
    the message editor and the transcript recorder sit below ``message``/``context``."""
    edges = import_edges(PACKAGE_DIR)
    testing = {m for m in module_names(PACKAGE_DIR) if m.startswith("openssl_cmp.testing")}
    users = {e.source for e in edges if e.target in testing} - testing
    assert users <= {"openssl_cmp.pytest_plugin", "openssl_cmp.cli",
                     "openssl_cmp.cli.__init__"} | {m for m in users
                                                    if m.startswith("openssl_cmp.cli")}
    assert "openssl_cmp.testing.strategies" not in {
        e.target for e in edges if e.source == "openssl_cmp.testing"}
    for low in ("openssl_cmp._msg_edit", "openssl_cmp._transcript"):
        assert "openssl_cmp.context" not in {e.target for e in edges if e.source == low}
    assert "openssl_cmp.message" not in {e.target for e in edges
                                         if e.source == "openssl_cmp._msg_edit"}


# -- the walker on small made-up packages --------------------------------------------------

def make_package(tmp_path: Path, files: dict[str, str]) -> Path:
    package = tmp_path / "openssl_cmp"
    for name, text in {"__init__.py": "", **files}.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return package


def cycle_names(package: Path) -> list[list[str]]:
    return [[e.source.rpartition(".")[2] for e in cycle]
            for cycle in find_cycles(import_edges(package))]


def test_lazy_import_closes_a_cycle(tmp_path):
    package = make_package(tmp_path, {
        "a.py": "from openssl_cmp.b import B\n",
        "b.py": "def f():\n    from openssl_cmp import a\n    return a\n",
    })
    assert cycle_names(package) == [["a", "b"]]
    (lazy,) = [e for e in import_edges(package) if e.source.endswith(".b")]
    assert lazy.lazy and lazy.line == 2


def test_type_checking_import_is_no_edge(tmp_path):
    package = make_package(tmp_path, {
        "a.py": "import openssl_cmp.b\n",
        "b.py": """\
            import typing
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                from openssl_cmp.a import A
            if typing.TYPE_CHECKING:
                import openssl_cmp.a
            else:
                X = 1
            """,
    })
    assert cycle_names(package) == []
    package.joinpath("b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    pass\n"
        "else:\n    from openssl_cmp import a\n")
    assert cycle_names(package) == [["a", "b"]]


def test_relative_and_package_imports(tmp_path):
    package = make_package(tmp_path, {
        "__init__.py": "from .a import A\n",
        "a.py": "from . import b\nA = 1\n",
        "b.py": "class C:\n    def m(self):\n        from .sub.c import f\n",
        "sub/__init__.py": "",
        "sub/c.py": "from ..a import A\nfrom openssl_cmp import A as B\n",
    })
    edges = {(e.source, e.target) for e in import_edges(package)}
    assert edges == {
        ("openssl_cmp", "openssl_cmp.a"),
        ("openssl_cmp.a", "openssl_cmp.b"),
        ("openssl_cmp.b", "openssl_cmp.sub.c"),
        ("openssl_cmp.sub.c", "openssl_cmp.a"),
        ("openssl_cmp.sub.c", "openssl_cmp"),  # a name from __init__
    }
    assert sorted(cycle_names(package)) == [["a", "b", "c"], ["openssl_cmp", "a", "b", "c"]]


def test_imports_outside_the_package_are_ignored(tmp_path):
    package = make_package(tmp_path, {
        "a.py": "import os\nimport openssl_cmp_other\nfrom cffi import FFI\n",
    })
    assert import_edges(package) == []


# -- the serving layers --------------------------------------------------------------------

def test_http_front_ends_sit_below_the_server():
    """The HTTP rules (_rfc6712) and the front ends (http, asgi, wsgi) never import the
    server module at run time: ``Server`` imports them on demand (serve_http, asgi_app,
    wsgi_app).  aio sits on context only.  No front end imports another."""
    edges = import_edges(PACKAGE_DIR)
    fronts = {"openssl_cmp._rfc6712", "openssl_cmp.http", "openssl_cmp.asgi",
              "openssl_cmp.wsgi", "openssl_cmp.aio"}
    for edge in edges:
        if edge.source in fronts:
            assert edge.target not in ("openssl_cmp.server", "openssl_cmp.mockca",
                                       "openssl_cmp"), edge
            assert edge.target not in fronts - {"openssl_cmp._rfc6712"}, edge
    lazy = {(e.source, e.target) for e in edges if e.lazy}
    assert ("openssl_cmp.server", "openssl_cmp.asgi") in lazy
    assert ("openssl_cmp.server", "openssl_cmp.wsgi") in lazy
