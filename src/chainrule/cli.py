"""The ``chainrule`` command line.

Every command is a small click function registered on one group; bad input of
any kind ends in one ``error: ...`` line on stderr and exit code 2, never a
traceback (see :func:`main`).

Example:
    $ chainrule demo
    $ chainrule datasets
"""

from __future__ import annotations

import sys

import click
import numpy as np

import chainrule as cr

__all__ = ["cli", "main", "USER_ERRORS"]

# Exceptions that mean "the user asked for something impossible": reported in one line.
USER_ERRORS = (ValueError, TypeError, FileNotFoundError, FileExistsError, PermissionError,
               IsADirectoryError, NotADirectoryError, ImportError, KeyError, OSError)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(cr.__version__, prog_name="chainrule")
def cli():
    """chainrule: neural networks trained by backpropagation, on NumPy."""


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


@cli.command()
@click.argument("example", default="neuron")
def compare(example):
    """Compare reverse, forward, numerical and symbolic gradients on EXAMPLE."""
    f, args, title = _example(example)
    click.echo(title)
    cr.compare_gradients(f, *args)


@cli.command()
@click.argument("example", default="mlp")
def gradcheck(example):
    """Check backprop and forward mode against finite differences on EXAMPLE."""
    f, args, title = _example(example)
    click.echo(title)
    report = cr.gradcheck(f, *args, raise_exception=False)
    click.echo(str(report))
    if not report.passed:
        raise click.ClickException("gradient check failed")
    click.echo("gradient check passed")


def main(argv=None):
    """Run the CLI; user errors print one line and exit 2, with no traceback."""
    try:
        cli.main(args=argv, prog_name="chainrule", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(2)
    except click.ClickException as e:
        click.echo(f"error: {e.format_message()}", err=True)
        sys.exit(2 if e.exit_code in (1, 2) else e.exit_code)
    except USER_ERRORS as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        click.echo(f"error: {msg}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        sys.exit(130)
    sys.exit(0)


if __name__ == "__main__":  # pragma: no cover
    main()
