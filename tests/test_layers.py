"""The layers: dependencies point one way (README, "Architecture").

    ipt_clinic ← notifications ← patients ← phases ← sessions ← portal, caseload, interop, letters ← demo

A module may import its own app and the apps below it, never one above it or beside it (the
two entry points, portal and caseload, never import each other: what they share moves down).
Templates follow the same order: a template of one app loads tag libraries and includes
templates only of its own layer and below. Inside the project's code no two modules import
each other at module level (an import cycle).

The graph is read from the source (every ``import`` statement, also those inside functions),
so a new upward import fails here before it can work by accident of import order.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {
    "ipt_clinic": 0,
    "notifications": 1,
    "patients": 2,
    "phases": 3,
    "sessions": 4,
    "portal": 5,
    "caseload": 5,
    "interop": 5,
    "letters": 5,
    "demo": 6,
}
# Template folders by the app whose pages they are.
TEMPLATE_APPS = {
    "accounts": "ipt_clinic",
    "errors": "ipt_clinic",
    "partials": "ipt_clinic",
    "notifications": "notifications",
    "patients": "patients",
    "phases": "phases",
    "sessions": "sessions",
    "portal": "portal",
    "caseload": "caseload",
    "interop": "interop",
    "letters": "letters",
}


def _modules() -> dict[str, Path]:
    found = {}
    for app in LAYERS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(module: str, path: Path) -> list[tuple[str, int, bool]]:
    """(imported module, line, at module level) for every import in the file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    top_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # "from x import y" may import the module x.y or a name of x: take x.y when it is
            # a module of the project.
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            found.append((name, node.lineno, id(node) in top_level))
    return found


def _app(module: str) -> str | None:
    top = module.split(".")[0]
    return top if top in LAYERS else None


def test_it_imports_only_its_own_layer_and_below():
    wrong = []
    for module, path in MODULES.items():
        importer = _app(module)
        for imported, line, _ in _imports(module, path):
            target = _app(imported)
            if target is None or target == importer:
                continue
            if LAYERS[target] >= LAYERS[importer]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} {importer} imports {imported}")
    assert wrong == [], "imports against the layer order:\n" + "\n".join(wrong)


def test_it_has_no_import_cycle():
    graph = {
        module: {
            imported
            for imported, _, at_module_level in _imports(module, path)
            if at_module_level and imported in MODULES and imported != module
        }
        for module, path in MODULES.items()
    }
    # A package's own __init__ importing its submodules is not a cycle through them.
    cycles = []
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in graph[node]:
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in graph:
        if module not in index:
            visit(module)
    assert cycles == []


TAG_LIBRARIES = {
    path.stem: _app(".".join(path.relative_to(ROOT).parts[:1]))
    for app in LAYERS
    for path in (ROOT / app).glob("**/templatetags/*.py")
    if path.stem != "__init__"
}
LOAD = re.compile(r"{%\s*load\s+([^%]+?)\s*%}")
INCLUDE = re.compile(r"""{%\s*(?:include|extends)\s+["']([^"']+)["']""")


def _template_app(relative: str) -> str | None:
    folder = relative.split("/")[0]
    return TEMPLATE_APPS.get(folder, "ipt_clinic" if "/" not in relative else None)


def test_its_templates_load_and_include_only_their_layer_and_below():
    wrong = []
    for path in (ROOT / "templates").rglob("*.html"):
        relative = path.relative_to(ROOT / "templates").as_posix()
        owner = _template_app(relative)
        if owner is None:
            continue
        text = path.read_text()
        used = []
        for names in LOAD.findall(text):
            for name in names.split():
                if name == "from":
                    break
                used.append((f"tag library {name}", TAG_LIBRARIES.get(name)))
        for included in INCLUDE.findall(text):
            used.append((f"template {included}", _template_app(included)))
        for what, target in used:
            if target is not None and target != owner and LAYERS[target] >= LAYERS[owner]:
                wrong.append(f"templates/{relative} ({owner}) uses {what} of {target}")
    assert wrong == [], "templates against the layer order:\n" + "\n".join(wrong)


@pytest.mark.parametrize(
    ("importer", "imported", "allowed"),
    [
        ("sessions", "phases", True),
        ("phases", "sessions", False),
        ("portal", "caseload", False),
        ("interop", "sessions", True),
        ("caseload", "interop", False),
        ("notifications", "patients", False),
        ("ipt_clinic", "notifications", False),
    ],
)
def test_the_rule_itself(importer, imported, allowed):
    """The rule the tests above apply, on the cases the README names."""
    assert (LAYERS[imported] < LAYERS[importer]) is allowed
