"""Messages that name the right thing: example lists in --help, losses the target can take, the --task flag."""

import pytest
from click.testing import CliRunner

from chainrule.cli import cli, main
from chainrule.cli.engine import EXAMPLES


@pytest.mark.parametrize("command", ["gradcheck", "compare"])
def test_help_lists_the_examples(command):
    text = CliRunner().invoke(cli, [command, "--help"]).output
    for name, (_, _, title) in EXAMPLES.items():
        assert f"{name}: {title}" in text


def _error(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    return capsys.readouterr().err.strip()


def test_loss_suggestions_fit_the_target(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "three.csv").write_text("a,k\n" + "".join(f"{i % 5},{'xyz'[i % 3]}\n" for i in range(30)))
    (tmp_path / "two.csv").write_text("a,k\n" + "".join(f"{i % 5},{'xy'[i % 2]}\n" for i in range(30)))
    assert _error(capsys, ["train", "three.csv", "--loss", "mse"]) == (
        "error: loss 'mse' is for regression, but three is a classification task; use one of: cross_entropy, "
        "multiclass_hinge")
    assert _error(capsys, ["train", "two.csv", "--loss", "mse"]).endswith(
        "use one of: bce_with_logits, cross_entropy, multiclass_hinge")  # the registry order


def test_ambiguous_target_names_the_task_flag(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "counts.csv").write_text("a,n\n" + "".join(f"{i},{i * 7 % 23}\n" for i in range(25)))
    message = _error(capsys, ["train", "counts.csv"])
    assert "say which with --task classification or --task regression" in message
    assert "task='regression'" not in message
