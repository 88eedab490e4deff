"""The ``playground`` command: TensorFlow Playground in the browser, trained live by chainrule.

Example:
    $ chainrule playground
    $ chainrule playground --port 9000 --no-browser --seed 3
"""

from __future__ import annotations

import click

from ._app import cli

__all__ = ["playground"]


@cli.command()
@click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535), help="TCP port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind; anything but loopback is reachable by others (a warning says so).")
@click.option("--no-browser", is_flag=True, help="Do not open a browser tab.")
@click.option("--seed", type=click.IntRange(0, None), default=None, help="Data seed of every new tab (default: random).")
def playground(port, host, no_browser, seed):
    """Serve the playground (needs the playground extra: pip install 'chainrule[playground]')."""
    try:
        from ..playground.app import serve
    except ImportError as exc:
        raise ImportError(f"the playground needs starlette, uvicorn and websockets ({exc}); "
                          "install them with: pip install 'chainrule[playground]'") from None
    serve(host=host, port=port, open_browser=not no_browser, seed=seed)
