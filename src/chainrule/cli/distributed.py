"""Scaling out from the command line: ``train --workers N`` over MPI, and ``search`` over Dask.

Example:
    $ chainrule train digits --hidden 64 --workers 2      # launches mpiexec -n 2 itself
    $ mpiexec -n 4 chainrule train data.csv --hidden 64   # the same, started by hand or with a hostfile
    $ chainrule search iris.csv --space space.json --trials 20 -o runs/iris-search
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading

import click

from .._core import check_int
from ..data import StandardScaler, split_indices
from ..distributed import search as run_search
from ..distributed.mpi import RANK_FOLDER_VAR
from ..io import save
from ._app import cli
from .sources import load_source

__all__ = ["world", "relaunch", "mpiexec_path", "record_rank_pid", "PID_DIR_VAR"]

# Rank and size as the MPI launchers put them in each process's environment (MPICH's Hydra,
# Open MPI, and the PMIx standard), read without importing MPI.
_RANK_VARS = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK")
_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE")


def world():
    """``(rank, size)`` of this process under an MPI launcher; ``(0, 1)`` when started alone."""
    size = next((int(os.environ[v]) for v in _SIZE_VARS if os.environ.get(v, "").isdigit()), 1)
    rank = next((int(os.environ[v]) for v in _RANK_VARS if os.environ.get(v, "").isdigit()), 0)
    return rank, size


def mpiexec_path():
    """The ``mpiexec`` beside this Python (the mpich wheel's) or on PATH, else None."""
    here = os.path.dirname(sys.executable)
    return shutil.which("mpiexec", path=here + os.pathsep + os.environ.get("PATH", ""))


def _without_workers(argv):
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--workers":
            skip = True
        elif not arg.startswith("--workers="):
            out.append(arg)
    return out


#: Each rank writes a file named after its PID holding its rank into this folder, so that a
#: launcher that sees a process die can say which rank it was.
PID_DIR_VAR = RANK_FOLDER_VAR


def record_rank_pid(rank):
    """Note this process's rank under :data:`PID_DIR_VAR` (when a launcher asked for it)."""
    folder = os.environ.get(PID_DIR_VAR)
    if folder and os.path.isdir(folder):
        with open(os.path.join(folder, str(os.getpid())), "w") as f:
            f.write(str(rank))


#: --workers starts every rank on this machine; more than this many per core only thrash it.
MAX_RANKS_PER_CORE = 8


def relaunch(workers, argv):
    """Run this same command under ``mpiexec -n workers`` and return its exit code.

    MPICH reports a dead process with a banner naming its PID; that banner becomes one
    ``error:`` line naming the rank, and the exit code 2.
    """
    workers = check_int("--workers", workers)
    cores = os.cpu_count() or 1
    if workers > MAX_RANKS_PER_CORE * cores:  # all on this machine: a typo such as 500 would swamp it
        raise ValueError(f"--workers {workers} would start {workers} processes on this machine's {cores} cores (at "
                         f"most {MAX_RANKS_PER_CORE * cores} here); to spread ranks over machines, run mpiexec with "
                         "a hostfile: mpiexec -n N -f hosts chainrule train ...")
    mpiexec = mpiexec_path()
    if mpiexec is None:
        raise ImportError("--workers needs mpiexec; install it with `pip install chainrule[mpi]` "
                          "(mpi4py and the mpich wheel)")
    cmd = [mpiexec, "-n", str(workers), sys.executable, "-m", "chainrule", *_without_workers(argv)]
    with tempfile.TemporaryDirectory(prefix="chainrule-ranks-") as own:
        folder = os.environ.get(PID_DIR_VAR) or own
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
                                env={**os.environ, PID_DIR_VAR: folder})
        seen = {}
        copiers = [threading.Thread(target=_forward, args=(src, dst, seen), daemon=True)
                   for src, dst in ((proc.stdout, sys.stdout), (proc.stderr, sys.stderr))]
        for t in copiers:
            t.start()
        code = proc.wait()
        for t in copiers:
            t.join()
        if code != 0 and not seen.get("error"):
            _print_left_errors(folder)  # the launcher may drop a rank's last line when it aborts the job
        dead = (seen["pid"], seen.get("why", "killed")) if "pid" in seen else None
        if dead is None:
            return code
        rank = _rank_of(folder, dead[0])
        who = f"rank {rank} of {workers}" if rank is not None else f"a worker process (PID {dead[0]})"
        sys.stderr.write(f"error: {who} died ({dead[1]}); the job was ended: rerun with --resume to continue "
                         "from the last checkpoint\n")
        return 2


