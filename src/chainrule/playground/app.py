"""The ASGI app (starlette) and the server (uvicorn): static page + one WebSocket per tab.

``GET /`` serves ``static/index.html`` and ``/static/*`` the script and style
sheet, all from this package (no CDN, works offline). ``/ws`` is the session
socket: every text message is parsed by :mod:`.protocol` on the event loop
(a bad one gets an error frame at once), valid commands go to the session's
worker thread, and a sender task delivers queued replies and the latest frame.
Closing the socket stops the worker and frees the session.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import webbrowser

from starlette.applications import Starlette
from starlette.responses import FileResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from .protocol import parse
from .session import Session

__all__ = ["create_app", "serve", "STATIC"]

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
MAX_SESSIONS = 32


async def _index(request):
    return FileResponse(os.path.join(STATIC, "index.html"), headers={"Cache-Control": "no-cache"})


async def _sender(ws, session, wake):
    while True:
        await wake.wait()
        wake.clear()
        for message in session.take():
            await ws.send_text(_encode(message))


def _encode(message):
    """The message as JSON text; one that JSON cannot carry (nan, say) becomes an error frame, not a dead sender."""
    try:
        return json.dumps(message, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        kind = message.get("type") if isinstance(message, dict) else None
        return json.dumps({"type": "error", "message": f"internal error: a {kind!r} message could not be sent ({exc})"})


def _session_socket(app):
    async def endpoint(ws: WebSocket):
        await ws.accept()
        sessions = app.state.sessions
        if len(sessions) >= MAX_SESSIONS:
            await ws.send_text(json.dumps({"type": "error", "message": f"at most {MAX_SESSIONS} tabs at once"}))
            await ws.close()
            return
        loop, wake = asyncio.get_running_loop(), asyncio.Event()
        session = Session(seed=app.state.seed, notify=lambda: loop.call_soon_threadsafe(wake.set))
        sessions[id(session)] = session
        session.start()
        sender = asyncio.create_task(_sender(ws, session, wake))
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                _dispatch(session, message.get("text"), message.get("bytes"))
        except WebSocketDisconnect:
            pass
        finally:
            sender.cancel()
            sessions.pop(id(session), None)
            await loop.run_in_executor(None, session.close)
    return endpoint


def _dispatch(session, text, data):
    try:
        name, fields = parse(text if text is not None else data)
    except ValueError as exc:
        session._reply({"type": "error", "message": str(exc)})
        return
    session.submit(name, fields)


def create_app(seed=None):
    """The starlette app; ``seed`` fixes the first session's data seed (default: random, as the reference).

    ``app.state.sessions`` maps live sessions by id (empty once every socket closed).
    """
    app = Starlette(routes=[
        Route("/", _index),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ])
    app.router.routes.append(WebSocketRoute("/ws", _session_socket(app)))
    app.state.sessions = {}
    app.state.seed = seed
    return app


def serve(host="127.0.0.1", port=8765, open_browser=True, seed=None):
    """Serve the playground with uvicorn until Ctrl-C; prints the URL, opens the browser unless told not to."""
    import uvicorn

    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: listening on {host}: anyone who can reach this address can use the playground", file=sys.stderr)
    print(f"chainrule playground: {url}  (Ctrl-C stops it)", flush=True)
    _check_port_free(host, port)
    one_blas_thread()
    config = uvicorn.Config(create_app(seed=seed), host=host, port=port, log_level="warning", ws="auto")
    if open_browser:
        webbrowser.open(url)
    uvicorn.Server(config).run()


def one_blas_thread():
    """Limit the BLAS to one thread for this process, if threadpoolctl is there.

    Sessions train in threads of their own; on a small machine a multi-threaded BLAS
    fighting them made the 10,000-point heat-map products 4-6x slower (measured with
    benchmarks/bench_playground.py). Returns the threadpoolctl limiter or None.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(1)


def _check_port_free(host, port):
    """Fail with one sentence (not uvicorn's log) when the port is taken."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise OSError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); pick another --port") from None
