"""Reference: a migration that adds the GroupHash index without locking writes."""

from __future__ import annotations

from django.db import migrations, models

from rangeqs.operations import AddIndexNonBlocking


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [("grouphash", "0001_initial")]

    operations = [
        AddIndexNonBlocking(
            model_name="grouphash",
            index=models.Index(
                fields=["group", "id"], name="sentry_grouphash_group_id_idx"
            ),
        ),
    ]
