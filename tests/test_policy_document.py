"""config/policy.yaml is the shared policy text, clause by clause, verbatim."""

import re
from collections import Counter
from pathlib import Path

import pytest

from policy.configdir import load_config_dir

# The school's document as it was given to the project, kept in the checkout (not read from
# beside it), so that the test holds on any machine.
SOURCE = Path(__file__).resolve().parent / "data" / "social-media-policy.txt"


def words(text: str) -> str:
    """Compare words, not layout: the source's markdown emphasis and list dashes are not text."""
    return " ".join(re.sub(r"[*]", "", text).split())


@pytest.fixture(scope="module")
def clauses() -> dict[str, object]:
    return {c.id: c for c in load_config_dir().policy.clauses}


def test_every_numbered_clause_of_the_document_is_addressable(clauses: dict[str, object]) -> None:
    source = SOURCE.read_text()
    numbered = re.findall(r"^\s*(?:-\s+)?(\d+(?:\.\d+)*)\s", source, flags=re.MULTILINE)
    expected = [n for n in numbered if n not in ("2019",)]
    assert list(clauses) == expected
    for must in ("2.1", "6.1.1", "6.1.10", "7", "8", "8.1", "10.1", "11.3.1.1", "11.4.3", "12.3"):
        assert must in clauses


def test_every_clause_text_appears_verbatim_in_the_source(clauses: dict[str, object]) -> None:
    source = words(SOURCE.read_text())
    for clause in clauses.values():
        for part in (clause.heading, clause.text, clause.continuation):  # type: ignore[attr-defined]
            if part:
                assert words(part) in source, f"clause {clause.id} is not verbatim: {part[:60]!r}"  # type: ignore[attr-defined]


def test_all_of_the_source_text_is_kept(clauses: dict[str, object]) -> None:
    kept = Counter(
        word
        for c in clauses.values()
        for part in (c.heading, c.text, c.continuation)  # type: ignore[attr-defined]
        if part
        for word in words(part).split()
    )
    body = SOURCE.read_text().split("1 **Policy Statement**", 1)[1]
    lines = ["Policy Statement", *body.splitlines()]
    source = Counter(
        word
        for line in lines
        for word in words(re.sub(r"^\s*(?:-\s+)?(?:\d+(?:\.\d+)*(?:\s|$))?", "", line)).split()
    )
    assert kept == source


def test_clause_7_and_8_1_read_as_the_policy_says(clauses: dict[str, object]) -> None:
    assert clauses["7"].heading == "Personal Use Of Social Media"  # type: ignore[attr-defined]
    assert clauses["7"].text.startswith("Personal use of social media is never permitted")  # type: ignore[attr-defined]
    assert clauses["8.1"].text.startswith("You must not contact any student")  # type: ignore[attr-defined]
    assert "Miss Newman" in clauses["5.1"].text  # type: ignore[attr-defined]


def test_document_metadata_is_there() -> None:
    policy = load_config_dir().policy
    assert policy.school.name == "Wycliffe Church of England Primary School"
    assert policy.school.headteacher == "Miss Newman"
    assert str(policy.document.approved_on).startswith("2017-02")
    assert str(policy.document.review_on).startswith("2019-02")
    assert policy.document.version
