"""The ``chainrule`` command line.

Every command is a thin click function on one group (:data:`cli`); the work
is done by library functions that raise one-sentence exceptions, and
:func:`main` prints those as one ``error: ...`` line with exit code 2, never
a traceback. See ``docs/cli.md`` for the command table and a worked example.

Example:
    $ chainrule train digits
    $ chainrule predict runs/digits/model.safetensors new.csv -o predictions.csv
    $ chainrule datasets
"""

from __future__ import annotations

from . import distributed, engine, models, training  # noqa: F401  (importing registers the commands)
from . import playground  # noqa: F401,E402  (registers `chainrule playground`)
from ._app import USER_ERRORS, cli, main

__all__ = ["cli", "main", "USER_ERRORS"]

if __name__ == "__main__":  # pragma: no cover
    main()
