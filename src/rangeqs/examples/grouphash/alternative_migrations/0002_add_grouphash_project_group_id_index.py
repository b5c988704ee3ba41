"""Option 2 of the seed: an index on (project_id, group_id, id).

Select these migrations instead of ``rangeqs.examples.grouphash.migrations``
with ``MIGRATION_MODULES = {"grouphash":
"rangeqs.examples.grouphash.alternative_migrations"}``.
"""

from __future__ import annotations

from django.db import migrations, models

from rangeqs.examples.grouphash.migrations_support import analyze_grouphash
from rangeqs.operations import AddIndexNonBlocking


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False
    # Sentry's marker for migrations run after the code is deployed; the
    # index build takes a while on a large table and must not hold a deploy.
    is_post_deployment = True

    dependencies = [("grouphash", "0001_initial")]

    operations = [
        AddIndexNonBlocking(
            model_name="grouphash",
            index=models.Index(
                fields=["project", "group", "id"],
                name="sentry_grouphash_project_group_id_idx",
            ),
        ),
        analyze_grouphash(),
    ]
