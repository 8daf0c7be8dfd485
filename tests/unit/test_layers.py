"""The layer rules of ARCHITECTURE.md, checked from the imports of every module.

    commands/rdb           imports nothing of the project (sans-I/O codec of Redis's formats)
    commands/data          imports nothing else of commands/
    commands/metrics       imports nothing else of commands/ (slow log, latency monitor)
    commands/server        data, metrics
    commands/persistence   data, server, rdb
    commands/replication   data, server, rdb, persistence
    commands/pubsub        data, server
    commands/families      data, server, rdb, persistence, metrics (the families sit on top)
    commands/clients       data, server, families (CLIENT subcommands on families' container)
    commands/streams       data, server, rdb, persistence, replication, families (the stream
                           family; it shares families' typed lookups)
    commands/scripting     data, server, rdb, persistence, replication, families (Lua scripts)
    commands/security      data, server, families (ACL users and the ACL command)
    cluster/               never imports commands/
    node.py                the composition root: nothing imports it

and everywhere: no import cycle between modules, and no project import hidden inside a
function (only `if TYPE_CHECKING:` imports may break the rules, as they never run).
Each commands/ folder holds at most MAX_MODULES modules.
"""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROJECT_PACKAGES = ("commands", "cluster", "node")
MAX_MODULES = 20

# commands/ layer -> the layers it may import from (besides itself).
ALLOWED = {
    "rdb": set(),
    "data": set(),
    "metrics": set(),
    "server": {"data", "metrics"},
    "persistence": {"data", "server", "rdb"},
    "replication": {"data", "server", "rdb", "persistence"},
    "pubsub": {"data", "server"},
    "families": {"data", "server", "rdb", "persistence", "metrics"},
    "clients": {"data", "server", "families"},
    "streams": {"data", "server", "rdb", "persistence", "replication", "families"},
    "scripting": {"data", "server", "rdb", "persistence", "replication", "families"},
    "security": {"data", "server", "families"},
}


def module_name(path: pathlib.Path, root: pathlib.Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(tree):
    """(imported module names, at_top_level) for each import statement, skipping the
    bodies of `if TYPE_CHECKING:`."""
    found = []

    def visit(node, top):
        for child in ast.iter_child_nodes(node):
            if _is_type_checking(child):
                continue
            inner = top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                   ast.Lambda, ast.ClassDef))
            if isinstance(child, ast.Import):
                found.append(([a.name for a in child.names], top))
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                names = [child.module + "." + a.name for a in child.names]
                found.append(([child.module] + names, top))
            visit(child, inner)

    visit(tree, True)
    return found


def import_graph(paths, root=ROOT) -> tuple[dict, list]:
    """module -> set of project modules it imports; plus (module, target) pairs of
    imports made inside a function or class body."""
    modules = {module_name(p, root): p for p in paths}
    graph = {name: set() for name in modules}
    hidden = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), str(path))
        for candidates, top in _imports(tree):
            # `from commands.server import info` names the module commands.server.info;
            # `from commands.server.resp import OK` names commands.server.resp.
            targets = [c for c in candidates if c in modules]
            target = targets[-1] if targets else None
            if target is None or target == name:
                continue
            graph[name].add(target)
            if not top:
                hidden.append((name, target))
    return graph, hidden


