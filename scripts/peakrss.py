#!/usr/bin/env python3
"""Run a shell command and report its wall time, CPU time and peak memory.

Peak memory is the largest sum of the resident set sizes of the command's
whole process tree, sampled every 100 ms from /proc: for a pipe of several
processes it is what the machine must hold at once, which GNU time's
per-process maximum is not.

    peakrss.py OUT.json -- 'a | b | c'
"""
import json, os, resource, subprocess, sys, time

PAGE = os.sysconf("SC_PAGE_SIZE")


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


def tree_rss(root):
    total = 0
    for pid in descendants(root):
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            pass
    return total


def main():
    out, cmd = sys.argv[1], sys.argv[3]
    start = time.monotonic()
    p = subprocess.Popen(["bash", "-o", "pipefail", "-c", cmd])
    peak = 0
    while p.poll() is None:
        peak = max(peak, tree_rss(p.pid))
        time.sleep(0.1)
    wall = time.monotonic() - start
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out, "w") as f:
        json.dump({"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "peak_rss": peak, "rc": p.returncode}, f)
    sys.exit(p.returncode)


if __name__ == "__main__":
    main()
