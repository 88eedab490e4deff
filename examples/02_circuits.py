"""Backprop on circuits: every node's value, local gradient and upstream gradient, as a table.

Slides:
* the Reil et al. ANN & backpropagation lecture (after cs231n), slides 51-62: f(x, y, z) = (x + y) z at
  x = -2, y = 5, z = -4.
* the Reil et al. ANN & backpropagation lecture, slides 69-84: the 2-D sigmoid neuron f(w, x) = 1 / (1 + e^-(w0 x0 + w1 x1 + w2))
  with w = (2, -3, -3), x = (-1, -2), first gate by gate, then with one sigmoid gate
  whose local gradient is (0.73)(1 - 0.73) = 0.2; slides 85-86: add distributes,
  mul switches, gradients add at branches.
* the CMU 10-601 backpropagation lecture (Gormley), slides 27-28: J = cos(sin(x^2) + 3x^2), forward and backward
  through t = x^2, u1 = sin(t), u2 = 3t, u = u1 + u2; slide 26: reverse mode visits the
  nodes in reverse topological order; slide 7: the four ways to a gradient.

Each circuit is also written to OUTDIR as Graphviz DOT (render with ``dot -Tpng``).

Run:  python examples/02_circuits.py OUTDIR [--quick]
"""

import numpy as np

import chainrule as cr

from _common import heading, plt, prepare, run_cli, save

X_GORMLEY = 1.5  # the slides leave x open; any value works


def named(t, name):
    """Give a node a name so that the table and the DOT graph use the slides' letters."""
    t.name = name
    return t


def leaf(value, name):
    return cr.tensor(float(value), requires_grad=True, dtype=np.float64, name=name)


def show(title, out, outdir, filename):
    """Backprop from ``out``, print the circuit table and write the DOT file."""
    heading(title)
    tr = cr.trace(out)
    print(tr.table())
    path = prepare(outdir) / filename
    path.write_text(tr.to_dot() + "\n")
    print(f"wrote {path}")
    return path


def gormley(x):
    """J = cos(sin(x^2) + 3 x^2), written as the slide's chain of named variables."""
    t = named(x ** 2, "t")
    u1 = named(cr.sin(t), "u1")
    u2 = named(3 * t, "u2")           # t feeds two nodes, so dJ/dt is a sum of two paths
    u = named(u1 + u2, "u")
    return named(cr.cos(u), "J")


