"""`train --workers N` relaunches itself under mpiexec; these tests stand a small script in for mpiexec,
so they run without MPI and can make the launcher misbehave on purpose."""

import os
import stat

import pytest

from chainrule.cli import distributed as launcher
from chainrule.distributed import mpi


def _fake_mpiexec(tmp_path, body):
    path = tmp_path / "mpiexec"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


@pytest.fixture
def own_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(launcher.PID_DIR_VAR, raising=False)
    return tmp_path


def test_a_rank_error_line_dropped_by_mpiexec_is_printed_from_the_rank_folder(own_folder, monkeypatch, capsys):
    # The rank left its line in the shared folder, but the launcher ended the job before forwarding it.
    fake = _fake_mpiexec(own_folder, 'echo "error: rank 1 of 2: no answer" > "$CHAINRULE_RANK_PIDS/error-1"; exit 2')
    monkeypatch.setattr(launcher, "mpiexec_path", lambda: fake)
    assert launcher.relaunch(2, ["train", "digits", "--workers", "2"]) == 2
    assert capsys.readouterr().err == "error: rank 1 of 2: no answer\n"


def test_a_forwarded_error_line_is_not_printed_twice(own_folder, monkeypatch, capsys):
    fake = _fake_mpiexec(own_folder, 'echo "error: rank 0 of 2: bad" > "$CHAINRULE_RANK_PIDS/error-0"\n'
                                     'echo "error: rank 0 of 2: bad" >&2; exit 2')
    monkeypatch.setattr(launcher, "mpiexec_path", lambda: fake)
    assert launcher.relaunch(2, ["train", "digits"]) == 2
    assert capsys.readouterr().err == "error: rank 0 of 2: bad\n"


def test_a_clean_job_prints_nothing_extra(own_folder, monkeypatch, capsys):
    fake = _fake_mpiexec(own_folder, 'echo trained')
    monkeypatch.setattr(launcher, "mpiexec_path", lambda: fake)
    assert launcher.relaunch(2, ["train", "digits"]) == 0
    out = capsys.readouterr()
    assert (out.out, out.err) == ("trained\n", "")


def test_an_aborting_rank_leaves_its_line_only_where_a_launcher_asked(tmp_path, monkeypatch):
    monkeypatch.setenv(mpi.RANK_FOLDER_VAR, str(tmp_path))
    mpi._leave_for_launcher(3, "error: rank 3 of 4: boom\n")
    assert (tmp_path / "error-3").read_text() == "error: rank 3 of 4: boom\n"
    monkeypatch.setenv(mpi.RANK_FOLDER_VAR, str(tmp_path / "absent"))
    mpi._leave_for_launcher(2, "error: rank 2 of 4: boom\n")  # no folder: stderr alone, and no crash
    assert sorted(os.listdir(tmp_path)) == ["error-3"]


def test_the_launcher_and_the_ranks_share_one_folder_variable():
    assert launcher.PID_DIR_VAR == mpi.RANK_FOLDER_VAR
