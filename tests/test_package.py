"""What replies.py imports: one package, one import line."""

import ast
from pathlib import Path

import sms_webhook
from tests.support.builds import PROJECT


def test_the_package_exports_what_a_reply_needs():
    assert sorted(sms_webhook.__all__) == [
        "Conversation",
        "IncomingMessage",
        "OptedOutError",
        "OutsideWhatsAppWindowError",
        "Reply",
        "Router",
        "Text",
        "Timer",
        "cancel_text",
        "now",
        "send_text",
    ]
    assert all(hasattr(sms_webhook, name) for name in sms_webhook.__all__)


def module_imports(path: Path) -> set[str]:
    """The project modules a file imports, at any level, in functions too."""
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            imported |= {name for name in names if name in MODULES} or {node.module}
    return imported & MODULES.keys()


MODULES = {
    f"sms_webhook.{path.stem}": path
    for path in (PROJECT / "sms_webhook").glob("*.py")
    if path.stem != "__init__"
} | {
    "sms_webhook": PROJECT / "sms_webhook" / "__init__.py",
    "handler": PROJECT / "handler.py",
    "replies": PROJECT / "replies.py",
}


def cycle_from(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        path.append(module)
        for imported in sorted(graph[module]):
            if found := visit(imported):
                return found
        path.pop()
        return None

    return visit(start)


def test_no_module_of_the_function_imports_itself_through_others():
    graph = {module: module_imports(path) for module, path in MODULES.items()}

    cycles = [cycle for module in graph if (cycle := cycle_from(module, graph))]

    assert cycles == []
