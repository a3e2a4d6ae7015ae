"""The routing core as a device loads it: its rooms (firmware/routing/durable.py, day.py, ...,
each a class of methods that RoutingCore is the sum of) joined into one module with one
class. Each extra module costs a device about a kilobyte of heap (its globals, its class,
its share of the qstr and constant tables), and a mixin's methods are found only after a walk
through the bases; joined, the hub holds what one module held, and the rooms' const()
names are inlined where they are used. CPython and the tests import the rooms as written;
hallctl flash, hallsim and tools/bench.py compile this joined text in their place."""
import ast
from pathlib import Path

from hallpc.fold import fold

CORE = "firmware/routing/core.py"
CLASS = "RoutingCore"
HELPERS = ("firmware/routing/stats.py",)     # modules only the core and its rooms import


class JoinError(Exception):
    pass


def rooms(root):
    """The modules (paths relative to root) joined into the core: its rooms and helpers."""
    return [path for path, _ in _rooms(ast.parse((Path(root) / CORE).read_text()))] + \
        list(HELPERS)


def _rooms(tree):
    cls = _class(tree, CLASS, CORE)
    where = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("firmware.routing."):
            for alias in node.names:
                where[alias.asname or alias.name] = node.module
    found = []
    for base in cls.bases:
        if not isinstance(base, ast.Name) or base.id not in where:
            raise JoinError("%s: base %s is not imported from a room" % (CORE, ast.dump(base)))
        path = where[base.id].replace(".", "/") + ".py"
        found.append((path, base.id))
    return found


def _class(tree, name, path):
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return node
    raise JoinError("%s: no class %s" % (path, name))


def join(root):
    """The source text of the joined core."""
    root = Path(root)
    core_text = (root / CORE).read_text()
    core_tree = ast.parse(core_text)
    room_list = _rooms(core_tree)
    room_modules = {path[:-3].replace("/", ".") for path, _ in room_list}
    room_modules.update(path[:-3].replace("/", ".") for path in HELPERS)
    imports = {}          # module -> {name: asname}, in first-seen order
    plain = []            # `import x` lines
    top = []              # module-level statements, rooms first, in order
    names = {}            # module-level name -> where it was defined
    methods = {}          # method name -> where
    body = []

    def define(name, where):
        if name in names and names[name] != where:
            raise JoinError("%s and %s both define %s" % (names[name], where, name))
        names[name] = where

    def take(path, text, tree, class_name):
        lines = text.split("\n")
        for node in tree.body:
            start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", ())])
            segment = "\n".join(lines[start - 1:node.end_lineno])
            if isinstance(node, ast.ImportFrom):
                if node.module in room_modules:
                    continue
                table = imports.setdefault(node.module, {})
                for alias in node.names:
                    bound = alias.asname or alias.name
                    if bound in names and names[bound] != "import %s" % node.module:
                        raise JoinError("%s: %s is imported from two places" % (path, bound))
                    names[bound] = "import %s" % node.module
                    table[alias.name] = alias.asname
            elif isinstance(node, ast.Import):
                if segment not in plain:
                    plain.append(segment)
            elif isinstance(node, ast.ClassDef) and node.name == class_name:
                for item in node.body:
                    if isinstance(item, ast.FunctionDef):
                        if item.name in methods:
                            raise JoinError("%s and %s both define %s.%s"
                                            % (methods[item.name], path, CLASS, item.name))
                        methods[item.name] = path
                        first = min([item.lineno] + [d.lineno for d in item.decorator_list])
                        body.append("\n".join(lines[first - 1:item.end_lineno]))
                    elif not (isinstance(item, ast.Expr) and isinstance(item.value, ast.Constant)):
                        raise JoinError("%s: class %s holds more than methods" % (path, class_name))
            elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                continue                                   # a docstring
            else:
                for target in _bound(node):
                    define(target, path)
                top.append(segment)

    for path in HELPERS:
        text = (root / path).read_text()
        take(path, text, ast.parse(text), None)
    for path, class_name in room_list:
        text = (root / path).read_text()
        take(path, text, ast.parse(text), class_name)
    take(CORE, core_text, core_tree, CLASS)
    out = ["# Built by hallpc.joined from %s, its rooms and helpers (%s): do not edit."
           % (CORE, ", ".join(Path(p).name for p in [p for p, _ in room_list] + list(HELPERS)))]
    out += plain
    for module, table in imports.items():
        parts = [name if alias is None else "%s as %s" % (name, alias)
                 for name, alias in table.items()]
        out.append("from %s import %s" % (module, ", ".join(parts)))
    out += [""] + top + ["", "", "class %s:" % CLASS] + ["\n\n".join(body)]
    # Nobody imports a name from the core on a device: its codes, service fields and own
    # const() names (the operations) become private consts, folded and not stored.
    return fold("\n".join(out) + "\n", ("protocol.codes", "firmware.routing.config"),
                private=True, own=True)


def _bound(node):
    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    raise JoinError("line %d: a statement the joiner does not know how to carry" % node.lineno)
