"""The house rules, checked on the source: imports run one way, downward, and modules stay small.

Every import counts, including those inside functions (that is where
circles used to hide).
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "dashboard"

# Lower layers never import higher ones.  Packages of one layer do not import each other.
LAYERS = {
    "config": 0, "schema": 0, "view": 0, "boundaries": 0, "basemap": 0,
    "ingest": 1, "territory": 1,
    "store": 2,
    "render": 3,
    "export": 4,
    "web": 5,
    "cli": 6, "commands": 6, "wsgi": 6, "__main__": 6, "__init__": 6,
}
# Only the opener and the entry points name a store implementation.
IMPLEMENTATIONS = {
    "dashboard.store.memory", "dashboard.store.open", "dashboard.store.postgis", "dashboard.store.pg",
    "dashboard.store.pg_import", "dashboard.store.pg_views", "dashboard.store.cached",
}
MAY_NAME_IMPLEMENTATIONS = {"dashboard.store", "dashboard.cli", "dashboard.commands", "dashboard.wsgi"}
MAX_LINES = 450


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every dashboard module this file imports, anywhere in it."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("dashboard"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("dashboard"):
                continue
            for alias in node.names:  # `from . import config` imports a module
                candidate = f"{target}.{alias.name}"
                found.add(candidate if _exists(candidate) else target)
    return {m for m in found if m != name}


def _exists(module: str) -> bool:
    relative = Path(*module.split(".")[1:])
    return (PACKAGE / relative).with_suffix(".py").exists() or (PACKAGE / relative / "__init__.py").exists()


def layer_of(module: str) -> int:
    parts = module.split(".")
    return LAYERS[parts[1]] if len(parts) > 1 else LAYERS["__init__"]


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in PACKAGE.rglob("*.py")}


def test_every_module_has_a_layer():
    assert {m.split(".")[1] for m in graph() if "." in m} <= set(LAYERS)


def test_imports_only_go_down():
    upward = []
    for module, targets in graph().items():
        for target in targets:
            same_package = module.split(".")[:2] == target.split(".")[:2]
            if not same_package and layer_of(target) >= layer_of(module) and layer_of(module) < 6:
                upward.append(f"{module} imports {target}")
    assert upward == []


def test_no_import_circle():
    edges = graph()
    state: dict[str, int] = {}  # 1 visiting, 2 done
    circles = []

    def visit(module, trail):
        state[module] = 1
        for target in sorted(edges.get(module, ())):
            if state.get(target) == 1:
                circles.append(" -> ".join(trail[trail.index(target):] + [target]) if target in trail else f"{module} -> {target}")
            elif target not in state:
                visit(target, trail + [target])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert circles == []


def test_render_web_and_export_ask_only_the_contract():
    named = [
        f"{module} imports {target}"
        for module, targets in graph().items()
        for target in targets & IMPLEMENTATIONS
        if not any(module == allowed or module.startswith(allowed + ".") for allowed in MAY_NAME_IMPLEMENTATIONS)
    ]
    assert named == []


def test_modules_stay_small():
    large = {module_name(p): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert large == {}


def test_only_config_reads_the_environment():
    readers = [
        module_name(p) for p in PACKAGE.rglob("*.py")
        if module_name(p) != "dashboard.config" and ("os.environ" in (text := p.read_text(encoding="utf-8")) or "getenv(" in text)
    ]
    assert readers == []
