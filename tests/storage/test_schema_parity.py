"""Both schemas describe the same tables: SQLite's migrations and PostgreSQL's, compared.

Tables, columns (name, type mapped, nullability, generated), primary and unique keys, foreign
keys (single-column, with ON DELETE), explicit indexes (columns, order, uniqueness, partial) and
views (columns) must agree; CHECK constraints and triggers are not compared. A SQLite
migration without its PostgreSQL twin fails here (see the last test).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from storage.database import Database, migrations
from storage.postgres import ROWS_TABLE, PostgresDatabase, pg_migrations
from tests.support.backends import postgres_databases
from tests.support.postgres import PostgresServer

# SQLite's declared type -> the PostgreSQL type migrations_pg uses for it.
TYPES = {"INTEGER": "bigint", "REAL": "double precision", "TEXT": "text", "BLOB": "bytea"}

Schema = dict[str, Any]


def describe_sqlite(path: Path) -> Schema:
    with sqlite3.connect(path) as conn:
        names = [
            (name, kind)
            for name, kind in conn.execute(
                "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view')"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        tables: Schema = {}
        views: Schema = {}
        for name, kind in names:
            info = conn.execute(f"PRAGMA table_xinfo({name})").fetchall()
            if kind == "view":
                views[name] = [row[1] for row in info]
                continue
            columns = {}
            for _cid, column, declared, notnull, _default, pk, hidden in info:
                nullable = not (notnull or pk)  # a key column is NOT NULL on PostgreSQL
                mapped = TYPES.get(declared.upper(), declared)
                columns[column] = (mapped, nullable, hidden in (2, 3))
            primary = tuple(row[1] for row in sorted(info, key=lambda r: r[5]) if row[5])
            uniques = set()
            indexes = {}
            for _seq, index, unique, origin, partial in conn.execute(f"PRAGMA index_list({name})"):
                keys = [
                    (row[2] if row[2] is not None else "<expr>", bool(row[3]))
                    for row in conn.execute(f"PRAGMA index_xinfo({index})")
                    if row[5]
                ]
                if origin == "u":
                    uniques.add(tuple(column for column, _ in keys))
                elif origin == "c":
                    indexes[index] = (tuple(keys), bool(unique), bool(partial))
            foreign = {
                (row[2], row[3], row[4] or "?", row[6])  # parent, column, parent column, on delete
                for row in conn.execute(f"PRAGMA foreign_key_list({name})")
            }
            tables[name] = {
                "columns": columns,
                "primary": primary,
                "uniques": uniques,
                "indexes": indexes,
                "foreign": foreign,
            }
    return {"tables": tables, "views": views}


async def describe_postgres(url: str) -> Schema:
    conn = await asyncpg.connect(url)
    try:
        tables: Schema = {}
        views: Schema = {}
        rows = await conn.fetch(
            "SELECT table_name, table_type FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_name <> 'schema_version'"
        )
        for row in rows:
            name = row["table_name"]
            columns = await conn.fetch(
                "SELECT column_name, data_type, is_nullable, is_generated"
                " FROM information_schema.columns WHERE table_schema = 'public'"
                " AND table_name = $1 ORDER BY ordinal_position",
                name,
            )
            if row["table_type"] == "VIEW":
                views[name] = [c["column_name"] for c in columns]
                continue
            constraints = await conn.fetch(
                "SELECT c.contype::text AS contype,"
                " array_agg(a.attname::text ORDER BY k.n) AS columns"
                " FROM pg_constraint AS c"
                " CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)"
                " JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = k.attnum"
                " WHERE c.conrelid = $1::regclass AND c.contype IN ('p', 'u')"
                " GROUP BY c.oid, c.contype",
                name,
            )
            foreign = {
                (
                    r["parent"],
                    r["column"],
                    r["parent_column"],
                    {"c": "CASCADE", "a": "NO ACTION"}.get(r["on_delete"], r["on_delete"]),
                )
                for r in await conn.fetch(
                    "SELECT c.confrelid::regclass::text AS parent, a.attname::text AS column,"
                    " p.attname::text AS parent_column, c.confdeltype::text AS on_delete"
                    " FROM pg_constraint AS c"
                    " JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
                    " JOIN pg_attribute AS p ON p.attrelid = c.confrelid"
                    "  AND p.attnum = c.confkey[1]"
                    " WHERE c.conrelid = $1::regclass AND c.contype = 'f'",
                    name,
                )
            }
            indexes = {}
            for index in await conn.fetch(
                "SELECT i.indexrelid, c.relname, i.indisunique, i.indpred IS NOT NULL AS partial,"
                " i.indnkeyatts, i.indoption::int2[] AS options, i.indkey::int2[] AS keys"
                " FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid"
                " WHERE i.indrelid = $1::regclass AND NOT EXISTS ("
                "  SELECT 1 FROM pg_constraint AS k WHERE k.conindid = i.indexrelid)",
                name,
            ):
                keys = []
                for position in range(index["indnkeyatts"]):
                    column = await conn.fetchval(
                        "SELECT pg_get_indexdef($1, $2, true)", index["indexrelid"], position + 1
                    )
                    expression = index["keys"][position] == 0
                    descending = bool(index["options"][position] & 1)
                    keys.append(("<expr>" if expression else column, descending))
                indexes[index["relname"]] = (tuple(keys), index["indisunique"], index["partial"])
            tables[name] = {
                "columns": {
                    c["column_name"]: (
                        c["data_type"],
                        c["is_nullable"] == "YES",
                        c["is_generated"] == "ALWAYS",
                    )
                    for c in columns
                },
                "primary": next(
                    (tuple(c["columns"]) for c in constraints if c["contype"] == "p"), ()
                ),
                "uniques": {tuple(c["columns"]) for c in constraints if c["contype"] == "u"},
                "indexes": indexes,
                "foreign": foreign,
            }
        for name, rows_table in ROWS_TABLE.items():
            _as_sqlite_table(tables, views, name, rows_table)
        return {"tables": tables, "views": views}
    finally:
        await conn.close()


def _as_sqlite_table(tables: Schema, views: Schema, name: str, rows_table: str) -> None:
    """Describe PostgreSQL's view `name` over `rows_table` as SQLite's table `name`: the
    table's columns, keys and indexes, plus each column only the view has (computed when read,
    so a generated column, as SQLite's VIRTUAL one: migrations_pg/0017)."""
    table = tables.pop(rows_table)
    computed = [column for column in views.pop(name) if column not in table["columns"]]
    for column in computed:
        table["columns"][column] = ("text", True, True)
    tables[name] = table


