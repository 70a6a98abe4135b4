"""The JavaScript twin's contracts equal the Python ones: id patterns (policy/ids.py), the closed
vocabularies (policy/vocabulary.py) and every event field's spec (policy/event.py).

The shared vectors test behaviour on chosen cases; this compares the definitions themselves, so
a pattern or a limit changed on one side only fails here."""

import json
import subprocess
from pathlib import Path

from policy import ids, vocabulary
from policy.event import EVENT_SPECS, MAX_CLAUSES, RESPONSES

HERE = Path(__file__).resolve().parent


def test_javascript_ids_vocabularies_and_event_specs_are_pythons(node: str, tmp_path: Path) -> None:
    out = tmp_path / "contracts.json"
    subprocess.run([node, str(HERE / "contracts_dump.mjs"), str(out)], check=True)
    js = json.loads(out.read_text(encoding="utf-8"))
    assert js["patterns"] == {name: p.pattern for name, p in ids.PATTERNS.items()}
    assert js["vocabulary"] == {
        "CATEGORIES": list(vocabulary.CATEGORIES),
        "ACTIONS": list(vocabulary.ACTIONS),
        "OUTCOMES": list(vocabulary.OUTCOMES),
        "ACCOUNT_KINDS": list(vocabulary.ACCOUNT_KINDS),
        "PRIVACY_LEVELS": list(vocabulary.PRIVACY_LEVELS),
        "RESPONSES": list(RESPONSES),
    }
    assert js["max_clauses"] == MAX_CLAUSES
    assert js["specs"] == [
        {
            "name": s.name,
            "json_type": s.json_type,
            "nullable": s.nullable,
            "enum": list(s.enum),
            "pattern": None if s.pattern is None else s.pattern.pattern,
            "max_length": s.max_length,
            "max_items": s.max_items,
            "problem": s.problem,
        }
        for s in EVENT_SPECS
    ]
