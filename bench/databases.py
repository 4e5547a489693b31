"""Where seeded databases live: one cached seed per (backend, seed settings, generator, schema),
and throwaway working copies that the benchmark runs on, so a run never changes the cache.

SQLite: files under `data/bench/` (git- and docker-ignored), the summary beside each in JSON.
PostgreSQL: databases named `bench_missingbot_seed_<size>_<key>` with the summary as the
database's comment; copies are `CREATE DATABASE ... TEMPLATE` (a file copy, seconds even at a
million episodes). A seed is written under a temporary name and renamed when complete, so an
interrupted seed is never mistaken for a finished one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench import seed as generator
from storage.migrate import head_revision

ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = ROOT / "data" / "bench"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_PREFIX = "bench_missingbot_"


@dataclass(frozen=True)
class Seeded:
    backend: str
    url: str
    summary: dict[str, Any]


def pg_server_url(pg_url: str | None) -> str:
    return pg_url or os.environ.get("BENCH_PG_URL") or DEFAULT_PG_URL


def cache_key(backend: str, config: generator.SeedConfig) -> str:
    """Changes whenever the data would: the settings, the generator's code, the reminder rules
    it mirrors and the schema. Editing bench/seed.py (after_seed included) reseeds."""
    sources = [Path(generator.__file__), ROOT / "bot" / "domain" / "rhi.py"]
    digest = hashlib.sha256()
    digest.update(
        json.dumps(
            [backend, config.identity(), generator.GENERATOR_VERSION, head_revision()],
            sort_keys=True,
        ).encode()
    )
    for source in sources:
        digest.update(source.read_bytes())
    return digest.hexdigest()[:10]


def _sqlite_path(config: generator.SeedConfig, key: str) -> Path:
    return CACHE_DIR / f"seed-{config.size}-{key}.sqlite3"


def _pg_name(config: generator.SeedConfig, key: str) -> str:
    return f"{PG_PREFIX}seed_{config.size}_{key}"


def _pg_url(server: str, database: str) -> str:
    return make_url(server).set(database=database).render_as_string(hide_password=False)


def _admin(server: str) -> Any:
    return create_engine(server, isolation_level="AUTOCOMMIT")


def find_cached(
    backend: str, config: generator.SeedConfig, *, pg_url: str | None = None
) -> Seeded | None:
    key = cache_key(backend, config)
    if backend == "sqlite":
        path = _sqlite_path(config, key)
        summary = path.with_suffix(".json")
        if path.exists() and summary.exists():
            return Seeded(backend, f"sqlite:///{path}", json.loads(summary.read_text()))
        return None
    server = pg_server_url(pg_url)
    name = _pg_name(config, key)
    admin = _admin(server)
    try:
        with admin.connect() as conn:
            comment = conn.scalar(
                text(
                    "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                    "WHERE datname = :name"
                ),
                {"name": name},
            )
    finally:
        admin.dispose()
    if not comment:
        return None
    return Seeded(backend, _pg_url(server, name), json.loads(comment))


def ensure_seeded(
    backend: str,
    config: generator.SeedConfig,
    *,
    pg_url: str | None = None,
    reseed: bool = False,
) -> Seeded:
    """The cached seed, made now (in this process) if missing or if `reseed`."""
    if not reseed:
        found = find_cached(backend, config, pg_url=pg_url)
        if found is not None:
            print(f"using the cached seed {found.url}")
            return found
    key = cache_key(backend, config)
    if backend == "sqlite":
        CACHE_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = _sqlite_path(config, key)
        building = path.with_name(path.name + ".building")
        _remove_sqlite(building)
        summary = generator.seed(f"sqlite:///{building}", config)
        _remove_sqlite(path)
        # The WAL was checkpointed and every connection closed: the main file is the database.
        for suffix in ("-wal", "-shm"):
            Path(f"{building}{suffix}").unlink(missing_ok=True)
        building.rename(path)
        path.with_suffix(".json").write_text(json.dumps(summary, indent=2))
        return Seeded(backend, f"sqlite:///{path}", summary)
    server = pg_server_url(pg_url)
    name = _pg_name(config, key)
    building_name = name + "_building"
    admin = _admin(server)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{building_name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{building_name}"'))
        summary = generator.seed(_pg_url(server, building_name), config)
        with admin.connect() as conn:
            conn.execute(
                text(f'COMMENT ON DATABASE "{building_name}" IS {_literal(json.dumps(summary))}')
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'ALTER DATABASE "{building_name}" RENAME TO "{name}"'))
    finally:
        admin.dispose()
    return Seeded(backend, _pg_url(server, name), summary)


def seed_in_subprocess(
    backend: str,
    config: generator.SeedConfig,
    *,
    pg_url: str | None = None,
    reseed: bool = False,
) -> Seeded:
    """Seed (if needed) in a child process, so that the seed's memory is not in this process's
    peak RSS; then return the cached seed."""
    if not reseed:
        found = find_cached(backend, config, pg_url=pg_url)
        if found is not None:
            return found
    command = [
        sys.executable,
        "-m",
        "bench.seed",
        "--backend",
        backend,
        "--size",
        str(config.size),
        "--open-rhis",
        str(config.open_rhis),
        "--due",
        str(config.due),
        "--years",
        str(config.years),
        "--now",
        config.now.isoformat(),
        "--seed",
        str(config.seed),
    ]
    if pg_url:
        command += ["--pg-url", pg_url]
    if reseed:
        command.append("--reseed")
    subprocess.run(command, check=True, cwd=ROOT)
    found = find_cached(backend, config, pg_url=pg_url)
    if found is None:
        raise RuntimeError("seeding finished but no cached seed was found")
    return found


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


# ---- working copies --------------------------------------------------------------------------


def work_copy(seeded: Seeded, tag: str) -> str:
    """A fresh copy of the seed to run on; its URL. Drop it with `drop_copy`."""
    if seeded.backend == "sqlite":
        source = Path(make_url(seeded.url).database or "")
        target = CACHE_DIR / f"work-{os.getpid()}-{tag}.sqlite3"
        _remove_sqlite(target)
        shutil.copyfile(source, target)
        target.chmod(0o600)  # children's records, even made-up ones: the owner's alone
        return f"sqlite:///{target}"
    url = make_url(seeded.url)
    server = url.set(database="postgres").render_as_string(hide_password=False)
    name = f"{PG_PREFIX}work_{os.getpid()}_{tag}"
    admin = _admin(server)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(
                text(f'CREATE DATABASE "{name}" TEMPLATE "{url.database}" STRATEGY FILE_COPY')
            )
    finally:
        admin.dispose()
    return _pg_url(server, name)


def drop_copy(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        _remove_sqlite(Path(parsed.database or ""))
        return
    admin = _admin(parsed.set(database="postgres").render_as_string(hide_password=False))
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    finally:
        admin.dispose()


def clean(pg_url: str | None) -> Iterator[str]:
    """Remove every cached seed and working copy (files here, databases on the server)."""
    if CACHE_DIR.exists():
        for path in sorted(CACHE_DIR.iterdir()):
            if path.name.startswith(("seed-", "work-", "serve-")):
                path.unlink()
                yield f"removed {path}"
    admin = _admin(pg_server_url(pg_url))
    try:
        with admin.connect() as conn:
            names = conn.scalars(
                text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                {"p": PG_PREFIX.replace("_", r"\_") + "%"},
            ).all()
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                yield f"dropped database {name}"
    except Exception as exc:  # no PostgreSQL here: the SQLite caches are gone all the same
        yield f"PostgreSQL not cleaned: {type(exc).__name__}"
    finally:
        admin.dispose()
