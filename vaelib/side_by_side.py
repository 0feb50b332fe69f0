"""Small models trained at once, each in a Python process of its own on one CPU core (chapters 6 and 8).

A model as small as the book's keeps one core busier than two: on two
cores, two models trained at once, one thread each, take about 0.7 times as
long as the same two trained one after the other with two threads each.
:func:`run` starts one fresh Python process per job (``python -c``, so it
works the same in a notebook, a script or a test), at most :func:`cores` at
a time.  Each process sets PyTorch to one thread and flushes denormals, as
the chapters do (:func:`vaelib.settings.flush_denormals`), and calls one
function of vaelib with the job's keyword arguments (and the arguments
shared by every job, written once: the training images, say).  Arguments and
results go through files in a private temporary folder, written with
``torch.save`` and read back with ``weights_only=True``: tensors, numbers,
strings, None, and lists, tuples and dicts of them.

On one thread the floating-point sums come out in another order than on
two, so a model trained here differs in its last digits from the one the
same function trains in the notebook's own process, as a model trained on
another machine does.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import torch

from . import settings

__all__ = ["cores", "run"]

#: What each process runs, given its job's folder.
_COMMAND = "import sys; from vaelib import side_by_side; side_by_side._job(sys.argv[1])"


def cores() -> int:
    """The CPU cores this process may run on: how many jobs :func:`run` runs at once."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def run(function: str, jobs: Sequence[dict], shared: dict | None = None) -> Iterator[tuple[int, dict]]:
    """``(index, result)`` for each of ``jobs`` as it is done, in order within each group.

    ``function``: ``"module:name"`` of a function in vaelib, called in each
    process as ``function(**shared, **job)``; it returns a dict (of tensors,
    numbers, strings...).  ``shared`` is written to disk once for all the
    jobs.  A process that fails raises a RuntimeError with the end of its
    error output.
    """
    module, _, name = function.partition(":")
    if not module.startswith("vaelib.") or not name:
        raise ValueError(f"function must name a function of vaelib as 'vaelib.module:name', got {function!r}")
    at_once = max(1, min(len(jobs), cores()))
    with tempfile.TemporaryDirectory(prefix="vaelib-side-by-side-") as root:
        torch.save(shared or {}, Path(root) / "shared.pt")
        for first in range(0, len(jobs), at_once):
            running = {}
            for index in range(first, min(first + at_once, len(jobs))):
                folder = Path(root) / str(index)
                folder.mkdir()
                torch.save({"function": function, "arguments": jobs[index]}, folder / "job.pt")
                running[index] = folder, _start(folder)
            for index, (folder, process) in running.items():
                _, errors = process.communicate()
                if process.returncode != 0:
                    raise RuntimeError(f"job {index} ({function}) failed in a process of its own:\n{errors[-3000:]}")
                yield index, torch.load(folder / "result.pt", weights_only=True)


def _start(folder: Path) -> subprocess.Popen:
    """A new Python process running :func:`_job` on ``folder``, with this vaelib importable."""
    here = str(Path(__file__).resolve().parents[1])  # the folder that holds this vaelib
    path = os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")]))
    command = [sys.executable, "-c", _COMMAND, str(folder)]
    environment = {**os.environ, "PYTHONPATH": path}
    return subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _job(folder: str) -> None:
    """In the new process: one thread, denormals flushed, the job's function called, its result saved."""
    torch.set_num_threads(1)
    settings.flush_denormals()
    job = torch.load(Path(folder) / "job.pt", weights_only=True)
    shared = torch.load(Path(folder).parent / "shared.pt", weights_only=True)
    module, _, name = job["function"].partition(":")
    result = getattr(importlib.import_module(module), name)(**shared, **job["arguments"])
    torch.save(result, Path(folder) / "result.pt")
