"""manage.py rangeqs_jobs: list jobs with progress, and steer them.

    python manage.py rangeqs_jobs list [--ranges] [--json]
    python manage.py rangeqs_jobs pause|resume|retry|cancel|run JOB_ID

``resume``, ``retry`` and ``run`` start the job on its runner: for an inline
job they run it in this process, with a progress bar on a terminal.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from django.core.management.base import BaseCommand, CommandError

from rangeqs.jobs._control import cancel, pause, resume, retry_failed, start
from rangeqs.jobs._progress import JobProgress, progress
from rangeqs.jobs.models import Job

if TYPE_CHECKING:
    from argparse import ArgumentParser

_ACTIONS = ("pause", "resume", "retry", "cancel", "run")


class Command(BaseCommand):
    help = (
        "List rangeqs jobs with their progress, or pause, resume, retry or cancel one."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=("list", *_ACTIONS))
        parser.add_argument("job_id", nargs="?", type=int, help="The job to act on.")
        parser.add_argument(
            "--ranges", action="store_true", help="List each range too."
        )
        parser.add_argument("--json", action="store_true", help="Print JSON.")
        parser.add_argument("--database", default="default")
        parser.add_argument(
            "--no-progress", action="store_true", help="No bar for inline runs."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action: str = options["action"]
        jobs = Job.objects.using(options["database"])
        if action == "list":
            reports = [progress(job) for job in jobs.order_by("id")]
            self._print(reports, ranges=options["ranges"], as_json=options["json"])
            return
        if options["job_id"] is None:
            raise CommandError(f"{action} needs a job id: rangeqs_jobs {action} ID.")
        try:
            job = jobs.get(pk=options["job_id"])
        except Job.DoesNotExist:
            raise CommandError(
                f"No job {options['job_id']}: run rangeqs_jobs list to see the ids."
            ) from None
        inline = {"progress": False} if options["no_progress"] else {}
        if action == "pause":
            pause(job)
        elif action == "cancel":
            cancel(job)
        elif action == "resume":
            resume(job, **inline)
        elif action == "retry":
            retry_failed(job, **inline)
        else:
            start(job, **inline)
        job.refresh_from_db()
        self.stdout.write(f"job {job.pk}: {job.status}")

    def _print(
        self, reports: list[JobProgress], *, ranges: bool, as_json: bool
    ) -> None:
        if as_json:
            self.stdout.write(
                json.dumps([dataclasses.asdict(r) for r in reports], indent=2)
            )
            return
        self.stdout.write(
            f"{'job':>5}  {'status':<9} {'rows':>12} {'of ~':>12} {'rows/s':>9} "
            f"{'eta':>9}  name"
        )
        for report in reports:
            self.stdout.write(
                f"{report.job_id:>5}  {report.status:<9} {report.rows:>12} "
                f"{report.estimated_rows:>12} {_rate(report.rate):>9} "
                f"{_eta(report.eta_seconds):>9}  {report.name}"
            )
            if not ranges:
                continue
            for part in report.ranges:
                self.stdout.write(
                    f"{'#' + str(part.index):>5}  {part.status:<9} {part.rows:>12} "
                    f"{part.estimated_rows:>12} {_rate(part.rate):>9} "
                    f"{_eta(part.eta_seconds):>9}  step {part.step}, "
                    f"{part.batches} batches, {part.failures} failures"
                )


def _rate(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.0f}"


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"
