"""Constants folded into device code at build time. A module's `from protocol.codes import
OK, ...` compiles as `const()` definitions of the same names on the same lines, with the
values read from the host's protocol.codes (still their one definition), so a device never
loads the 80-name codes module and every use becomes a literal. Public (`OK = const(0)`): the
name stays in the module's globals for whoever imports it from there; private
(`_OK = const(0)`, every use renamed): it costs no heap at all, for modules nobody imports
codes from (tests/test_joined_core.py checks which)."""
import ast
import importlib
import io
import tokenize

# Modules whose code names other modules import from them (or read as module.NAME)
PUBLIC = ("protocol/frame.py", "protocol/link.py", "protocol/bus.py",
          "firmware/drivers/escpos.py")


class FoldError(Exception):
    pass


def fold(text, modules=("protocol.codes",), private=False, own=False):
    """text with the int names it imports from `modules` folded; own: its own module-level
    const() names made private too (for a module nobody imports from: the joined core)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return text                       # mpy-cross says where, in its own words
    lines = text.split("\n")
    renamed = {}
    for node in reversed(tree.body):
        if isinstance(node, ast.ImportFrom) and node.module in modules:
            module = importlib.import_module(node.module)
            keep, defs = [], []
            for alias in node.names:
                value = getattr(module, alias.name, None)
                bound = alias.asname or alias.name
                if type(value) is int and bound.isupper():
                    name = "_" + bound if private else bound
                    renamed[bound] = name
                    defs.append("%s = const(%d)" % (name, value))
                elif node.module == "protocol.codes":
                    raise FoldError("protocol.codes has no code %s" % alias.name)
                else:
                    keep.append(alias.name if alias.asname is None
                                else "%s as %s" % (alias.name, alias.asname))
            if keep:
                defs.insert(0, "from %s import %s" % (node.module, ", ".join(keep)))
            span = node.end_lineno - node.lineno + 1
            lines[node.lineno - 1:node.end_lineno] = ["; ".join(defs)] + [""] * (span - 1)
        elif own and isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and \
                isinstance(node.value.func, ast.Name) and node.value.func.id == "const":
            for target in node.targets:
                if isinstance(target, ast.Name) and not target.id.startswith("_"):
                    renamed[target.id] = "_" + target.id
    text = "\n".join(lines)
    if not private and not own:
        return text
    out = []
    previous = None
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.NAME and renamed.get(tok.string, tok.string) != tok.string \
                and not (previous is not None and previous.string == "."):
            tok = tok._replace(string=renamed[tok.string])
        out.append(tok)
        if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT):
            previous = tok
    return tokenize.untokenize(out)
