"""`client.background_jobs`, plus `wait`: poll a job until it reaches a final status."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from .._generated import models
from .._generated.resources import BackgroundJobsResource
from ..errors import BackgroundJobError, BackgroundJobTimeout

__all__ = ["BackgroundJobs"]

_FINAL = {
    models.BackgroundJobStatus.SUCCESS,
    models.BackgroundJobStatus.FAILED,
    models.BackgroundJobStatus.CANCELLED,
}


class BackgroundJobs(BackgroundJobsResource):
    """`client.background_jobs`: list and get jobs, and `wait` for one to finish."""

    async def wait(
        self,
        job_id: str | models.BackgroundJob,
        *,
        timeout: float | None = 600.0,  # noqa: ASYNC109 - a deadline for the whole poll
        poll_interval: float = 1.0,
        max_poll_interval: float = 15.0,
        on_progress: Callable[[models.BackgroundJob], Awaitable[None] | None] | None = None,
    ) -> models.BackgroundJob:
        """Poll a job until it succeeds, and return it.

        Args:
            job_id: the job's ID, or the job returned by the operation that started it.
            timeout: seconds to wait in total; None waits for ever.
            poll_interval: seconds before the first re-poll; grows by half each time.
            max_poll_interval: the longest pause between two polls.
            on_progress: called with the job after every poll (its `progress` is 0..100).

        Returns:
            The job, finished with status `success`.

        Raises:
            BackgroundJobError: the job ended `failed` or `cancelled`; it carries the job.
            BackgroundJobTimeout: `timeout` passed first; it carries the last job seen.
            TypeError: `job_id` is neither an ID nor a BackgroundJob (an operation that
                answers 202 with a message only has no job to wait for).
            ValueError: `poll_interval` is not positive.
        """
        if isinstance(job_id, models.BackgroundJob):
            job_id = job_id.id
        elif not isinstance(job_id, str):
            hint = (
                " The API answers this operation with 202 and a message only, no job ID, so "
                "there is nothing to poll; read the records it changes to see the outcome."
                if isinstance(job_id, models.AcceptedResult)
                else ""
            )
            raise TypeError(
                f"job_id must be a job ID or a BackgroundJob, got {type(job_id).__name__}.{hint}"
            )
        if poll_interval <= 0:
            raise ValueError(f"poll_interval must be positive, got {poll_interval}")
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        delay = poll_interval
        while True:
            job = await self.get(job_id)
            if on_progress is not None:
                result = on_progress(job)
                if isinstance(result, Awaitable):
                    await result
            if job.status in _FINAL:
                if job.status is models.BackgroundJobStatus.SUCCESS:
                    return job
                raise BackgroundJobError(job)
            if deadline is not None:
                left = deadline - loop.time()
                if left <= 0:
                    raise BackgroundJobTimeout(job, timeout or 0.0)
                delay = min(delay, left)
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, max_poll_interval)
