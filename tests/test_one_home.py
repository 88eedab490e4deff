"""One home per concept: the op table is a Registry, and trace walks the graph in backward's own order."""

import inspect
import numpy as np
import pytest

import chainrule as cr
from chainrule._core import Registry, UnknownNameError
from chainrule.autodiff import engine, ops
from chainrule.autodiff.trace import trace


def test_the_op_table_is_a_registry_with_the_standard_error():
    assert isinstance(ops.REGISTRY, Registry) and ops.REGISTRY.kind == "op"
    with pytest.raises(UnknownNameError, match=r"^unknown op 'expp'; expected one of: .*\bexp\b"):
        ops.REGISTRY["expp"]
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="unknown op 'nope'"):
        x._op("nope")


def test_the_catalogue_describes_every_op_and_flags_the_piecewise_constant_ones():
    rows = ops.catalogue()
    assert [r[0] for r in rows] == sorted(ops.REGISTRY)
    assert all(isinstance(doc, str) and doc for _, doc, _ in rows)
    flat = {name for name, _, differentiable in rows if not differentiable}
    assert {"sign", "step"} <= flat and "exp" not in flat
    for name in flat:  # a flagged op really has a zero gradient
        x = cr.tensor(np.linspace(-1, 1, 5) + 2.5, requires_grad=True)  # away from 0: floor_divide divides
        arity = sum(p.default is p.empty for p in inspect.signature(ops.REGISTRY[name].forward).parameters.values())
        x._op(name, *[x] * (arity - 1)).sum().backward()
        assert not x.grad.any(), name


def _graph():
    a, b = cr.tensor(2.0, requires_grad=True, name="a"), cr.tensor(-1.0, requires_grad=True, name="b")
    u = a * b
    v = (u + a).exp()
    return (v * u + b.tanh()).sum()


def test_trace_lists_the_order_whose_reverse_backward_visits():
    out = _graph()
    forward = [t for t in engine.topological_order(out)]
    assert all(t._node is not None for t in forward)
    assert all(max((i._node.seq for i in t._node.inputs if getattr(i, "_node", None)), default=-1) < t._node.seq
               for t in forward)  # inputs before outputs
    visited = []
    engine.backward(_graph(), hook=lambda t, g, grads: visited.append(t._node.op.name))
    assert visited == [t._node.op.name for t in reversed(forward)]
    rows = trace(_graph()).rows
    assert [r.op for r in rows if r.op != "leaf"] == [t._node.op.name for t in forward]
    assert [r.name for r in rows if r.op == "leaf"] == ["a", "b"]  # each leaf just before its first use
    assert trace(cr.tensor(3.0, requires_grad=True) * 1).rows[0].op == "leaf"


def test_recurrent_layers_follow_their_class_not_a_name():
    from chainrule import nn
    from chainrule.nn._rnn_rules import _LSTMRule

    class Memory(nn.LSTM):  # a renamed subclass is still an LSTM
        pass

    assert issubclass(nn.LSTMCell, _LSTMRule) and issubclass(nn.LSTM, _LSTMRule)
    out, (h, c) = Memory(2, 3, seed=0, return_state=True)(cr.zeros(1, 4, 2))
    assert out.shape == (1, 4, 3) and h.shape == c.shape == (1, 3)
    assert np.allclose(out.data[:, -1], h.data)
    assert "nonlinearity='relu'" in repr(nn.RNN(2, 3, nonlinearity="relu")) and "nonlinearity" not in repr(nn.GRU(2, 3))
