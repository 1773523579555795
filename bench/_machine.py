"""Shared helpers of the benchmarks: machine facts, fresh databases, environments, commands.

Every script prints one JSON object with ``machine`` (from :func:`machine_facts`) so a figure
always comes with where it was measured. Data is synthetic (``generate-members``).
"""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var" / "bench"
BIN = Path(sys.executable).parent
TIERSPAYANT = str(BIN / "tierspayant")
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
AS_OF = "2026-11-29"  # generated files and checks use this date, so runs are comparable
# PostgreSQL settings printed with every figure: they decide bulk-write speed (WAL, checkpoints)
PG_SETTINGS = ("shared_buffers", "max_wal_size", "checkpoint_timeout", "wal_compression")


def machine_facts(pg_url: str | None = None) -> dict[str, Any]:
    """Cores, CPU model, memory, load, Python, SQLite and (if reachable) PostgreSQL versions."""
    facts: dict[str, Any] = {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }
    if pg_url:
        try:
            with psycopg.connect(pg_url, connect_timeout=3) as conn:
                facts["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
                # The server settings that decide bulk-write speed (WAL volume, checkpoints).
                for setting in PG_SETTINGS:
                    facts[f"pg_{setting}"] = conn.execute(f"SHOW {setting}").fetchone()[0]
        except psycopg.Error:
            facts["postgresql"] = None
    return facts


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def pg_url_for(database: str) -> str:
    """The admin URL with another database name."""
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + database


def recreate_pg_database(name: str) -> str:
    """Drop and create database ``name``; return its URL."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return pg_url_for(name)


def pg_database_exists(name: str) -> bool:
    """True if database ``name`` exists on the server."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    return row is not None


def bench_env(env_file: Path, database_url: str, **extra: str) -> dict[str, str]:
    """Environment for the platform's commands: keys kept in ``env_file`` (created once, so a
    database built by an earlier run stays readable), ``DATABASE_URL`` and ``extra``."""
    if not env_file.exists():
        from tierspayant.crypto.keygen import write_demo_env

        write_demo_env(env_file)
    env = dict(os.environ)
    env.pop("TIERSPAYANT_DEMO", None)
    for line in env_file.read_text().splitlines():
        key, _, value = line.partition("=")
        env[key] = value
    env.update(
        DJANGO_SETTINGS_MODULE="tierspayant.settings",
        DATABASE_URL=database_url,
        TIERSPAYANT_VAR_DIR=str(VAR),
        **extra,
    )
    return env


def run(args: list[str], env: dict[str, str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a command, fail loudly with its stderr."""
    done = subprocess.run(  # noqa: S603 - the platform's own commands
        args, env=env, text=True, capture_output=True, check=False, **kwargs
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[:3])}... failed ({done.returncode}):\n{done.stderr}")
    return done


def member_file(count: int, env: dict[str, str]) -> Path:
    """A synthetic member file of ``count`` lines under var/bench (generated once)."""
    VAR.mkdir(parents=True, exist_ok=True)
    path = VAR / f"members-{count}.csv"
    if not path.exists():
        partial = path.with_suffix(".part")
        run(
            [
                TIERSPAYANT,
                "generate-members",
                "--count",
                str(count),
                "--as-of",
                AS_OF,
                "--out",
                str(partial),
            ],
            env,
        )
        partial.rename(path)
    return path


def prepare_register(env: dict[str, str]) -> None:
    """Migrate the database in ``env`` and create the synthetic insurers and contracts."""
    run([TIERSPAYANT, "migrate", "--no-input", "-v", "0"], env)
    run([TIERSPAYANT, "generate-members", "--count", "1", "--out", os.devnull, "--register"], env)


def emit(result: dict[str, Any]) -> None:
    """Print the result as one JSON object."""
    print(json.dumps(result, ensure_ascii=False, indent=2))
