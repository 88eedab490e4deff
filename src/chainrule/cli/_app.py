"""The click group every command registers on, and :func:`main`, which turns user errors into one line.

Every bad input - a missing file, a bad option value, a corrupt model - ends
in one ``error: ...`` line on stderr and exit code 2, never a traceback; a
Ctrl-C ends with exit code 130.
"""

from __future__ import annotations

import sys

import click

from .. import __version__

__all__ = ["cli", "main", "USER_ERRORS"]

# Exceptions that mean "the user asked for something impossible": reported in one line.
USER_ERRORS = (ValueError, TypeError, FileNotFoundError, FileExistsError, PermissionError,
               IsADirectoryError, NotADirectoryError, ImportError, KeyError, OSError)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="chainrule")
def cli():
    """chainrule: neural networks trained by backpropagation, on NumPy."""


def one_line(exc) -> str:
    """The message of an exception as a single line (KeyError's quotes and OS error codes removed)."""
    if isinstance(exc, KeyError) and exc.args:
        text = str(exc.args[0])
    elif isinstance(exc, OSError) and exc.strerror and exc.filename:
        text = f"{exc.filename}: {exc.strerror.lower()}"
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def _fail(message, code=2):
    if _rank() == 0:  # under mpiexec every rank meets the same error: rank 0 alone reports it
        click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _rank():
    from .distributed import world

    return world()[0]


#: The arguments of the running command (``train --workers`` relaunches itself under mpiexec with them).
ARGV = []


def main(argv=None):
    """Run the CLI; user errors print one line and exit 2, with no traceback."""
    ARGV[:] = sys.argv[1:] if argv is None else list(argv)
    try:
        cli.main(args=argv, prog_name="chainrule", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as e:  # a bare `chainrule` asks for the overview
        click.echo(e.ctx.get_help())
    except click.exceptions.Abort as e:
        cause = e.__cause__ or e.__context__  # click turns Ctrl-C into Abort; keep its message and exit code
        if isinstance(cause, KeyboardInterrupt):
            _fail(one_line(cause) if cause.args else "interrupted", 130)
        _fail("aborted")
    except click.ClickException as e:
        _fail(" ".join(e.format_message().split()), 2 if e.exit_code in (1, 2) else e.exit_code)
    except USER_ERRORS as e:
        _fail(one_line(e))
    except KeyboardInterrupt as e:
        _fail(one_line(e) if e.args else "interrupted", 130)
    sys.exit(0)
