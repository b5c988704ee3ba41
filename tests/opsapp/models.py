from __future__ import annotations

from django.db import models


class Widget(models.Model):
    # 0002 adds an index on (size, id) with AddIndexNonBlocking and 0003
    # removes it with RemoveIndexNonBlocking: the final state has none.
    id = models.BigAutoField(primary_key=True)
    size = models.IntegerField()
    colour = models.CharField(max_length=20)

    def __str__(self) -> str:
        return f"Widget {self.pk}"
