"""Commands about data and training: ``train`` and ``datasets``.

Example:
    $ chainrule train digits
    $ chainrule train iris.csv --target species --hidden 32,16 --epochs 200 -o runs/iris
    $ chainrule datasets
"""

from __future__ import annotations

import sys

import click

from ._app import ARGV, cli
from .distributed import relaunch, world
from .run import TrainSettings, run_main_job, train_run

_DEFAULTS = TrainSettings()


def _parse_regularization(items):
    """``("l2=1e-4", "l1=1e-5")`` -> ``{"l2": 1e-4, "l1": 1e-5}``; names are checked later against the registry."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"--reg takes NAME=STRENGTH such as l2=1e-4, got {item!r}") from None
        if not sep:
            raise ValueError(f"--reg takes NAME=STRENGTH such as l2=1e-4, got {item!r}")
    return out


@cli.command()
@click.argument("data")
@click.option("--target", help="Target column (CSV) or array (NPZ); default the last column / 'y'.")
@click.option("--task", type=click.Choice(["classification", "regression"]), help="Default: inferred from the target.")
@click.option("--hidden", default=",".join(map(str, _DEFAULTS.hidden)), show_default=True,
              help="Hidden layer sizes, e.g. 64,32 ('none' for no hidden layer).")
@click.option("--activation", default=_DEFAULTS.activation, show_default=True, help="Hidden activation (nn.ACTIVATIONS).")
@click.option("--loss", help="Loss (default cross_entropy for classes, mse for regression).")
@click.option("--optimizer", default=_DEFAULTS.optimizer, show_default=True, help="Optimiser (optim.OPTIMIZERS).")
@click.option("--lr", type=float, default=_DEFAULTS.lr, show_default=True, help="Learning rate.")
@click.option("--epochs", type=int, default=_DEFAULTS.epochs, show_default=True, help="Maximum number of epochs.")
@click.option("--batch-size", type=int, default=_DEFAULTS.batch_size, show_default=True, help="Rows per step.")
@click.option("--val", "validation", type=float, default=_DEFAULTS.validation, show_default=True,
              help="Fraction held out for validation and early stopping (0: none).")
@click.option("--test", type=float, default=_DEFAULTS.test, show_default=True, help="Fraction held out for the test score.")
@click.option("--patience", type=int, default=_DEFAULTS.patience, show_default=True,
              help="Early stopping: epochs without validation improvement (0: off).")
@click.option("--reg", "regularization", multiple=True, metavar="NAME=STRENGTH", help="Weight penalty, e.g. l2=1e-4.")
@click.option("--scaling", default=_DEFAULTS.scaling, show_default=True, help="Feature scaling: standard, minmax or none.")
@click.option("--seed", type=int, default=_DEFAULTS.seed, show_default=True, help="Seed of split, weights and shuffling.")
@click.option("-o", "--out", help="Output folder (default runs/<data name>).")
@click.option("--overwrite", is_flag=True, help="Replace the run files in an existing output folder.")
@click.option("--resume", is_flag=True, help="Continue the interrupted run in the output folder.")
@click.option("--no-checkpoint", is_flag=True, help="Do not write a resumable checkpoint after every epoch.")
@click.option("--no-plots", is_flag=True, help="Do not draw the learning curves.")
@click.option("-q", "--quiet", is_flag=True, help="No progress output, only the final report.")
@click.option("--workers", type=int, help="Data-parallel training on N MPI processes (runs mpiexec -n N itself).")
def train(data, **options):
    """Train an MLP on DATA (a .csv/.npz file or a built-in data set) and save the run.

    Writes the model (with its preprocessing), the history (CSV and JSON), a
    report and the learning curves to the output folder, which must not exist
    yet unless --overwrite or --resume is given. `chainrule train digits`
    without training options runs the standard digits job.
    """
    workers = options.pop("workers")
    if workers is not None and world()[1] == 1:
        sys.exit(relaunch(workers, ARGV))
    if data == "digits" and not _training_options_given(click.get_current_context()):
        _report_main_job(run_main_job(options["out"], options["overwrite"], 0 if options["quiet"] else 1),
                         options["quiet"])
        return
    result = train_run(data, _settings(options))
    if world()[0] == 0:  # under mpiexec, rank 0 alone reports
        _report(result)


# Options that change only where results go and how much is printed: the standard job accepts them.
_OUTPUT_OPTIONS = {"data", "out", "overwrite", "quiet"}


def _training_options_given(ctx):
    return any(ctx.get_parameter_source(name) != click.core.ParameterSource.DEFAULT
               for name in ctx.params if name not in _OUTPUT_OPTIONS)


def _report_main_job(result, quiet):
    if quiet:  # otherwise main_job has printed the accuracies itself
        click.echo(" / ".join(f"{part} accuracy {value:.4f}" for part, value in result["accuracy"].items()))
    click.echo("wrote:")
    for path in result["paths"].values():
        click.echo(f"  {path}")


def _settings(options):
    quiet, patience = options.pop("quiet"), options.pop("patience")
    options["regularization"] = _parse_regularization(options["regularization"])
    options["checkpoint"] = not options.pop("no_checkpoint")
    options["plots"] = not options.pop("no_plots")
    return TrainSettings(**options, patience=patience or None, verbose=0 if quiet else 1)


def _report(result):
    meta = result.metadata
    stop = meta["training"]["stop_reason"] or "all epochs done"
    click.echo(f"\ntrained {meta['training']['epochs_run']} epochs ({stop})")
    for part, scores in result.scores.items():
        shown = ", ".join(f"{k} {v:.4f}" for k, v in scores.items())
        click.echo(f"  {part:<5}  {shown}")
    click.echo("wrote:")
    for path in result.files.values():
        click.echo(f"  {path}")


@cli.command()
def datasets():
    """List the built-in data sets (usable wherever a command takes DATA)."""
    from ..data import list_datasets

    rows = list_datasets()
    width = max(len(name) for name, _, _ in rows)
    for name, task, description in rows:
        click.echo(f"{name:<{width}}  {task:<14}  {description}")
