"""Commands about data and training: ``train`` and ``datasets``.

Example:
    $ chainrule train digits
    $ chainrule train iris.csv --target species --hidden 32,16 --epochs 200 -o runs/iris
    $ chainrule datasets
"""

from __future__ import annotations

import sys
import warnings

import click

from ..data.table import ColumnWarning
from ._app import ARGV, cli
from .distributed import relaunch, world
from .run import TrainSettings, apply_data_defaults, train_run
from .tabular import TableOptions
from ..data import list_datasets

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
@click.option("--features", metavar="COLS", help="Feature columns, comma-separated (default: all the others).")
@click.option("--drop", multiple=True, metavar="COLS", help="Columns to ignore, comma-separated.")
@click.option("--id", "id_columns", multiple=True, metavar="COLS",
              help="ID columns: never features; predict copies them into its output.")
@click.option("--no-header", is_flag=True, help="The file has no header row; columns are named col0, col1, ...")
@click.option("--delimiter", help="Field separator: ',', ';', 'tab' or '|' (default: sniffed; tab for .tsv).")
@click.option("--impute", type=click.Choice(["mean", "median", "most_frequent", "drop"]),
              help="Fill missing feature cells (text columns: most frequent) or drop their rows; default: refuse.")
@click.option("--categorical", default="auto", show_default=True, metavar="auto|none|COLS",
              help="One-hot encode text columns (auto), none, or the listed columns even if numeric.")
@click.option("--handle-unknown", type=click.Choice(["error", "ignore"]), default="error", show_default=True,
              help="A category unseen in training: refuse the file, or encode it as all zeros.")
@click.option("--workers", type=int, help="Data-parallel training on N MPI processes (runs mpiexec -n N itself).")
def train(data, **options):
    """Train an MLP on DATA (a .csv/.npz file or a built-in data set) and save the run.

    Writes the model (with its preprocessing), the history (CSV and JSON), a
    report and the learning curves to the output folder, which must not exist
    yet unless --overwrite or --resume is given. A built-in data set may come
    with its own recipe (see `chainrule datasets`); options refine it.
    """
    workers = options.pop("workers")
    if workers is not None and world()[1] == 1:
        sys.exit(relaunch(workers, ARGV))
    given = _given(click.get_current_context())
    settings = apply_data_defaults(_settings(options), data, given)
    with warnings.catch_warnings():
        warnings.simplefilter("always", ColumnWarning)
        warnings.showwarning = _column_warnings(warnings.showwarning)
        result = train_run(data, settings)
    if world()[0] == 0:  # under mpiexec, rank 0 alone reports
        _report(result)


def _column_warnings(others):
    """A ``warnings.showwarning`` printing ColumnWarnings as one ``warning: ...`` line, the rest as ``others`` does."""
    def show(message, category, *args, **kwargs):
        if issubclass(category, ColumnWarning):
            click.echo(f"warning: {message}", err=True)
        else:
            others(message, category, *args, **kwargs)

    return show


def _columns(items):
    """``("a,b", "c")`` -> ``("a", "b", "c")``: repeated options and comma lists both work."""
    return tuple(name.strip() for item in items for name in item.split(",") if name.strip())


def _table_options(options):
    categorical = options.pop("categorical")
    if categorical not in ("auto", "none"):
        categorical = list(_columns([categorical]))
    features = options.pop("features")
    return TableOptions(features=list(_columns([features])) if features else None,
                        drop=_columns(options.pop("drop")), id=_columns(options.pop("id_columns")),
                        header=not options.pop("no_header"), delimiter=options.pop("delimiter"),
                        impute=options.pop("impute"), categorical=categorical,
                        handle_unknown=options.pop("handle_unknown"))


def _given(ctx):
    """Names of the options set on the command line (not left at their defaults)."""
    return {name for name in ctx.params if ctx.get_parameter_source(name) != click.core.ParameterSource.DEFAULT}


def _settings(options):
    quiet, patience = options.pop("quiet"), options.pop("patience")
    options["table"] = _table_options(options)
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
    rows = list_datasets()
    width = max(len(name) for name, _, _ in rows)
    for name, task, description in rows:
        click.echo(f"{name:<{width}}  {task:<14}  {description}")
