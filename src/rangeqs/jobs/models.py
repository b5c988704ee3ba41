"""What a job walks, how, and where each of its ranges stands.

The checkpoint of a range is ``JobRange.cursor``: the cursor token of the last
row of its last finished batch. A batch and its checkpoint are saved in one
transaction, so a job killed anywhere resumes at the first unfinished batch.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models


class Status(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Effects(models.TextChoices):
    #: The handler writes only to the job's database: exactly once.
    DATABASE = "database"
    #: The handler calls out (an HTTP API, a queue): at least once.
    OUTSIDE = "outside"


class Runner(models.TextChoices):
    INLINE = "inline"
    CELERY = "celery"
    TASKS = "tasks"


class Job(models.Model):
    name = models.CharField(max_length=200, blank=True)
    #: Dotted path of a callable returning the queryset to walk, called with
    #: ``queryset_kwargs``: a queryset itself cannot be stored safely.
    queryset = models.CharField(max_length=300)
    #: The label of the model it returns, checked each time it is called.
    model = models.CharField(max_length=200)
    queryset_kwargs = models.JSONField(default=dict, blank=True)
    order_by = models.JSONField(default=list)
    override_unique_safety_check = models.BooleanField(default=False)
    plan = models.CharField(max_length=20, default="auto")
    #: Dotted path of the callable given each :class:`rangeqs.jobs.Batch`.
    handler = models.CharField(max_length=300)
    handler_kwargs = models.JSONField(default=dict, blank=True)
    effects = models.CharField(
        max_length=20, choices=Effects.choices, default=Effects.DATABASE
    )
    runner = models.CharField(
        max_length=20, choices=Runner.choices, default=Runner.INLINE
    )
    #: The Celery queue, or the Django Tasks queue name (blank: the default).
    queue = models.CharField(max_length=200, blank=True)
    #: The Django Tasks backend alias.
    task_backend = models.CharField(max_length=200, default="default")
    #: A range task stops after this many seconds and re-enqueues itself.
    budget_seconds = models.FloatField(default=60.0)
    step = models.PositiveIntegerField(default=1000)
    min_step = models.PositiveIntegerField(default=1)
    max_step = models.PositiveIntegerField(default=10_000)
    #: Tune each range's step toward this many seconds a batch (None: fixed).
    target_seconds = models.FloatField(null=True, blank=True)
    #: Dotted path of a callable asked between batches how long to wait.
    throttle = models.CharField(max_length=300, blank=True)
    throttle_kwargs = models.JSONField(default=dict, blank=True)
    #: Failed tries of one batch (each with a smaller step) before its range fails.
    max_attempts = models.PositiveSmallIntegerField(default=3)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    ranges: Any

    class Meta:
        ordering: ClassVar[list[str]] = ["-id"]

    def __str__(self) -> str:
        return self.name or f"job {self.pk}"


class JobRange(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="ranges")
    index = models.PositiveIntegerField()
    #: Cursor tokens bounding the range (None: open), from rangeqs.jobs.split.
    after = models.TextField(null=True, blank=True)  # noqa: DJ001 (None: open)
    until = models.TextField(null=True, blank=True)  # noqa: DJ001 (None: open)
    #: The checkpoint: the cursor after the last finished batch.
    cursor = models.TextField(null=True, blank=True)  # noqa: DJ001 (None: no batch)
    estimated_rows = models.BigIntegerField(default=0)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.PENDING
    )
    rows = models.BigIntegerField(default=0)
    #: Finished batches; also the version a checkpoint is saved against.
    batches = models.PositiveIntegerField(default=0)
    step = models.PositiveIntegerField(default=1000)
    #: Failed tries of the current batch, and of the range's batches in all.
    attempts = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    #: Seconds spent in finished batches (fetch and handler).
    seconds = models.FloatField(default=0.0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["job", "index"]
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["job", "index"], name="rangeqs_jobs_range_index"
            )
        ]

    def __str__(self) -> str:
        return f"{self.job} range {self.index}"
