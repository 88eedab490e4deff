"""Universal approximation: one hidden layer of 1, 2, 4, 8 and 32 sigmoid units fitting sin(x), |x| and a step.

Slides:
* seed 003 (Merceron), slide 19: "Universal approximation theorem: a feedforward
  network with a linear output layer and at least one hidden layer with any
  'squashing' activation function (such as the logistic sigmoid) can approximate
  any Borel measurable function ... provided that the network is given enough
  hidden units" (Goodfellow, Bengio and Courville, Deep Learning, p. 198).

Each network is ``y = b + sum_j v_j * sigmoid(w_j x + c_j)``: a sum of sigmoid
"steps" of adjustable position, steepness and height. With one unit the output is
one step; more units place more steps, and the fit improves with width. (The
step itself is one sigmoid made infinitely steep; gradient descent only gets
there slowly, as the weights grow, so its error falls more slowly.) The
second figure draws every hidden unit's contribution ``v_j * sigmoid(w_j x + c_j)``
of the 8-unit networks, so you see the target built from squashed pieces.

Run:  python examples/14_universal_approximation.py OUTDIR [--quick]
"""

import numpy as np

import chainrule as cr
from chainrule import nn, optim

from _common import heading, plt, run_cli, save

WIDTHS = (1, 2, 4, 8, 32)
TARGETS = {
    "sin(x)": (np.sin, (-np.pi, np.pi)),
    "|x|": (np.abs, (-2.0, 2.0)),
    "step": (lambda x: (x > 0).astype(np.float64), (-2.0, 2.0)),
}


def fit_one(x, t, width, steps, seed=0):
    net = nn.MLP([1, width, 1], activation="sigmoid", seed=seed, dtype=np.float64)
    opt = optim.Adam(net.parameters(), lr=0.1)
    xt = cr.tensor(x)
    for _ in range(steps):
        loss = ((net(xt) - t) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net, float(np.sqrt(((net(xt).data - t) ** 2).mean()))


def contributions(net, x):
    """Each hidden unit's term v_j * sigmoid(w_j x + c_j) (columns) and the output bias."""
    hidden = 1 / (1 + np.exp(-(x @ net.hidden[0].weight.data.T + net.hidden[0].bias.data)))
    return hidden * net.output.weight.data[0], float(net.output.bias.data[0])


def main(outdir, quick=False):
    steps, starts = (800, 1) if quick else (5000, 3)
    x = np.linspace(0, 1, 100)[:, None]    # an even count: no point sits exactly on the step
    rmse, nets, grids = {}, {}, {}
    for name, (f, (lo, hi)) in TARGETS.items():
        heading(f"{name} on [{lo:.2f}, {hi:.2f}], {steps} Adam steps per start")
        grid = lo + (hi - lo) * x
        t = f(grid)
        grids[name] = (grid, t)
        rmse[name] = {}
        for width in WIDTHS:
            # Gradient descent can stall in a poor local minimum: keep the best of a few starts.
            fits = [fit_one(grid, t, width, steps, seed) for seed in range(starts)]
            nets[name, width], rmse[name][width] = min(fits, key=lambda f: f[1])
            print(f"  {width:2d} hidden units: RMS error {rmse[name][width]:.4f} (best of {starts})")

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for ax, (name, (grid, t)) in zip(axes, grids.items()):
        ax.plot(grid, t, "k", lw=4, alpha=0.3, label="target")
        for width in WIDTHS:
            ax.plot(grid, nets[name, width](cr.tensor(grid)).data, label=f"{width} units (RMS {rmse[name][width]:.3f})")
        ax.set(title=f"{name}: one hidden layer of sigmoid units", xlabel="x", ylabel="y")
    figures = [save(fig, outdir, "14_universal_fits.png")]

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for ax, (name, (grid, t)) in zip(axes, grids.items()):
        parts, bias = contributions(nets[name, 8], grid)
        for j in range(parts.shape[1]):
            ax.plot(grid, parts[:, j], lw=1, label=f"unit {j + 1}")
        ax.plot(grid, parts.sum(axis=1) + bias, "k", lw=2.5, label=f"sum + bias ({bias:+.2f})")
        ax.plot(grid, t, "k:", lw=1.5, label="target")
        ax.set(title=f"{name}: each of 8 units adds $v_j\\,\\sigma(w_j x + c_j)$", xlabel="x",
               ylabel="contribution to y")
        ax.legend(fontsize=7, ncol=2)
    figures.append(save(fig, outdir, "14_universal_contributions.png"))

    fig, ax = plt.subplots(figsize=(6, 4.2))
    for name in TARGETS:
        ax.loglog(WIDTHS, [rmse[name][w] for w in WIDTHS], "o-", label=name)
    ax.set(title="the fit improves with width", xlabel="hidden units", ylabel="RMS error")
    ax.set_xticks(WIDTHS)
    ax.set_xticklabels([str(w) for w in WIDTHS])
    figures.append(save(fig, outdir, "14_universal_error_vs_width.png"))
    return {"rmse": rmse, "figures": figures}


if __name__ == "__main__":
    run_cli(main, __doc__)