_BANNER = re.compile(r"^=+$|^=\s|^YOUR APPLICATION TERMINATED|^This typically refers|^Please see the FAQ")


def _forward(stream, out, seen):
    """Copy one of the job's streams through, except MPICH's dead-process banner, noting what it said."""
    for line in stream:
        if m := re.match(r"^=\s+PID (\d+) RUNNING AT", line):
            seen["pid"] = int(m.group(1))
        if m := re.match(r"^YOUR APPLICATION TERMINATED WITH THE EXIT STRING: (.*)", line):
            seen["why"] = m.group(1).strip()
        if line.startswith("error:"):
            seen["error"] = True
        if not _BANNER.match(line):
            out.write(line)
            out.flush()


def _print_left_errors(folder):
    for name in sorted(n for n in os.listdir(folder) if n.startswith("error-")):
        with open(os.path.join(folder, name)) as f:
            sys.stderr.write(f.read())


def _rank_of(folder, pid):
    try:
        with open(os.path.join(folder, str(pid))) as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


@cli.command()
@click.argument("data")
@click.option("--space", "space_file", required=True, help="JSON file: setting -> list of choices or a distribution.")
@click.option("--trials", type=int, help="Random search: number of trials (grid: the first N combinations).")
@click.option("--random", "random_search", is_flag=True, help="Random search instead of the full grid.")
@click.option("--target", help="Target column (CSV) or array (NPZ); default the last column / 'y'.")
@click.option("--epochs", type=int, default=100, show_default=True, help="Maximum epochs per trial.")
@click.option("--patience", type=int, default=10, show_default=True, help="Early stopping patience per trial.")
@click.option("--val", "validation", type=float, default=0.2, show_default=True, help="Validation fraction.")
@click.option("--scheduler", help="Dask scheduler address (tcp://host:port), 'processes' (default) or 'sequential'.")
@click.option("--workers", "n_workers", type=int, default=2, show_default=True, help="Local Dask worker processes.")
@click.option("--seed", type=int, default=0, show_default=True, help="Trial i uses seed + i.")
@click.option("-o", "--out", help="Folder for results.csv and best_model.safetensors (default runs/<data>-search).")
def search(data, space_file, trials, random_search, target, epochs, patience, validation, scheduler, n_workers,
           seed, out):
    """Search recipe settings on DATA: one training per trial, in parallel on Dask; best first."""
    space = _read_space(space_file)
    ds = load_source(data, target)
    loss = "cross_entropy" if ds.task == "classification" else "mse"
    classes = ds.task == "classification"
    parts = split_indices(len(ds), ds.y if classes else None, val=validation, test=0, stratify=classes, seed=seed)
    scaler = StandardScaler().fit(ds.X[parts.train])  # fitted on the training rows only: no leak into validation
    train, val = ((scaler.transform(ds.X[i]), ds.y[i]) for i in (parts.train, parts.val))
    out = out or os.path.join("runs", f"{ds.name}-search")
    if os.path.exists(os.path.join(out, "results.csv")):
        raise FileExistsError(f"{out} already holds search results; choose another --out")
    echo = lambda row: click.echo(f"trial {row['trial']}: score {row['score']:.4g}"
                                  + (f" (error: {row['error']})" if "error" in row else ""))
    result = run_search(None, space, train, val=val, n_trials=trials, method="random" if random_search else "grid",
                        loss=loss, epochs=epochs, patience=patience, seed=seed,
                        scheduler=scheduler, n_workers=n_workers, on_result=echo)
    os.makedirs(out, exist_ok=True)
    result.to_csv(os.path.join(out, "results.csv"))
    click.echo(result.table())
    if result.best_model is not None:
        save(result.best_model, os.path.join(out, "best_model.safetensors"),
             metadata={"task": ds.task, "loss": loss, "feature_names": list(ds.feature_names),
                       "class_names": list(ds.class_names or []) or None, "scaler": scaler.to_dict(),
                       "search": {"best": result.best, "monitor": result.monitor}})
        click.echo(f"best: {json.dumps(result.best)}; model and results in {out}")


def _read_space(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno})") from None
