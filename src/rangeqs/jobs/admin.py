"""Jobs in the Django admin: progress read-only, pause and resume as actions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin

from rangeqs.jobs._control import pause, resume
from rangeqs.jobs._progress import progress
from rangeqs.jobs.models import Job, JobRange

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest


class JobRangeInline(admin.TabularInline[JobRange, Job]):
    model = JobRange
    extra = 0
    can_delete = False
    fields = (
        "index", "status", "rows", "estimated_rows", "batches", "step",
        "failures", "seconds", "started_at", "finished_at", "last_error",
    )  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin[Job]):
    list_display = ("id", "name", "model", "status", "rows_done", "eta", "runner")
    list_filter = ("status", "runner")
    inlines = (JobRangeInline,)
    actions = ("pause_jobs", "resume_jobs")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in Job._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="rows done")
    def rows_done(self, job: Job) -> str:
        report = progress(job)
        return f"{report.rows} of ~{report.estimated_rows}"

    @admin.display(description="ETA (s)")
    def eta(self, job: Job) -> str:
        seconds = progress(job).eta_seconds
        return "-" if seconds is None else f"{seconds:.0f}"

    @admin.action(description="Pause the selected jobs")
    def pause_jobs(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        for job in queryset:
            pause(job)

    @admin.action(description="Resume the selected jobs on their runners")
    def resume_jobs(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        # An inline job would run inside the request: resume only queued ones.
        for job in queryset.exclude(runner="inline"):
            resume(job)
