"""Long work (collect of hundreds of files, a large report) off the request: the page never blocks.

A job runs the library call in a worker thread and records its progress; the page polls
``/jobs/<id>.json`` (or refreshes, without JavaScript) and shows the result when it is done. Two jobs
that write the store behave like two CLI runs: the library's writer lock makes the second wait.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from hyoka.problems import HyokaError
from hyoka.web.words import said

KEEP_JOBS = 200


@dataclass
class Output:
    """What a job that writes files made: (name, download address) pairs, and the library's notices."""

    files: list[tuple[str, str]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


@dataclass
class Job:
    id: str
    kind: str  # forms | collect | opinions | report | publish
    title: str  # what the page shows while it runs: 「令和5年度の調査票を回収しています」
    year: str
    done_title: str = ""  # what the page says once it is done
    done: int = 0
    total: int = 0
    state: str = "running"  # running | done | failed
    result: Any = None
    error: str = ""
    started: float = field(default_factory=time.time)
    what: str = ""  # for opinions: 意見 | 意見票 | 回答票, as the CLI's summary line names them
    meeting: str = ""
    finished: float | None = None

    @property
    def failed_title(self) -> str:
        """What the page says when the work stopped: 「…を作成しています」 becomes 「…を作成できませんでした」."""
        for running, failed in (("しています", "できませんでした"), ("込んでいます", "込めませんでした")):
            if self.title.endswith(running):
                return self.title.removesuffix(running) + failed
        return "処理できませんでした"

    def step(self, _item: object = None) -> None:
        self.done += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "done": self.done,
            "total": self.total,
            "title": self.title,
        }


class Jobs:
    def __init__(self, workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hyoka-job")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(
        self,
        kind: str,
        title: str,
        year: str,
        work: Callable[[Job], Any],
        total: int = 0,
        done_title: str = "",
    ) -> Job:
        job = Job(secrets.token_hex(8), kind, title, year, done_title or title, total=total)
        with self._lock:
            self._jobs[job.id] = job
            for old in list(self._jobs)[:-KEEP_JOBS]:
                del self._jobs[old]
        self._pool.submit(self._run, job, work)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    @staticmethod
    def _run(job: Job, work: Callable[[Job], Any]) -> None:
        try:
            job.result = work(job)
            job.state = "done"  # after the result: a page that sees "done" finds the result there
        except HyokaError as exc:  # a reason the clerk can act on: the same words the CLI prints
            job.error, job.state = said(exc), "failed"
        except Exception as exc:  # a bug must not take the server down; say what the CLI would say
            job.error = (
                f"想定外の問題が発生したため処理を中断しました（{type(exc).__name__}: {exc}）。"
                "この表示を開発者に伝えてください。"
            )
            job.state = "failed"
        finally:
            job.finished = time.time()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
