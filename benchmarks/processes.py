"""What the benchmarks read of processes: the processor time of the ended children (the
helper and mapping processes), and a process's own peak resident set."""

from __future__ import annotations

import resource


def children_cpu() -> float:
    """Processor seconds of this process's children that have ended (and been waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def peak_mb(pid: int | str = "self") -> float | None:
    """A process's peak resident set in MB, from Linux's VmHWM, which starts afresh with the
    program (getrusage's figure carries over what the process was forked from); None when
    it cannot be read for another process (gone, or not Linux); for this one, getrusage's."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 if pid == "self" else None