def differences(sqlite: Schema, postgres: Schema) -> list[str]:
    """What one schema has that the other lacks or has otherwise, one line each."""
    found = []
    for kind in ("tables", "views"):
        for name in sorted(set(sqlite[kind]) | set(postgres[kind])):
            if name not in postgres[kind]:
                found.append(f"{kind[:-1]} {name}: only on SQLite")
            elif name not in sqlite[kind]:
                found.append(f"{kind[:-1]} {name}: only on PostgreSQL")
            elif kind == "views":
                if sqlite[kind][name] != postgres[kind][name]:
                    found.append(
                        f"view {name}: columns {sqlite[kind][name]} != {postgres[kind][name]}"
                    )
            else:
                found += _table_differences(name, sqlite[kind][name], postgres[kind][name])
    return found


def _table_differences(table: str, sqlite: Schema, postgres: Schema) -> list[str]:
    found = []
    for column in sorted(set(sqlite["columns"]) | set(postgres["columns"])):
        ours, theirs = sqlite["columns"].get(column), postgres["columns"].get(column)
        if ours != theirs:
            found.append(f"column {table}.{column}: SQLite {ours} != PostgreSQL {theirs}")
    for key in ("primary", "uniques", "foreign"):
        if sqlite[key] != postgres[key]:
            found.append(f"{table} {key}: SQLite {sqlite[key]} != PostgreSQL {postgres[key]}")
    for index in sorted(set(sqlite["indexes"]) | set(postgres["indexes"])):
        ours, theirs = sqlite["indexes"].get(index), postgres["indexes"].get(index)
        if ours != theirs:
            found.append(f"index {index} on {table}: SQLite {ours} != PostgreSQL {theirs}")
    return found


async def _both(tmp_path: Path, server: PostgresServer) -> tuple[Schema, Schema]:
    db = await Database.open(tmp_path / "ladder.db")
    await db.close()
    url = await postgres_databases(server).new_url()
    return describe_sqlite(tmp_path / "ladder.db"), await describe_postgres(url)


def test_every_sqlite_migration_has_its_postgresql_twin() -> None:
    assert [name for _, name, _ in pg_migrations()] == [name for _, name, _ in migrations()]


async def test_both_schemas_describe_the_same_tables(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    sqlite, postgres = await _both(tmp_path, postgres_server)
    assert len(sqlite["tables"]) >= 20 and len(sqlite["views"]) == 4  # the comparison sees them
    assert len(postgres["tables"]["matches"]["foreign"]) == 3  # two players and the season
    assert differences(sqlite, postgres) == []


async def test_a_column_missing_on_postgresql_is_found(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    sqlite, postgres = await _both(tmp_path, postgres_server)
    before = differences(sqlite, postgres)  # [] unless the test above fails too
    with sqlite3.connect(tmp_path / "ladder.db") as conn:  # what a new SQLite migration would do
        conn.execute("ALTER TABLE players ADD COLUMN nickname TEXT")
        conn.execute("CREATE INDEX players_by_nickname ON players (nickname)")
    found = differences(describe_sqlite(tmp_path / "ladder.db"), postgres)
    assert [line for line in found if line not in before] == [
        "column players.nickname: SQLite ('text', True, False) != PostgreSQL None",
        "index players_by_nickname on players: SQLite ((('nickname', False),), False, False)"
        " != PostgreSQL None",
    ]


async def test_a_newer_postgresql_database_is_refused(postgres_server: PostgresServer) -> None:
    url = await postgres_databases(postgres_server).new_url()
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("INSERT INTO schema_version (version, name) VALUES (999, 'future')")
    finally:
        await conn.close()
    with pytest.raises(Exception, match="schema version 999"):
        await PostgresDatabase.open(url)
