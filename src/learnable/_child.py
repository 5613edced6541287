"""Work that may run away, run in a child process the operating system bounds.

Native code (libhdf5 under h5py) can allocate what a crafted file declares, gigabytes, before
it finds the file does not hold it; no Python check reaches inside it. In a child process the
address space is limited (``RLIMIT_AS``: the allocation fails, a ``MemoryError`` or a dead
child) and the parent kills it when the time is up. The server's worker pool
(``serve/_workers.py``) uses the same context and memory limit for its long-lived workers;
:func:`run_bounded` is the one-shot form for a reader (a fresh interpreter).
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import struct
import subprocess
import sys
import traceback
from collections.abc import Callable
from typing import Any

from .errors import LearnableError


def context(preload: list[str] | None = None) -> Any:
    """forkserver where there is one (a clean parent to fork from, ``preload`` imported
    once), else spawn. Never fork: the parent may have threads (the server, a notebook)."""
    if preload and "forkserver" in multiprocessing.get_all_start_methods():
        found = multiprocessing.get_context("forkserver")
        found.set_forkserver_preload(preload)
        return found
    return multiprocessing.get_context("spawn")


def limit_memory(memory_bytes: int | None, *, beyond_now: bool = False) -> None:
    """RLIMIT_AS where the system has it (Linux, the BSDs); elsewhere the time limit stays.
    ``beyond_now``: ``memory_bytes`` more than the address space already mapped (the
    interpreter and the libraries imported), so the limit is what the work itself may take."""
    if memory_bytes is None:
        return
    try:
        import resource
    except ImportError:
        return
    if beyond_now:
        memory_bytes += _mapped_bytes()
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = memory_bytes if hard == resource.RLIM_INFINITY else min(memory_bytes, hard)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):
        pass


def _mapped_bytes() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


class Ran:
    """How a bounded child ended: ``value`` when it returned; otherwise ``memory`` (over its
    limit), ``timed_out``, ``died`` (its exit code, a signal's negative number) or ``bug``
    (another exception's traceback, for the console) or ``refused`` (a LearnableError's one line,
    its place included)."""

    def __init__(self, value: Any = None, *, memory: bool = False, timed_out: bool = False, died: int | None = None,
                 bug: str = "", refused: str = ""):
        self.value, self.memory, self.timed_out, self.died = value, memory, timed_out, died
        self.bug, self.refused = bug, refused


def run_bounded(function: Callable[..., Any], args: tuple, *, seconds: float, memory_bytes: int,
                prepare: Callable[[], Any] | None = None) -> Ran:
    """``function(*args)`` in a fresh interpreter, its address space limited to
    ``memory_bytes`` beyond what ``prepare`` (imports) mapped, killed after ``seconds``.
    ``function`` (module-level) and its arguments and result must pickle.

    A plain child interpreter, not multiprocessing's spawn: spawn runs the parent's main
    script again in the child, and a user's script without an ``if __name__ == "__main__"``
    guard then fails ("An attempt has been made to start a new process before ...")."""
    payload = pickle.dumps((sys.path, function, args, memory_bytes, prepare))
    # start_new_session: a Ctrl-C meant for the parent does not print the child's traceback
    with subprocess.Popen([sys.executable, "-c", _BOOT], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, start_new_session=True) as child:
        try:
            out, _ = child.communicate(struct.pack("<Q", len(payload)) + payload, timeout=seconds)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            return Ran(timed_out=True)
    if not out:
        return Ran(died=child.returncode)
    kind, value = pickle.loads(out)  # our own child's answer
    return {"ok": Ran(value), "memory": Ran(memory=True), "bug": Ran(bug=value), "refused": Ran(refused=value)}[kind]


# The child's first lines: the parent's sys.path first (a list of text), then the work.
_BOOT = ("import pickle, struct, sys; size, = struct.unpack('<Q', sys.stdin.buffer.read(8)); "
         "data = sys.stdin.buffer.read(size); sys.path[:] = pickle.loads(data)[0]; "
         "from learnable._child import child_main; child_main(data)")


def child_main(data: bytes) -> None:
    """In the child: run the work, write (kind, value) to stdout, pickled. Anything else
    written to stdout (a library's print, C code's) goes to stderr, never into the answer."""
    answer_to = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    _, function, args, memory_bytes, prepare = pickle.loads(data)  # our own parent's payload
    try:
        if prepare is not None:
            prepare()
        limit_memory(memory_bytes, beyond_now=True)
        answer: tuple[str, Any] = ("ok", function(*args))
    except MemoryError:
        answer = ("memory", None)
    except LearnableError as err:
        answer = ("refused", str(err))
    except BaseException:  # noqa: BLE001 (a bug: its traceback goes back to the parent)
        answer = ("bug", traceback.format_exc())
    try:
        out = pickle.dumps(answer)
    except MemoryError:
        out = pickle.dumps(("memory", None))
    answer_to.write(out)
    answer_to.flush()
