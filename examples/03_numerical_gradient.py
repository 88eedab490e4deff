"""The numerical gradient, one nudge at a time, then the analytic gradient and a gradient check.

Slides:
* the Reil et al. ANN & backpropagation lecture (after cs231n), slides 28-35: "current W ... loss 1.25347;
  W + h (first dim) ... loss 1.25322; gradient dW: (1.25322 - 1.25347)/0.0001 = -2.5",
  and so on, one dimension at a time.
* the Reil et al. ANN & backpropagation lecture, slides 36-38: the numerical gradient is approximate and slow, the
  analytic one exact and fast: "use analytic gradient, but check correctness with
  numerical gradient. This is called a gradient check."
* the CMU 10-601 backpropagation lecture (Gormley), slide 8: finite differences suffer from floating-point
  precision and need an appropriately chosen epsilon.

The loss is that of a linear softmax classifier (scores = W x, cross-entropy) on
a few handwritten digits, as in the slides' W, a long vector of weights.

Run:  python examples/03_numerical_gradient.py OUTDIR [--quick]
"""

import time

import numpy as np

import chainrule as cr
from chainrule.data import load_dataset
from chainrule.nn import functional as F

from _common import heading, plt, run_cli, save

H = 1e-4  # the slides' nudge


def make_loss(n_examples):
    """L(W) for a linear classifier on ``n_examples`` digits; the bias is a leading column of ones in x."""
    ds = load_dataset("digits", dtype=np.float64)
    X = np.c_[np.ones(n_examples), ds.X[:n_examples] / 16.0]
    y = ds.y[:n_examples]
    return lambda W: F.cross_entropy(cr.tensor(X) @ W.T, y)


def loss_value(loss, W, i=None, h=0.0):
    """L(W), or L(W + h e_i): the loss with weight i nudged by h."""
    W = W.copy()
    if i is not None:
        W.reshape(-1)[i] += h
    return float(loss(cr.tensor(W)).item())


def fmt_vec(v, k=9):
    return "[" + ", ".join(f"{x:.2f}" for x in v[:k]) + ", ...]"


def main(outdir, quick=False):
    results = {}
    loss = make_loss(20 if quick else 100)
    W = np.random.default_rng(0).normal(scale=0.1, size=(10, 65))
    w = W.reshape(-1)  # the slides' view: one long vector of weights
    base = loss_value(loss, W)

    heading("Nudge one weight at a time by h = 0.0001 (Reil et al. lecture, slides 29-35)")
    print(f"current W: {fmt_vec(w)}  loss {base:.8f}")
    numeric = []
    for i in range(3):
        nudged = loss_value(loss, W, i, H)
        numeric.append((nudged - base) / H)
        print(f"W + h (dim {i + 1}): loss {nudged:.8f} -> "
              f"dW[{i}] = ({nudged:.8f} - {base:.8f}) / {H} = {numeric[-1]:.4f}")
    print("(dim 2 weighs the top-left pixel, blank in every image: nudging it changes nothing, "
          "so its gradient is 0)")

    heading("The analytic gradient from one backward pass (Reil et al. lecture, slide 37)")
    t0 = time.perf_counter()
    Wt = cr.tensor(W.copy(), requires_grad=True)
    loss(Wt).backward()
    analytic = Wt.grad.reshape(-1)
    t_analytic = time.perf_counter() - t0
    print(f"dW = {fmt_vec(analytic)}")
    for i in range(3):
        print(f"  dim {i + 1}: numerical {numeric[i]:+.6f}  analytic {analytic[i]:+.6f}  "
              f"difference {abs(numeric[i] - analytic[i]):.1e}")

    heading("Numerical gradient of every weight: slow (Reil et al. lecture, slide 36)")
    t0 = time.perf_counter()
    full = cr.numerical_grad(loss, W, eps=H, method="forward")
    t_numeric = time.perf_counter() - t0
    err = float(np.abs(analytic - full.reshape(-1)).max())
    print(f"{w.size} weights: numerical {w.size + 1} loss evaluations, {t_numeric * 1e3:.1f} ms; "
          f"analytic one forward and one backward pass, {t_analytic * 1e3:.2f} ms")
    print(f"largest |numerical - analytic| with forward differences, h = {H}: {err:.1e} (approximate)")

    heading("Gradient check: central differences, float64 (Reil et al. lecture, slide 38)")
    report = cr.gradcheck(loss, W, raise_exception=False)
    print(report)
    print("gradient check", "PASSED" if report.passed else "FAILED")

    # Why h matters: truncation error shrinks with h, rounding error grows as h shrinks.
    hs = np.logspace(-12, -1, 12 if quick else 23)
    i = int(np.argmax(np.abs(analytic)))
    forward = [(loss_value(loss, W, i, h) - base) / h for h in hs]
    central = [(loss_value(loss, W, i, h) - loss_value(loss, W, i, -h)) / (2 * h) for h in hs]
    errs = {m: np.abs(np.array(g) - analytic[i]) + 1e-20 for m, g in (("forward", forward), ("central", central))}
    best = {m: float(hs[int(np.argmin(e))]) for m, e in errs.items()}
    print(f"best h for weight {i}: forward differences {best['forward']:.0e}, central {best['central']:.0e}")

    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    k = np.arange(12)
    axes[0].bar(k - 0.2, full.reshape(-1)[:12], width=0.4, label=f"numerical, h = {H}")
    axes[0].bar(k + 0.2, analytic[:12], width=0.4, label="analytic (backprop)")
    axes[0].set(title="dL/dW, first 12 weights", xlabel="weight index", ylabel="gradient")
    for method, e in errs.items():
        axes[1].loglog(hs, e, marker="o", label=f"{method} differences")
    axes[1].set(title=f"|numerical - analytic| for weight {i}", xlabel="h", ylabel="absolute error")
    results["figures"] = [save(fig, outdir, "03_numerical_gradient.png")]
    results.update(loss=base, numeric_first=numeric, analytic_first=analytic[:3].tolist(),
                   max_abs_error_forward=err, gradcheck_passed=bool(report.passed),
                   seconds_numeric=t_numeric, seconds_analytic=t_analytic, best_h=best)
    return results


if __name__ == "__main__":
    run_cli(main, __doc__)
