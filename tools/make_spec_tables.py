"""Regenerates the generated parts of protocol/SPEC.md from the schema and code tables.

    python tools/make_spec_tables.py          # rewrite SPEC.md in place
    python tools/make_spec_tables.py --check  # exit 1 if SPEC.md is out of date (a test runs this)
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from protocol import codenames as codes  # noqa: E402
from protocol.schema import rows, TYPE_NAMES  # noqa: E402

SPEC = ROOT / "protocol" / "SPEC.md"
BEGIN = "<!-- generated:%s -->"
END = "<!-- end:%s -->"


def messages_table():
    out = ["| id | name | must-deliver | fields (in wire order) |", "|---|---|---|---|"]
    for type_id, name, must, names, types in rows():
        fields = ", ".join("%s: %s" % (n, TYPE_NAMES[t]) for n, t in zip(names, types)) or "(none)"
        out.append("| 0x%02X | %s | %s | %s |" % (type_id, name, "yes" if must else "no", fields))
    return "\n".join(out)


CODE_TABLES = [
    ("status.role", codes.ROLES), ("status.reset_cause", codes.RESET_CAUSES),
    ("status.printer", codes.PRINTER_STATES), ("ticket_refused.reason", codes.REFUSE_REASONS),
    ("print_result.result", codes.PRINT_RESULTS), ("command_result.result", codes.COMMAND_RESULTS),
    ("window_state.state", codes.WINDOW_STATES), ("window_state.phase", codes.PHASES),
    ("display_update.voice", codes.VOICE_CUES), ("rating_result.result", codes.RATING_RESULTS),
    ("alert.kind", codes.ALERT_KINDS), ("kind (ticket class)", codes.TICKET_KINDS),
    ("nak.code", codes.NAK_CODES),
]


def codes_table():
    out = ["| field | codes |", "|---|---|"]
    for field, table in CODE_TABLES:
        out.append("| %s | %s |" % (field, ", ".join("%d %s" % (i, n) for i, n in enumerate(table) if n)))
    return "\n".join(out)


SECTIONS = {"messages": messages_table, "codes": codes_table}


def render(text):
    for name, make in SECTIONS.items():
        begin, end = BEGIN % name, END % name
        head, _, rest = text.partition(begin)
        _, _, tail = rest.partition(end)
        if not rest:
            raise SystemExit("SPEC.md lacks the marker %s" % begin)
        text = head + begin + "\n" + make() + "\n" + end + tail
    return text


def main():
    text = SPEC.read_text(encoding="utf-8")
    new = render(text)
    if "--check" in sys.argv:
        if new != text:
            print("protocol/SPEC.md is out of date: run python tools/make_spec_tables.py")
            return 1
        return 0
    SPEC.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
