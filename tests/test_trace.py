"""Circuit tables and DOT export."""

import numpy as np
import pytest

import chainrule as cr


def named(v, n):
    return cr.tensor(v, requires_grad=True, dtype=np.float64, name=n)


def test_cs231n_circuit_table_rows():
    x, y, z = named(-2.0, "x"), named(5.0, "y"), named(-4.0, "z")
    q = x + y
    q.name = "q"
    f = q * z
    f.name = "f"
    t = cr.trace(f)
    rows = {r.name: r for r in t.rows}
    assert [r.name for r in t.rows] == ["x", "y", "q", "z", "f"]
    assert rows["q"].op == "add" and rows["q"].inputs == ["x", "y"]
    assert [float(v) for v in rows["q"].local] == [1.0, 1.0]
    assert [float(v) for v in rows["f"].local] == [-4.0, 3.0]
    assert float(rows["q"].upstream) == -4.0 and float(rows["f"].upstream) == 1.0
    assert (float(rows["x"].grad), float(rows["y"].grad), float(rows["z"].grad)) == (-4.0, -4.0, 3.0)
    assert x.grad == -4.0  # trace also performs the backward pass
    table = t.table()
    assert table.splitlines()[0].split() == ["node", "op", "inputs", "value", "local", "grad", "upstream", "grad"]
    assert "-12" in table


def test_trace_sums_leaf_gradients_over_branches_and_shows_constants():
    x = named(3.0, "x")
    t = cr.trace(x * x + 2 * x)
    assert float(t.rows[0].grad) == 8.0
    assert any("2" in r.inputs for r in t.rows)


def test_dot_export_has_every_node_and_edge():
    w = named([1.0, 2.0], "w")
    b = named(0.5, "b")
    out = cr.sigmoid((w * w).sum() + b)
    dot = cr.trace(out).to_dot()
    assert dot.startswith("digraph chainrule {") and dot.rstrip().endswith("}")
    assert '"w" -> "n1"' in dot and '"b" ->' in dot
    assert dot.count("->") == 6  # w feeds the product twice
    assert "grad" in dot


def test_trace_of_tensor_node_shows_shapes_and_rejects_non_tensors():
    w = named(np.ones((3, 3)), "w")
    t = cr.trace((w @ w).sum())
    assert "<float64 (3, 3)>" in t.table()
    with pytest.raises(TypeError, match="needs a chainrule Tensor"):
        cr.trace(3.0)


def test_constant_inputs_show_a_dash_as_local_gradient():
    x = named(2.0, "x")
    row = cr.trace(1.0 / x).rows[-1]
    assert row.local[0] is None and float(row.local[1]) == -0.25
    assert "-, -0.25" in cr.trace(1.0 / named(2.0, "x")).table()


def test_graph_trace_and_matrix_trace_each_have_one_name():
    # cr.trace is the graph trace; the matrix trace (torch.trace's meaning) is x.trace() and cr.linalg.trace.
    assert cr.__all__.count("trace") == 1 and cr.trace.__module__ == "chainrule.autodiff.trace"
    m = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert float(cr.linalg.trace(m).data) == 5.0 and float(m.trace().data) == 5.0
    cr.linalg.trace(m).backward()
    np.testing.assert_array_equal(m.grad, np.eye(2))
    with pytest.raises(RuntimeError, match=r"does not require grad .*use x.trace\(\) or cr.linalg.trace\(x\)"):
        cr.trace(cr.tensor(np.eye(3)))
