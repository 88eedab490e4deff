"""The playground: TensorFlow Playground in the browser, trained live by chainrule's engine.

``chainrule playground`` serves a page (plain HTML + JavaScript on ``<canvas>``,
shipped in this package's ``static/`` folder, no CDN) and trains the network
server-side: one WebSocket per browser tab, one worker thread per session.
The server needs the ``playground`` extra (starlette, uvicorn, websockets); the
training core (:mod:`.settings`, :mod:`.points`, :mod:`.network`, :mod:`.trainer`)
needs only NumPy, so it is importable and testable without them.

Example:
    >>> from chainrule.playground.trainer import Trainer
    >>> t = Trainer({"seed": "1"})
    >>> t.run_epochs(3)
    >>> t.epoch
    3
"""

from __future__ import annotations

__all__ = ["create_app", "serve"]


def create_app(seed=None):
    """The ASGI app (starlette); see :func:`chainrule.playground.app.create_app`."""
    from .app import create_app as _create_app

    return _create_app(seed=seed)


def serve(host="127.0.0.1", port=8765, open_browser=True, seed=None):
    """Run the server until Ctrl-C; see :func:`chainrule.playground.app.serve`."""
    from .app import serve as _serve

    return _serve(host=host, port=port, open_browser=open_browser, seed=seed)
