"""The layers point one way (see tests/architecture.py for the rules)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import COMMANDS, load
from tests.architecture import PRODUCT, package_graph, violations

ROOT = Path(__file__).resolve().parent.parent


def test_the_code_keeps_the_layering_rules() -> None:
    assert violations(ROOT) == []


def test_storage_and_domain_sit_at_the_bottom() -> None:
    graph = package_graph(ROOT)
    assert graph.get("storage", set()) <= {"bot.domain"}
    assert graph.get("bot.domain", set()) == set()
    assert "storage" not in graph.get("handlers", set())


def test_each_command_the_cli_loads_by_name_is_product_code() -> None:
    """The CLI imports a command's module only once it is chosen (by name, which the import
    rules above cannot see): each name must be a product module, never the demo or the fake."""
    for name, command in COMMANDS.items():
        assert command.module.split(".")[0] in PRODUCT, f"{name} runs {command.runs}"
        assert callable(load(command)), f"{name}: {command.runs} is not a function"


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, source in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return tmp_path


@pytest.mark.parametrize(
    ("path", "source", "broken"),
    [
        ("storage/bad.py", "from bot.services.outbox import Outbox\n", "storage imports"),
        ("storage/bad.py", "import handlers.commands\n", "storage imports"),
        ("bot/domain/bad.py", "import sqlalchemy\n", "the domain uses only"),
        ("bot/domain/bad.py", "from storage.models import Episode\n", "the domain is pure"),
        ("handlers/bad.py", "from storage import queries\n", "handlers only speak Slack"),
        ("bot/services/bad.py", "from handlers.renderer import SlackRenderer\n", "services"),
        ("bot/web2.py", "from fakeslack import FakeSlack\n", "never imports the demo"),
        ("handlers/lazy.py", "def f():\n    from bot.app import build_app\n", "inside a function"),
    ],
)
def test_each_rule_catches_a_breaking_import(
    tmp_path: Path, path: str, source: str, broken: str
) -> None:
    root = _tree(tmp_path, {path: source, "bot/domain/ok.py": "from dateutil import parser\n"})
    problems = violations(root)
    assert len(problems) >= 1 and all(broken in p for p in problems[:1]), problems


def test_what_is_allowed_stays_allowed(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "storage/ok.py": "from bot.domain.states import Risk\nimport sqlalchemy\n",
            "bot/domain/ok.py": "import re\nfrom dateutil import tz\nfrom bot.domain import refs\n",
            "handlers/ok.py": "from bot.services.results import EpisodeCard\n",
            "bot/app.py": "import handlers\nimport storage.db\n",
            "tests/t.py": "def f():\n    from storage.db import make_engine\n",
            "bot/x.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import storage\n",
        },
    )
    assert violations(root) == []
