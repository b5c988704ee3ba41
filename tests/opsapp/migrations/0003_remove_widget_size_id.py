from __future__ import annotations

from django.db import migrations

from rangeqs.operations import RemoveIndexNonBlocking


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("rangeqs_opsapp", "0002_widget_size_id")]

    operations = [
        RemoveIndexNonBlocking(model_name="widget", name="opsapp_widget_size_id"),
    ]