def main(outdir, quick=False):
    results, dots = {}, []

    # (x + y) z: the add gate hands its upstream gradient to both inputs unchanged,
    # the mul gate hands each input the *other* input's value times the upstream.
    x, y, z = leaf(-2, "x"), leaf(5, "y"), leaf(-4, "z")
    q = named(x + y, "q")
    f = named(q * z, "f")
    dots.append(show("f = (x + y) z at x = -2, y = 5, z = -4 (Reil et al. lecture, slides 51-62)", f, outdir,
                     "02_add_mul.dot"))
    results["add_mul"] = {"f": f.item(), "dx": float(x.grad), "dy": float(y.grad), "dz": float(z.grad)}
    print(f"df/dx = {x.grad}, df/dy = {y.grad}, df/dz = {z.grad}   (slides: -4, -4, 3)")

    # The sigmoid neuron gate by gate: *, +, neg, exp, +1, 1/x.
    w = [leaf(v, f"w{i}") for i, v in enumerate((2, -3, -3))]
    xs = [leaf(v, f"x{i}") for i, v in enumerate((-1, -2))]
    dot = named(w[0] * xs[0] + w[1] * xs[1] + w[2], "dot")
    out = named(1.0 / (1.0 + cr.exp(-dot)), "f")
    dots.append(show("Sigmoid neuron, one primitive gate per node (Reil et al. lecture, slides 69-82)", out, outdir,
                     "02_neuron_gates.dot"))
    grads_gates = [float(v.grad) for v in (*w, *xs)]

    # The same neuron with one sigmoid gate: local gradient sigma (1 - sigma).
    w = [leaf(v, f"w{i}") for i, v in enumerate((2, -3, -3))]
    xs = [leaf(v, f"x{i}") for i, v in enumerate((-1, -2))]
    dot = named(w[0] * xs[0] + w[1] * xs[1] + w[2], "dot")
    out = named(cr.sigmoid(dot), "f")
    dots.append(show("Sigmoid neuron with a sigmoid gate (Reil et al. lecture, slides 83-84)", out, outdir,
                     "02_neuron_sigmoid.dot"))
    s = out.item()
    print(f"sigmoid gate: local gradient ({s:.2f}) * (1 - {s:.2f}) = {s * (1 - s):.2f}")
    grads_sigmoid = [float(v.grad) for v in (*w, *xs)]
    print("dw = [" + ", ".join(f"{g:.2f}" for g in grads_sigmoid[:3]) + "], dx = ["
          + ", ".join(f"{g:.2f}" for g in grads_sigmoid[3:]) + "]")
    print("(the slides round 0.1966 to 0.2 first, so they show dw = [-0.2, -0.4, 0.2], dx = [0.39, -0.59])")
    results["neuron"] = {"f": s, "grads": grads_sigmoid,
                         "same_as_gates": bool(np.allclose(grads_gates, grads_sigmoid))}

    # Gormley's chain: forward computes t, u1, u2, u, J; backward visits them in reverse.
    x = leaf(X_GORMLEY, "x")
    J = gormley(x)
    dots.append(show(f"J = cos(sin(x^2) + 3x^2) at x = {X_GORMLEY} (CMU 10-601 lecture, slides 27-28)", J, outdir,
                     "02_gormley.dot"))
    # t feeds u1 and u2, so its gradient is the sum over both paths (Reil et al. lecture, slide 86).
    u_val = np.sin(X_GORMLEY ** 2) + 3 * X_GORMLEY ** 2
    via_u1 = -np.sin(u_val) * np.cos(X_GORMLEY ** 2)
    via_u2 = -np.sin(u_val) * 3
    print(f"dJ/dt = via u1 {via_u1:.4f} + via u2 {via_u2:.4f} = {via_u1 + via_u2:.4f}")
    by_hand = -np.sin(np.sin(X_GORMLEY ** 2) + 3 * X_GORMLEY ** 2) * (np.cos(X_GORMLEY ** 2) + 3) * 2 * X_GORMLEY
    print(f"dJ/dx = {float(x.grad):.6f}; the chain rule by hand: -sin(u) (cos t + 3) 2x = {by_hand:.6f}")
    results["gormley"] = {"x": X_GORMLEY, "J": J.item(), "dJdx": float(x.grad), "by_hand": float(by_hand)}

    heading("The four ways to a gradient on J (CMU 10-601 lecture, slide 7)")
    rows = cr.compare_gradients(lambda v: cr.cos(cr.sin(v ** 2) + 3 * v ** 2), X_GORMLEY)
    results["gormley"]["methods"] = {r["method"]: r["max_err"] for r in rows}

    # Figure: J and dJ/dx along x; reverse mode gives the derivative at every point in one backward.
    grid = np.linspace(-2.0, 2.0, 200 if quick else 800)
    J_of = lambda v: cr.cos(cr.sin(v ** 2) + 3 * v ** 2)  # noqa: E731
    dJ = cr.grad(lambda v: J_of(v).sum())(grid)
    fd = cr.numerical_grad(lambda v: J_of(v).sum(), grid)
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(grid, J_of(cr.tensor(grid)).data, label="J(x)")
    ax.plot(grid, dJ, label="dJ/dx, reverse mode")
    ax.plot(grid[::10], fd[::10], "k.", ms=4, label="dJ/dx, finite differences")
    ax.axvline(X_GORMLEY, color="grey", ls=":")
    ax.set(title="J = cos(sin(x$^2$) + 3x$^2$) and its derivative", xlabel="x")
    results["figures"] = [save(fig, outdir, "02_gormley_derivative.png")]
    results["dot_files"] = dots
    return results


if __name__ == "__main__":
    run_cli(main, __doc__)
