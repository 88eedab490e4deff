"""Commands on a saved model: evaluate, predict, info and export.

Each command loads the model with its stored preprocessing
(:class:`~chainrule.cli.trained.TrainedModel`), so DATA is given raw, in
the same form as at training time.

Example:
    $ chainrule evaluate runs/digits/model.safetensors digits
    $ chainrule predict runs/iris/model.safetensors new.csv -o predictions.csv
    $ chainrule info runs/digits/model.safetensors
    $ chainrule export runs/digits/model.safetensors --onnx digits.onnx
"""

from __future__ import annotations

import click

from ._app import cli
from .outputs import check_new_file, write_csv
from .trained import TrainedModel

MODEL = click.Path(dir_okay=True)  # existence and type are checked by the loader, with its own messages


def _format_scores(scores):
    return ", ".join(f"{k} {v:.4f}" for k, v in scores.items() if isinstance(v, float))


@cli.command()
@click.argument("model", type=MODEL)
@click.argument("data")
def evaluate(model, data):
    """Loss and metrics of MODEL on DATA (a CSV/NPZ file with the target column, or a built-in set)."""
    tm = TrainedModel.load(model)
    rows = tm.read(data, with_target=True)
    scores = tm.evaluate(rows.X, rows.y)
    click.echo(f"{rows.name}: {len(rows.X)} rows; {_format_scores(scores)}")


@cli.command()
@click.argument("model", type=MODEL)
@click.argument("data")
@click.option("-o", "--output", type=click.Path(), help="CSV file to write (default: print to the terminal).")
@click.option("--overwrite", is_flag=True, help="Replace OUTPUT if it exists.")
def predict(model, data, output, overwrite):
    """Predict DATA with MODEL: class label and probabilities per row (or predicted values)."""
    if output is not None:
        check_new_file(output, overwrite)  # before any work, so nothing is computed in vain
    tm = TrainedModel.load(model)
    rows = tm.read(data)
    header, table = tm.predict_inputs(rows)
    if output is None:
        click.echo(",".join(header))
        for row in table:
            click.echo(",".join(f"{v:.6g}" if isinstance(v, float) else str(v) for v in row))
        return
    write_csv(output, header, table, overwrite)
    click.echo(f"wrote {len(table)} predictions to {output}", err=True)


@cli.command()
@click.argument("model", type=MODEL)
def info(model):
    """Architecture, parameter count, data columns and training metadata of MODEL."""
    rows = TrainedModel.load(model).describe()
    width = max(len(label) for label, _ in rows)
    for label, text in rows:
        click.echo(f"{label:<{width}}  {text}")


@cli.command()
@click.argument("model", type=MODEL)
@click.option("--onnx", "onnx_path", required=True, type=click.Path(), help="ONNX file to write.")
@click.option("--overwrite", is_flag=True, help="Replace the ONNX file if it exists.")
@click.option("--raw", is_flag=True, help="Export the bare network: no table pipeline or scaler in front, no "
              "probability head.")
def export(model, onnx_path, overwrite, raw):
    """Export MODEL to ONNX, with its preprocessing (CSV imputation and one-hot columns, scaling) and
    probability output unless --raw."""
    check_new_file(onnx_path, overwrite)
    summary = TrainedModel.load(model).export_onnx(onnx_path, overwrite=overwrite, raw=raw)
    click.echo(f"wrote {onnx_path}: {summary}")
