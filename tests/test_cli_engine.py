"""The engine-facing CLI commands: demo, compare, gradcheck, and the no-traceback rule."""

import subprocess
import sys

import pytest
from click.testing import CliRunner

from chainrule.cli import cli, main


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_demo_prints_circuit_and_four_way_tables():
    r = run("demo")
    assert r.exit_code == 0, r.output
    assert "q     add   x, y    3      1, 1        -4        -4" in r.output
    assert r.output.count("finite differences") == 2
    assert "-6.74092" in r.output


@pytest.mark.parametrize("name", ["neuron", "gormley", "mlp"])
def test_compare_and_gradcheck_each_example(name):
    r = run("compare", name)
    assert r.exit_code == 0 and "symbolic (SymPy)" in r.output
    r = run("gradcheck", name)
    assert r.exit_code == 0 and "gradient check passed" in r.output


@pytest.mark.parametrize("argv", [["compare", "nope"], ["gradcheck", "nope"], ["bogus"], ["compare", "a", "b"]])
def test_bad_input_exits_2_with_one_line_and_no_traceback(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_python_dash_m_entry_point():
    p = subprocess.run([sys.executable, "-m", "chainrule", "compare", "nope"], capture_output=True, text=True)
    assert p.returncode == 2
    assert p.stderr.strip() == "error: unknown example 'nope'; expected one of: neuron, gormley, mlp"
