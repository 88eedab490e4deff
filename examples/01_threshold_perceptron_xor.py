"""From a threshold unit to a network: AND, OR, the XOR wall, and an MLP that climbs it.

Slides:
* Merceron's backpropagation introduction, slides 4-7: AND as one threshold unit (weights 1, 1,
  threshold 1.2) and XOR as two units.
* the Reil et al. ANN & backpropagation lecture, slides 11-15 and 23: perceptrons, threshold units,
  "How about Boolean XOR? No set of weights will satisfy these equations",
  multi-layer networks, x1 XOR x2 = (x1 AND ~x2) OR (~x1 AND x2).
* Garreta's Deep Learning 2016 ANN & backpropagation lecture, "Perceptron Training Rule": converges when the data are
  linearly separable, "may not converge" otherwise.

Run:  python examples/01_threshold_perceptron_xor.py OUTDIR [--quick]
"""

import numpy as np

import chainrule as cr
from chainrule import nn, optim
from chainrule.classic import Perceptron, ThresholdUnit, truth_table, xor_from_gates, xor_hand_wired
from chainrule.data import load_dataset

from _common import decision_boundary, heading, plt, run_cli, save


def train_xor_mlp(X, t, hidden, seed, steps):
    """Full-batch gradient descent (with momentum) on a 2-hidden-1 sigmoid MLP, E = mean squared error."""
    net = nn.MLP([2, hidden, 1], activation="sigmoid", output_activation="sigmoid", seed=seed, dtype=np.float64)
    opt = optim.SGD(net.parameters(), lr=2.0, momentum=0.9)
    x = cr.tensor(X)
    losses = []
    for _ in range(steps):
        out = net(x)                                   # 1. forward
        loss = nn.functional.mse_loss(out, t)          # 2. error
        opt.zero_grad()
        loss.backward()                                # 3. backward: dE/dw for every weight
        opt.step()                                     # 4. w <- w - lr * (momentum-smoothed) dE/dw
        losses.append(loss.item())
    return net, losses


def main(outdir, quick=False):
    results, figures = {}, []

    heading("A threshold unit computes AND (Merceron lecture, slide 5)")
    unit = ThresholdUnit([1.0, 1.0], threshold=1.2)
    inputs, outputs = truth_table(unit)
    for (a, b), o in zip(inputs, outputs):
        print(f"  {a} AND {b}: 1*{a} + 1*{b} = {a + b} {'>' if o else '<'} 1.2 -> {o}")
    results["and_unit_outputs"] = outputs.tolist()

    heading("The perceptron rule learns AND and OR, and never settles on XOR")
    curves = {}
    for op in ("and", "or", "xor"):
        ds = load_dataset(op)
        # A fixed start and learning rate make the epoch counts reproducible.
        result = Perceptron(alpha=0.1, max_epochs=50 if quick else 100, seed=0).fit(ds.X, ds.y)
        print(f"  {op.upper():3s}: {result.message}")
        print(f"       weights (bias first) = {np.round(result.weights, 3).tolist()}")
        results[f"perceptron_{op}_converged"] = bool(result.converged)
        results[f"perceptron_{op}_epochs"] = int(result.epochs)
        curves[op] = result.errors
    results["perceptron_xor_separable"] = result.separable
    results["perceptron_xor_message"] = result.message

    heading("Two layers of threshold units do compute XOR (Merceron lecture, slide 7; Reil et al. lecture, slide 23)")
    networks = {"hand wired (skip links)": xor_hand_wired(), "(x1 AND ~x2) OR (~x1 AND x2)": xor_from_gates()}
    for name, net in networks.items():
        _, out = truth_table(net)
        print(f"  {name:30s} -> {out[:, 0].tolist()}")
    results["xor_hand_wired"] = truth_table(xor_hand_wired())[1][:, 0].tolist()

    heading("A 2-2-1 sigmoid MLP learns XOR by backpropagation")
    ds = load_dataset("xor", dtype=np.float64)
    X, t = ds.X, ds.y.reshape(-1, 1).astype(np.float64)
    steps = 600 if quick else 1000
    net, losses = train_xor_mlp(X, t, hidden=2, seed=0, steps=steps)
    probs = net(cr.tensor(X)).data.ravel()
    print(f"  after {steps} steps: loss {losses[-1]:.2e}, outputs {np.round(probs, 3).tolist()}")
    results["mlp_xor_outputs"] = probs.tolist()
    results["mlp_xor_accuracy"] = float(np.mean((probs > 0.5) == ds.y))

    # Backprop only finds a local minimum (Reil et al. lecture, slide 91): some starts get stuck.
    seeds = range(5 if quick else 10)
    solved = sum(np.all((train_xor_mlp(X, t, 2, s, steps)[0](cr.tensor(X)).data.ravel() > 0.5) == ds.y)
                 for s in seeds)
    print(f"  {solved} of {len(seeds)} random starts solve XOR with 2 hidden units; "
          "the rest sit in a local minimum")
    results["mlp_xor_solved_starts"] = (int(solved), len(seeds))

    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for op, errs in curves.items():
        axes[0].plot(np.arange(1, len(errs) + 1), errs, marker="o", ms=3, label=op.upper())
    axes[0].set(title="Perceptron rule: mistakes per epoch", xlabel="epoch", ylabel="misclassified examples")
    axes[1].semilogy(losses)
    axes[1].set(title="2-2-1 MLP on XOR: training loss", xlabel="step", ylabel="mean squared error")
    decision_boundary(axes[2], lambda P: net(cr.tensor(P)).data.ravel(), X, ds.y, title="MLP output on XOR")
    figures.append(save(fig, outdir, "01_perceptron_and_xor.png"))
    results["figures"] = figures
    return results


if __name__ == "__main__":
    run_cli(main, __doc__)