def find_cycle(graph):
    """One import cycle as a list of modules, or None (depth-first search)."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(graph, WHITE)
    stack = []

    def visit(node):
        colour[node] = GREY
        stack.append(node)
        for nxt in sorted(graph[node]):
            if colour.get(nxt) == GREY:
                return stack[stack.index(nxt):] + [nxt]
            if colour.get(nxt) == WHITE:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        colour[node] = BLACK
        return None

    for node in sorted(graph):
        if colour[node] == WHITE:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def layer_of(module: str):
    parts = module.split(".")
    if parts[0] == "commands" and len(parts) > 2:
        return parts[1]
    return None


def breaches(graph, hidden) -> list:
    problems = []
    for source, targets in graph.items():
        for target in targets:
            if target == "node":
                problems.append("%s imports node.py" % source)
            if source.startswith("cluster") and target.startswith("commands"):
                problems.append("%s (cluster/) imports %s" % (source, target))
            src_layer, dst_layer = layer_of(source), layer_of(target)
            if src_layer in ALLOWED and dst_layer in ALLOWED and src_layer != dst_layer \
                    and dst_layer not in ALLOWED[src_layer]:
                problems.append("%s (%s layer) imports %s (%s layer)"
                                % (source, src_layer, target, dst_layer))
    for source, target in hidden:
        problems.append("%s imports %s inside a function" % (source, target))
    cycle = find_cycle(graph)
    if cycle:
        problems.append("import cycle: " + " -> ".join(cycle))
    return problems


def project_files():
    files = [ROOT / "node.py"]
    for package in ("commands", "cluster"):
        files += sorted((ROOT / package).rglob("*.py"))
    return files


def test_the_project_keeps_its_layers():
    graph, hidden = import_graph(project_files())
    assert breaches(graph, hidden) == []


def test_imports_are_absolute():
    """The checks above read absolute imports only; the project writes no other kind."""
    for path in project_files():
        tree = ast.parse(path.read_text(), str(path))
        relative = [node.lineno for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.level]
        assert relative == [], "%s: relative imports on lines %s" % (path, relative)


def test_tests_and_scripts_do_not_import_node_py():
    paths = sorted((ROOT / "tests").rglob("*.py")) + sorted((ROOT / "scripts").rglob("*.py"))
    for path in paths:
        tree = ast.parse(path.read_text(), str(path))
        for candidates, _ in _imports(tree):
            assert "node" not in candidates, "%s imports node.py" % path


def test_no_commands_folder_is_crowded():
    for folder in sorted(p for p in (ROOT / "commands").iterdir() if p.is_dir()
                         and (p / "__init__.py").exists()):
        modules = [p for p in folder.glob("*.py") if p.name != "__init__.py"]
        assert len(modules) <= MAX_MODULES, "%s has %d modules" % (folder, len(modules))


# ---------------------------------------------------------------- the checker can fail

@pytest.mark.parametrize("source, text, expected", [
    ("commands/data/a.py", "from commands.server.b import x\n", "data layer) imports"),
    ("cluster/a.py", "from commands.data.b import x\n", "(cluster/) imports"),
    ("commands/server/a.py", "def f():\n    from commands.data.b import x\n",
     "inside a function"),
    ("commands/server/a.py", "import node\n", "imports node.py"),
])
def test_the_checker_sees_a_breach(tmp_path, source, text, expected):
    files = _fake_tree(tmp_path, {source: text})
    graph, hidden = import_graph(files, tmp_path)
    assert any(expected in problem for problem in breaches(graph, hidden))


def test_the_checker_sees_a_cycle(tmp_path):
    files = _fake_tree(tmp_path, {"commands/server/a.py": "from commands.server.b import x\n",
                                  "commands/server/b.py": "from commands.server import a\n"})
    graph, hidden = import_graph(files, tmp_path)
    assert any(problem.startswith("import cycle") for problem in breaches(graph, hidden))


def test_type_checking_imports_are_allowed(tmp_path):
    files = _fake_tree(tmp_path, {"cluster/a.py": "from typing import TYPE_CHECKING\n"
                                  "if TYPE_CHECKING:\n    from commands.data.b import x\n"})
    graph, hidden = import_graph(files, tmp_path)
    assert breaches(graph, hidden) == []


def _fake_tree(root, sources) -> list:
    """A tree holding `sources` plus every module they could name, all empty."""
    everything = {"node.py": "", "commands/data/b.py": "", "commands/server/b.py": "",
                  "commands/data/__init__.py": "", "commands/server/__init__.py": "",
                  "commands/__init__.py": "", "cluster/__init__.py": ""}
    everything.update(sources)
    paths = []
    for relative, text in everything.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        paths.append(path)
    return paths
