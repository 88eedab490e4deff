"""Gradients of gradients: the Hessian of the sigmoid neuron, and Newton's method.

Slides:
* seed 000 (Reil et al., after cs231n), slides 69-84: the sigmoid neuron
  f = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))) at w = (2, -3, -3), x = (-1, -2), whose
  backward pass gives dw0 = -0.2, dx0 = 0.4 and the sigmoid gate's local gradient
  (0.73)(1 - 0.73) = 0.2. Here the same circuit is differentiated twice.
* seed 001 (Urtasun, Zemel, Fidler), slides 18-19: logistic regression is a
  single-layer network trained on cross-entropy. With the Hessian at hand, Newton's
  method w <- w - H^-1 g fits it in a handful of steps where gradient descent takes
  hundreds (and finds the same weights as scikit-learn).

``backward(create_graph=True)`` makes every VJP run as differentiable ops, so the
gradient is itself a graph; ``cr.hessian`` differentiates it again, by forward mode
over reverse (dual numbers flowing through the backward pass) or reverse over reverse.

Run:  python examples/20_hessians_newton.py OUTDIR [--quick]
"""

import numpy as np

import chainrule as cr
from chainrule.nn import functional as F

from _common import heading, plt, run_cli, save

POINT = np.array([2.0, -3.0, -3.0, -1.0, -2.0])  # w0, w1, w2, x0, x1 of the slides
NAMES = ["w0", "w1", "w2", "x0", "x1"]


def neuron(v):
    """The slides' circuit as one function of v = (w0, w1, w2, x0, x1)."""
    w0, w1, w2, x0, x1 = (v[i] for i in range(5))
    return 1.0 / (1.0 + (-(w0 * x0 + w1 * x1 + w2)).exp())


def sympy_hessian():
    """The same Hessian from SymPy, or None without it."""
    try:
        import sympy
    except ImportError:
        return None
    syms = sympy.symbols(" ".join(NAMES))
    w0, w1, w2, x0, x1 = syms
    f = 1 / (1 + sympy.exp(-(w0 * x0 + w1 * x1 + w2)))
    return np.array(sympy.hessian(f, syms).subs(dict(zip(syms, POINT))).evalf(), dtype=np.float64)


def neuron_part(results):
    heading("The sigmoid neuron, differentiated twice (seed 000, slides 69-84)")
    g = cr.grad(neuron)(POINT)
    print("value", round(float(neuron(cr.tensor(POINT)).item()), 4), " gradient",
          ", ".join(f"d{n} {v:+.3f}" for n, v in zip(NAMES, g)))
    h_fwd = cr.hessian(neuron)(POINT)
    h_rev = cr.hessian(neuron, mode="reverse")(POINT)
    s = 1 / (1 + np.exp(-1.0))  # the neuron's input w.x + w2 is 1 here
    a = np.array([POINT[3], POINT[4], 1.0])
    by_hand = s * (1 - s) * (1 - 2 * s) * np.outer(a, a)  # d2f/dw2 = s(1 - s)(1 - 2s) a a^T
    exact = sympy_hessian()
    print("Hessian (forward over reverse):")
    print("      " + "".join(f"{n:>9}" for n in NAMES))
    for n, row in zip(NAMES, h_fwd):
        print(f"{n:>6}" + "".join(f"{v:9.4f}" for v in row))
    err_modes = float(np.abs(h_fwd - h_rev).max())
    err_hand = float(np.abs(h_fwd[:3, :3] - by_hand).max())
    print(f"forward-over-reverse vs reverse-over-reverse: max difference {err_modes:.1e}")
    print(f"weights block vs s(1 - s)(1 - 2s) a a^T by hand: max difference {err_hand:.1e}")
    if exact is not None:
        results["sympy_error"] = float(np.abs(h_fwd - exact).max())
        print(f"vs SymPy's exact Hessian: max difference {results['sympy_error']:.1e}")
    v = np.array([1.0, 0.0, 0.0, 0.0, 0.0])
    hv = cr.hvp(neuron, POINT, v)
    print("Hessian-vector product H e_w0 without forming H:", np.round(hv, 4))
    results.update(neuron_gradient=g.tolist(), neuron_hessian=h_fwd.tolist(), mode_error=err_modes,
                   hand_error=err_hand, hvp_error=float(np.abs(hv - h_fwd[:, 0]).max()))
    return h_fwd


def logistic_data(n, seed=0):
    """n points in 3-D labelled by a noisy logistic teacher (w = (1.5, -2, 0.5), b = 0.3): not separable."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3))
    y = (rng.random(n) < 1 / (1 + np.exp(-(x @ np.array([1.5, -2.0, 0.5]) + 0.3)))).astype(np.float64)
    return x, y


def minimise(loss, step, iterations, tol=1e-12):
    """Run ``wb <- step(wb, gradient)`` from zero; return the weights and the gradient norm per iteration."""
    wb, norms = np.zeros(4), []
    for _ in range(iterations):
        g = cr.grad(loss)(wb)
        norms.append(float(np.linalg.norm(g)))
        if norms[-1] < tol:
            break
        wb = step(wb, g)
    return wb, norms


def newton_part(results, quick):
    heading("Newton's method on logistic regression (seed 001, slides 18-19)")
    x, y = logistic_data(200 if quick else 2000)

    def loss(wb):
        return F.binary_cross_entropy_with_logits(x @ wb[:3] + wb[3], y)

    hessian = cr.hessian(loss)
    wb, newton = minimise(loss, lambda wb, g: wb - np.linalg.solve(hessian(wb), g), 20)
    _, descent = minimise(loss, lambda wb, g: wb - 1.0 * g, 100 if quick else 500)
    for k, n in enumerate(newton):
        print(f"Newton step {k}: |gradient| = {n:.3e}")
    print(f"gradient descent (lr 1.0) after {len(descent) - 1} steps: |gradient| = {descent[-1]:.3e}")
    print("weights w1..w3, b:", np.round(wb, 6))
    results.update(newton_norms=newton, descent_norms=descent, newton_weights=wb.tolist())
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        return newton, descent
    ref = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000, solver="newton-cg").fit(x, y)
    ref_wb = np.r_[ref.coef_[0], ref.intercept_]
    results["sklearn_difference"] = float(np.abs(wb - ref_wb).max())
    print(f"scikit-learn LogisticRegression (no penalty): {np.round(ref_wb, 6)}; "
          f"max difference {results['sklearn_difference']:.1e}")
    return newton, descent


def main(outdir, quick=False):
    results = {}
    h = neuron_part(results)
    newton, descent = newton_part(results, quick)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    im = axes[0].imshow(h, cmap="RdBu_r", vmin=-np.abs(h).max(), vmax=np.abs(h).max())
    axes[0].set(xticks=range(5), yticks=range(5), xticklabels=NAMES, yticklabels=NAMES,
                title="Hessian of the sigmoid neuron at the slides' point")
    fig.colorbar(im, ax=axes[0])
    axes[1].semilogy(newton, marker="o", label="Newton: w - H^-1 g")
    axes[1].semilogy(descent, label="gradient descent, lr 1.0")
    axes[1].set(title="logistic regression: |gradient| per step", xlabel="step", ylabel="|gradient|")
    axes[1].legend()
    results["figures"] = [save(fig, outdir, "20_hessians_newton.png")]
    return results


if __name__ == "__main__":
    run_cli(main, __doc__)
