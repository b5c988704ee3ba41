"""Option 1 of the seed: an index on (group_id, id), built after deployment.

The walk orders by (group_id, id) so that this index serves every page; the
tenant filter on project_id stays and is checked on the fetched rows.
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
                fields=["group", "id"], name="sentry_grouphash_group_id_idx"
            ),
        ),
        analyze_grouphash(),
    ]
