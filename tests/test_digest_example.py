"""docs/digest-example.md is what the renderer makes of the busy day today."""

from __future__ import annotations

from tests.digest_example import DOC, render


def test_the_example_in_the_docs_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/digest-example.md is out of date: run `python -m tests.digest_example`"
    )
