"""Running hostile cases in a separate, memory-capped process, and killing runs at random points.

:func:`run_cases` starts ONE Python process under ``RLIMIT_AS`` that imports
chainrule once and then runs every case in turn (a CLI argv through
``chainrule.cli.main`` or a library snippet), recording per case the exit
code or exception, stderr, the RuntimeWarnings raised, the seconds taken and
whether the case's workspace folder changed (content hashes of every file).
It reports its peak resident memory at the end (``VmHWM``, or ``resource.getrusage``
where /proc is missing: ru_maxrss is inherited from the forking parent, so it would report pytest's).

:class:`ForkServer` is one pre-imported process that forks a child per
command, so a test can SIGKILL training runs at random moments without
paying the interpreter start-up for each one.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
#: Address-space cap of the case process: far below what any refused input would have allocated.
AS_LIMIT = 3 << 29  # 1.5 GiB
#: Peak resident memory every case process must stay under.
PEAK_LIMIT = 300 << 20  # measured 45-120 MiB; the refused inputs would take GiBs to TiBs
#: Seconds one case may take (a generous bound against hangs, not a speed test).
CASE_SECONDS = 60


def env():
    """The environment of a child process: this tree's source first, single-threaded BLAS."""
    out = dict(os.environ, PYTHONPATH=SRC, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    for name in ("CHAINRULE_MAX_FILE_BYTES", "CHAINRULE_MAX_PARAMETERS", "CHAINRULE_MAX_CLASSES"):
        out.pop(name, None)
    return out


def snapshot(root):
    """``{relative path: sha256 or "<dir>"}`` of everything under ``root`` (symlinks by target, specials by kind)."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)
            if os.path.islink(path):
                found[rel] = "-> " + os.readlink(path)
            elif os.path.isdir(path):
                found[rel] = "<dir>"
            elif os.path.isfile(path) and os.path.getsize(path) < (64 << 20):
                with open(path, "rb") as f:
                    found[rel] = hashlib.sha256(f.read()).hexdigest()
            else:
                found[rel] = f"<special or large, {os.lstat(path).st_size} bytes>"
    return found


_RUNNER = r"""
import contextlib, io, json, os, resource, sys, time, traceback, warnings
limit = int(os.environ["HOSTILE_AS"])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
sys.path.insert(0, os.environ["HOSTILE_TESTS"])
from hostile_support import snapshot
from chainrule.cli import main
cases = json.load(open(sys.argv[1]))
results = []
for case in cases:
    os.chdir(case["cwd"])
    saved_env = dict(os.environ)
    os.environ.update(case.get("env", {}))
    before = snapshot(case["cwd"])
    out, err = io.StringIO(), io.StringIO()
    record = {"name": case["name"], "exception": None, "code": None, "traceback": ""}
    start = time.monotonic()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                if "argv" in case:
                    main(case["argv"])
                else:
                    exec(case["code"], {"__name__": "case"})
                record["code"] = 0
            except SystemExit as exc:
                record["code"] = exc.code
            except BaseException as exc:
                record["exception"] = [type(exc).__name__, str(exc), isinstance(exc, (ValueError, TypeError))]
                record["traceback"] = traceback.format_exc()
    os.environ.clear()
    os.environ.update(saved_env)
    record.update(seconds=time.monotonic() - start, stdout=out.getvalue(), stderr=err.getvalue(),
                  runtime_warnings=[str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)],
                  unchanged=snapshot(case["cwd"]) == before)
    results.append(record)
# getrusage's ru_maxrss survives exec: right after fork it already holds the parent's (pytest's) peak,
# so where the kernel offers it, this process's own high-water mark VmHWM is the figure that counts.
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
try:
    status = open("/proc/self/status").read()
    peak = int(status.split("VmHWM:")[1].split()[0]) * 1024
except (OSError, IndexError, ValueError):
    pass
json.dump({"results": results, "peak": peak}, open(sys.argv[2], "w"))
"""


def run_cases(cases, tmp_path):
    """Run ``cases`` (dicts: name, cwd, argv or code, optional env) in one capped process; ``(results, peak)``."""
    spec, report = tmp_path / "cases.json", tmp_path / "report.json"
    spec.write_text(json.dumps(cases))
    child_env = dict(env(), HOSTILE_AS=str(AS_LIMIT), HOSTILE_TESTS=os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run([sys.executable, "-c", _RUNNER, str(spec), str(report)], env=child_env,
                          capture_output=True, text=True, timeout=CASE_SECONDS * max(1, len(cases)))
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(report.read_text())
    print(f"case process peak: {data['peak'] / 2**20:.0f} MiB")
    return {r["name"]: r for r in data["results"]}, data["peak"]


def assert_refused(result, *words):
    """One ``error:`` line containing ``words``, exit code 2, no traceback, nothing changed in the workspace."""
    lines = result["stderr"].strip().splitlines()
    assert result["code"] == 2, result
    assert len(lines) == 1 and lines[0].startswith("error: "), result["stderr"]
    assert "Traceback" not in result["stderr"] + result["stdout"] and not result["traceback"], result
    for word in words:
        assert word in lines[0], lines[0]
    assert result["unchanged"], f"{result['name']} changed its workspace"
    assert result["seconds"] < CASE_SECONDS
    return lines[0]


def assert_raises_one_sentence(result, *words, kinds=("ValueError", "TypeError")):
    """The library raised a ValueError/TypeError (or subclass) whose one-line message holds ``words``."""
    assert result["exception"] is not None, result
    name, message, is_value_or_type = result["exception"]
    assert is_value_or_type or name in kinds, result["traceback"]
    assert "\n" not in message, message
    for word in words:
        assert word in message, message
    assert result["unchanged"], f"{result['name']} changed its workspace"
    assert result["seconds"] < CASE_SECONDS
    return message


_FORK_SERVER = r"""
import json, os, sys
from chainrule.cli import main
for line in sys.stdin:
    job = json.loads(line)
    pid = os.fork()
    if pid == 0:
        os.chdir(job["cwd"])
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, 1); os.dup2(fd, 2)
        try:
            main(job["argv"])
        except SystemExit as exc:
            os._exit(exc.code if isinstance(exc.code, int) else 1)
        os._exit(0)
    print(pid, flush=True)
    _, status = os.waitpid(pid, 0)
    print(status, flush=True)
"""


class ForkServer:
    """A pre-imported chainrule process that forks one child per :meth:`start`; the child can then be killed."""

    def __enter__(self):
        self.proc = subprocess.Popen([sys.executable, "-c", _FORK_SERVER], env=env(), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        return self

    def start(self, argv, cwd):
        """Fork a child running ``chainrule argv`` in ``cwd``; return its PID."""
        self.proc.stdin.write(json.dumps({"argv": argv, "cwd": os.fspath(cwd)}) + "\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def wait(self):
        """The wait status of the last child."""
        return int(self.proc.stdout.readline())

    def __exit__(self, *exc):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        return False
