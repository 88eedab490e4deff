"""Commands about the engine itself: demo, compare, gradcheck and explain.

Example:
    $ chainrule compare gormley
    $ chainrule explain --lr 0.5
"""

from __future__ import annotations

import click
import numpy as np

import chainrule as cr

from .._core import check
from ._app import cli
from ..explain import explain as trace_step
from ..explain import mazur_network
from .explaining import load_step, parse_numbers

__all__ = ["EXAMPLES"]


def _circuit():
    x, y, z = (cr.tensor(v, requires_grad=True, dtype=np.float64, name=n) for v, n in ((-2.0, "x"), (5.0, "y"), (-4.0, "z")))
    q = x + y
    q.name = "q"
    f = q * z
    f.name = "f"
    return cr.trace(f)


def _neuron(w, x):
    return cr.sigmoid(w[0] * x[0] + w[1] * x[1] + w[2])


def _gormley(x):
    return cr.cos(cr.sin(x ** 2) + 3 * x ** 2)


# The functions the `compare` and `gradcheck` commands offer, keyed by name.
EXAMPLES = {
    "neuron": (_neuron, ([2.0, -3.0, -3.0], [-1.0, -2.0]), "2-D sigmoid neuron, w = (2, -3, -3), x = (-1, -2)"),
    "gormley": (_gormley, (1.5,), "J = cos(sin(x^2) + 3x^2) at x = 1.5"),
    "mlp": (
        lambda w1, w2: cr.softmax_cross_entropy(cr.linear(cr.tanh(cr.linear(np.eye(3), w1)), w2), np.array([0, 1, 2])),
        (np.sin(np.arange(12.0)).reshape(4, 3), 0.5 * np.cos(np.arange(12.0)).reshape(3, 4)),
        "3-4-3 tanh network with softmax cross-entropy",
    ),
}


def _example(name):
    if name not in EXAMPLES:
        raise ValueError(f"unknown example {name!r}; expected one of: {', '.join(EXAMPLES)}")
    return EXAMPLES[name]


@cli.command()
def demo():
    """Show backprop on the cs231n circuit and the four ways to a gradient."""
    click.echo("f = (x + y) * z at x = -2, y = 5, z = -4: the circuit table")
    click.echo(_circuit().table())
    for name, (f, args, title) in EXAMPLES.items():
        if name == "mlp":
            continue
        click.echo(f"\nFour ways to the gradient of the {title}")
        cr.compare_gradients(f, *args)


def _examples_help(first):
    """The --help text of a command taking EXAMPLE: what it does, then each example with its description."""
    listed = "\n".join(f"  {name}: {title}" for name, (_, _, title) in EXAMPLES.items())
    return f"{first}\n\n\b\nEXAMPLE is one of:\n{listed}"


@cli.command(help=_examples_help("Compare reverse, forward, numerical and symbolic gradients on EXAMPLE "
                                 "(default neuron)."))
@click.argument("example", default="neuron")
def compare(example):
    f, args, title = _example(example)
    click.echo(title)
    cr.compare_gradients(f, *args)


@cli.command(help=_examples_help("Check backprop and forward mode against finite differences on EXAMPLE "
                                 "(default mlp)."))
@click.argument("example", default="mlp")
def gradcheck(example):
    f, args, title = _example(example)
    click.echo(title)
    report = cr.gradcheck(f, *args, raise_exception=False)
    click.echo(str(report))
    if not report.passed:
        raise click.ClickException("gradient check failed")
    click.echo("gradient check passed")


@cli.command()
@click.argument("model", required=False, type=click.Path(dir_okay=False))
@click.option("--x", "x_text", help="Input example, comma-separated raw features (default Mazur's 0.05,0.10).")
@click.option("--target", "target_text", help="Target: a class name for a classifier MODEL, else comma-separated "
              "values (default Mazur's 0.01,0.99).")
@click.option("--lr", type=float, default=0.5, show_default=True, help="Learning rate of the update shown.")
@click.option("--fixed-biases", is_flag=True, help="Leave biases out of the update, as Mazur does.")
def explain(model, x_text, target_text, lr, fixed_biases):
    """Print every number of one backprop step: Mazur's 2-2-2 network, or a small saved MODEL.

    A MODEL from `chainrule train` is traced in its own terms: --x is a raw
    feature row, scaled as at training time; --target is a class name
    (classifiers) or raw target values (regressions); the error is the
    model's training loss, and a model trained with a weight penalty shows
    the penalty and the sum apart, as its training history does. A model
    file without training metadata is fed --x as given, with
    E = 1/2 sum (t - o)^2.
    """
    check("lr", lr, ">0")
    if model is None:
        x = parse_numbers(x_text, "--x") if x_text is not None else [0.05, 0.10]
        target = parse_numbers(target_text, "--target") if target_text is not None else [0.01, 0.99]
        click.echo(trace_step(mazur_network(), x, target, lr=lr, update_biases=not fixed_biases).text)
        return
    net, step = load_step(model, x_text, target_text)
    for note in step.notes:
        click.echo(note)
    click.echo(trace_step(net, step.x, step.target, loss=step.loss, lr=lr, update_biases=not fixed_biases,
                          regularization=step.regularization).text)
