"""The busy-day digest as text, for docs/digest-example.md: `python -m tests.digest_example`.

Made by the real services and renderer (a SQLite file, a fake clock, a recording notifier in
place of Slack); `tests/test_digest_example.py` checks the file in the docs is what this makes.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from handlers.blocks.as_text import as_text
from storage.db import make_engine
from storage.migrate import upgrade
from tests.services.conftest import make_world
from tests.support.busy_day import AT, seed_busy_day

DOC = Path(__file__).resolve().parent.parent / "docs" / "digest-example.md"

INTRO = """# A busy day's digest, as text

What the safeguarding channel shows at 08:00 on Wed 25/11/2026 for the busy day the tests use
(`tests/support/busy_day.py`), rendered by the bot's own renderer and printed as text by
`handlers/blocks/as_text.py` (the chat markup left as Slack receives it: `*bold*`, emoji
codes, `<@U…>` mentions). The test `tests/test_digest.py` checks each figure and list of this
same digest against counts made from the seeded episodes. Regenerate with
`python -m tests.digest_example`.

"""


def render() -> str:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/example.sqlite3"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        world = make_world(url)
        try:
            world.services.sweeper.run_once()  # plans the digest for 08:00 tomorrow
            seed_busy_day(world.services.db)
            world.clock.set(AT)
            world.services.sweeper.run_once()
            [digest] = [r for r in world.notifier.sent if r.key.startswith("digest:")][:1]
            [chart] = [r for r in world.notifier.sent if r.key.endswith(":chart")]
        finally:
            world.services.close()
    return (
        INTRO
        + "```text\n"
        + as_text(digest.payload)
        + "\n```\n\nIn its thread, the chart (a 1000×450 PNG), with this comment:\n\n> "
        + str(chart.payload["initial_comment"])
        + "\n"
    )


if __name__ == "__main__":
    DOC.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {DOC}\n")
