"""protocol/SPEC.md stays true: its generated tables match the schema, its example the vectors."""
import json
import re
import subprocess
import sys

from conftest import ROOT


def test_spec_tables_are_generated_from_the_current_schema():
    proc = subprocess.run([sys.executable, "tools/make_spec_tables.py", "--check"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_spec_lists_every_message_once():
    from protocol.schema import rows
    spec = (ROOT / "protocol" / "SPEC.md").read_text(encoding="utf-8")
    for type_id, name, *_ in rows():
        assert len(re.findall(r"^\| 0x%02X \| %s \|" % (type_id, name), spec, re.M)) == 1, name


def test_worked_example_matches_the_vector_bytes():
    spec = (ROOT / "protocol" / "SPEC.md").read_text(encoding="utf-8")
    example = re.search(r"^stuffed\s+(.*)$", spec, re.M).group(1)
    example_hex = "".join(re.findall(r"\b[0-9a-f]{2}\b", example.split("  ")[0]))
    vectors = [json.loads(line) for line in
               (ROOT / "protocol/vectors/vectors.jsonl").read_text(encoding="utf-8").split("\n") if line]
    typical = next(v for v in vectors if v["name"] == "call_next_typical")
    assert example_hex == typical["frame"]
