"""ONNX exporters of the context nets, Elman and Jordan: their step loop as one ONNX ``Scan``.

The ``Scan`` body is one time step of the net, built from the same exporters as
any other layer: ``h = act(input_hidden(x_t) + context_hidden(c))``,
``y = output_activation(hidden_output(h))``, and the next context, which is
the one thing the two nets do differently (:data:`NEXT_CONTEXT`): Elman
copies the hidden layer back (``c' = copy_back * h``), Jordan feeds the
outputs back into decaying state units (``c' = y + decay * c``). The first
context holds ``context_init`` in every unit; the graph runs free, as
``net(x)`` does (teacher forcing is a training device and is not exported).

Example:
    >>> from chainrule import nn
    >>> from chainrule.io.onnx import to_onnx
    >>> proto = to_onnx(nn.Jordan(2, 4, 3, decay=0.5, seed=0))
    >>> [n.op_type for n in proto.graph.node][-2:]
    ['Scan', 'Identity']
"""

from __future__ import annotations

import numpy as np

__all__ = ["CONTEXT_EXPORTS", "CONTEXT_INPUT_SHAPES", "NEXT_CONTEXT"]


def _elman_context(g, net, c, h, y):
    return g.op("Mul", [h, g.const(net.copy_back.data, "copy_back")])


def _jordan_context(g, net, c, h, y):
    return y if not net.decay else g.op("Add", [y, g.op("Mul", [c, g.const(net.decay)])])


#: Context net name -> ``fn(graph, net, c, h, y)``: the name of the next step's context.
NEXT_CONTEXT = {"Elman": _elman_context, "Jordan": _jordan_context}


def _first_context(g, net, x):
    """(N, context units) filled with ``context_init``, N taken from the input."""
    size = net._context_size()
    shape = g.op("Concat", [g.op("Shape", [x], start=0, end=1), g.ints([size])], axis=0)
    return g.op("Expand", [g.const(np.full((1, size), net.context_init), "context_init"), shape], hint="context")


def _step_body(g, net, name):
    """The Scan body: (context, x_t) -> (next context, y_t), reading the weights from the outer graph."""
    body = g.child()
    c, x_t = body.fresh("context_in"), body.fresh("x_t")
    h = body.layer(net.activation, body.op("Add", [body.layer(net.input_hidden, x_t), body.layer(net.context_hidden, c)]))
    y = body.layer(net.output_activation, body.layer(net.hidden_output, h))
    c_next = body.op("Identity", [NEXT_CONTEXT[name](body, net, c, h, y)], hint="context_out")
    y_out = body.op("Identity", [y], hint="y_t")
    helper, elem = g.onnx.helper, g.onnx.helper.np_dtype_to_tensor_dtype(g.dtype)
    values = [helper.make_tensor_value_info(n, elem, ["batch", size])
              for n, size in ((c, net._context_size()), (x_t, net.input_size))]
    outputs = [helper.make_tensor_value_info(n, elem, ["batch", size])
               for n, size in ((c_next, net._context_size()), (y_out, net.output_size))]
    return helper.make_graph(body.nodes, f"{name}_step", values, outputs)


def _context_net(name):
    def export(g, net, x):
        _, ys = g.ops("Scan", [_first_context(g, net, x), x], 2, hint="scan", body=_step_body(g, net, name),
                      num_scan_inputs=1, scan_input_axes=[1], scan_output_axes=[1])
        return ys if net.return_sequences else g.op("Gather", [ys, g.ints(-1)], axis=1)   # (N, T, O) or (N, O)

    return export


#: Layer name -> exporter, merged into ``chainrule.io.onnx.LAYER_EXPORTS``.
CONTEXT_EXPORTS = {name: _context_net(name) for name in NEXT_CONTEXT}

#: Layer name -> ``fn(net)``: the graph input's shape when a context net reads it (always batch first).
CONTEXT_INPUT_SHAPES = {name: (lambda net: ["batch", "time", net.input_size]) for name in NEXT_CONTEXT}
