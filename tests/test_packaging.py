"""`pip install .` (not editable) gives a working bot with its migrations."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from storage.migrate import head_revision

ROOT = Path(__file__).resolve().parent.parent


def test_installed_package_carries_migrations(tmp_path: Path) -> None:
    target = tmp_path / "site"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert build.returncode == 0, build.stderr
    assert (target / "storage" / "migrations" / "script.py.mako").exists()
    env = {
        **os.environ,
        "PYTHONPATH": str(target),
        "DATABASE_URL": f"sqlite:///{tmp_path}/installed.sqlite3",
    }
    # Run from an empty directory so that nothing is imported from the checkout.
    result = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert f"database at revision {head_revision()}" in result.stdout
    where = subprocess.run(
        [sys.executable, "-c", "import bot; print(bot.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert where.stdout.startswith(str(target))

    # The offline demo comes with `pip install .` and runs from the installed package.
    demo = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        cwd=tmp_path,
        env={**env, "DEMO_DATABASE_URL": f"sqlite:///{tmp_path}/demo.sqlite3"},
        input=":quit\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert demo.returncode == 0, demo.stderr
    assert "Nothing is sent to Slack" in demo.stdout


def test_the_image_copies_only_what_production_runs() -> None:
    """The Dockerfile's COPY lines name the product's packages, never the demo or the fake."""
    copies = [
        line.split()[1:-1]
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line.startswith("COPY") and "--from" not in line
    ]
    copied = {name.rstrip("/") for sources in copies for name in sources}
    assert {"bot", "handlers", "storage"} <= copied
    assert not copied & {"demo", "fakeslack", "bench", "tests", "."}
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {"demo", "fakeslack", "tests"} <= set(ignored)
