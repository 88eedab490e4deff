"""The effects of different update formulas: SGD, momentum, Nesterov, Adagrad, RMSProp, Adam.

Slides:
* the Reil et al. ANN & backpropagation lecture, slide 43: "Weight update step: can do something fancier
  than this vanilla update - momentum, Adagrad, RMSProp, Adam"; slide 44: "The
  effects of different update formulas" (trajectories on a loss surface).
* the Toronto CSC 411 Neural Networks I lecture (Urtasun, Zemel, Fidler), slide 40: momentum, v <- gamma v + eta dE/dw,
  w <- w - v; slide 41: "Comparing optimization methods".

Left: the path of two parameters across an ill-conditioned bowl,
L(w) = 1/2 (0.5 w1^2 + 50 w2^2): steep across, almost flat along. Plain gradient
descent must keep its step small enough for the steep direction and then crawls
along the flat one; momentum builds up speed along the valley, and the adaptive
rules (Adagrad, RMSProp, Adam) scale each coordinate's step by its own gradient
history. Right: the same six rules training one small network on the Playground
XOR data (four quadrants), from the same start with the same batches.

Run:  python examples/07_optimizers.py OUTDIR [--quick]
"""

import numpy as np

import chainrule as cr
from chainrule import nn, optim
from chainrule.data import StandardScaler, load_dataset
from chainrule.train import fit

from _common import heading, plt, run_cli, save

CURVATURE = np.array([0.5, 50.0])   # condition number 100
START = np.array([-4.0, 1.5])
STEPS = 100

# Each rule with a learning rate that suits it on the bowl: plain SGD is capped
# by the steep direction (lr < 2 / 50), Nesterov's look-ahead a little lower.
BOWL_RULES = {
    "SGD": lambda p: optim.SGD(p, lr=0.035),
    "momentum": lambda p: optim.SGD(p, lr=0.035, momentum=0.9),
    "Nesterov": lambda p: optim.SGD(p, lr=0.025, momentum=0.9, nesterov=True),
    "Adagrad": lambda p: optim.Adagrad(p, lr=0.5),
    "RMSProp": lambda p: optim.RMSProp(p, lr=0.05),
    "Adam": lambda p: optim.Adam(p, lr=0.2),
}
NET_RULES = {
    "SGD": lambda p: optim.SGD(p, lr=0.1),
    "momentum": lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
    "Nesterov": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    "Adagrad": lambda p: optim.Adagrad(p, lr=0.1),
    "RMSProp": lambda p: optim.RMSProp(p, lr=0.01),
    "Adam": lambda p: optim.Adam(p, lr=0.01),
}


def bowl(w):
    return 0.5 * (CURVATURE * w * w).sum()


def descend(make_optimizer):
    """Run one rule on the bowl; return the path of w and the loss at every step."""
    w = cr.tensor(START.copy(), requires_grad=True)
    opt = make_optimizer([w])
    path, losses = [w.data.copy()], []
    for _ in range(STEPS):
        loss = bowl(w)
        opt.zero_grad()
        loss.backward()
        opt.step()
        path.append(w.data.copy())
        losses.append(loss.item())
    losses.append(bowl(w).item())
    return np.array(path), np.array(losses)


def train_net(make_optimizer, X, y, epochs):
    """The same network, same start, same batches; only the update rule differs."""
    model = nn.MLP([2, 16, 16, 2], activation="tanh", seed=0, dtype=np.float64)
    history = fit(model, "cross_entropy", make_optimizer(model.parameters()), (X, y),
                  epochs=epochs, batch_size=32, seed=0, verbose=0)
    return np.array(history["loss"])


def main(outdir, quick=False):
    results = {"bowl_final_loss": {}, "net_final_loss": {}}
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.8))

    heading(f"{STEPS} steps on the bowl L(w) = 1/2 (0.5 w1^2 + 50 w2^2) from w = {START.tolist()}")
    g1, g2 = np.meshgrid(np.linspace(-4.5, 1.5, 200), np.linspace(-2, 2, 200))
    axes[0].contour(g1, g2, 0.5 * (CURVATURE[0] * g1 ** 2 + CURVATURE[1] * g2 ** 2),
                    levels=np.logspace(-2, 2.5, 15), colors="grey", linewidths=0.5)
    for name, make in BOWL_RULES.items():
        path, losses = descend(make)
        print(f"  {name:9s} final loss {losses[-1]:.2e} at w = {np.round(path[-1], 4).tolist()}")
        results["bowl_final_loss"][name] = float(losses[-1])
        axes[0].plot(path[:, 0], path[:, 1], marker=".", ms=3, lw=1, label=name)
        axes[1].semilogy(losses, label=name)
    axes[0].plot(0, 0, "k*", ms=12)
    axes[0].set(title="Parameter trajectories on an ill-conditioned bowl", xlabel="$w_1$", ylabel="$w_2$")
    axes[1].set(title="Bowl: loss per step", xlabel="step", ylabel="L(w)")

    ds = load_dataset("xor-playground", n=200 if quick else 400, noise=0.1, seed=0, dtype=np.float64)
    X = StandardScaler().fit_transform(ds.X)
    epochs = 20 if quick else 40
    heading(f"A 2-16-16-2 tanh network on the Playground XOR data, {epochs} epochs of mini-batches of 32")
    for name, make in NET_RULES.items():
        losses = train_net(make, X, ds.y, epochs)
        print(f"  {name:9s} training loss {losses[0]:.3f} -> {losses[-1]:.3f}")
        results["net_final_loss"][name] = float(losses[-1])
        axes[2].plot(np.arange(1, epochs + 1), losses, label=name)
    axes[2].set(title="Playground XOR network: training loss per epoch", xlabel="epoch", ylabel="cross-entropy")
    axes[2].set_yscale("log")
    results["figures"] = [save(fig, outdir, "07_optimizers.png")]
    return results


if __name__ == "__main__":
    run_cli(main, __doc__)
