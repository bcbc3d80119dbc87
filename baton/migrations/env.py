"""Alembic environment: runs migrations on the connection Baton hands over, or prints SQL offline (--dry-run)."""

from __future__ import annotations

from alembic import context

from baton.migrations.env_options import include_object_for
from baton.server.database.tables import metadata

config = context.config


def run_offline() -> None:
    url = config.get_main_option("sqlalchemy.url") or ""
    context.configure(
        url=url,
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
        transaction_per_migration=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transaction_per_migration=True,
        include_object=include_object_for(connection.dialect.name),
        compare_type=True,
        user_module_prefix="bt.",
        version_table_schema=config.attributes.get("version_table_schema"),
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
