from __future__ import annotations

from django.db import migrations, models

from rangeqs.operations import AddIndexNonBlocking


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("rangeqs_opsapp", "0001_initial")]

    operations = [
        AddIndexNonBlocking(
            model_name="widget",
            index=models.Index(fields=["size", "id"], name="opsapp_widget_size_id"),
        ),
    ]
