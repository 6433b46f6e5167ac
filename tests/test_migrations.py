from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import plugin.models  # noqa: F401
from plugin.extensions import db


def test_migrations_create_exactly_the_models_schema(app):
    """The schema comes only from migrations/; autogenerate must find nothing left to add."""
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []
