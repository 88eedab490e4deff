"""A skip-layer network solves XOR with one hidden unit; the plain MLP of the same size cannot.

Slides:
* the Reil et al. ANN & backpropagation lecture, slide 94: "Backprop generalizes to networks that skip
  layers"; slide 96: "Skip Layer Network: input nodes are also sent directly to
  the output layer".
* Merceron's backpropagation introduction, slides 6-7: XOR from two threshold units, the output unit
  reading both inputs *and* the hidden unit (weights 1, 1, -2): a skip-layer net.

Both networks get 2 inputs, 1 sigmoid hidden unit and 1 sigmoid output, the same
data, loss, optimiser and starts. Without the skip links the output only sees one
hidden unit, a single line through the plane, so at best 3 of the 4 XOR cases
come out right; with them the output combines the inputs with that line, as the
hand-wired network does.

Run:  python examples/12_skip_layer.py OUTDIR [--quick]
"""

import numpy as np

import chainrule as cr
from chainrule import nn, optim
from chainrule.data import load_dataset

from _common import decision_boundary, heading, plt, run_cli, save


def train(skip, seed, X, t, steps):
    net = nn.MLP([2, 1, 1], activation="sigmoid", output_activation="sigmoid", skip=skip, seed=seed,
                 dtype=np.float64)
    opt = optim.Adam(net.parameters(), lr=0.1)
    x = cr.tensor(X)
    losses = []
    for _ in range(steps):
        loss = nn.functional.binary_cross_entropy(net(x), t)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return net, losses


def main(outdir, quick=False):
    ds = load_dataset("xor", dtype=np.float64)
    X, y = ds.X, ds.y
    t = y.reshape(-1, 1).astype(np.float64)
    steps, seeds = (800, range(3)) if quick else (1500, range(10))
    results, nets, curves = {}, {}, {}

    for skip in (False, True):
        name = "skip-layer" if skip else "plain"
        heading(f"{name} 2-1-1 network on XOR, {len(seeds)} random starts, {steps} Adam steps each")
        accs, losses = [], []
        for seed in seeds:
            net, curve = train(skip, seed, X, t, steps)
            probs = net(cr.tensor(X)).data.ravel()
            accs.append(float(np.mean((probs > 0.5) == y)))
            losses.append(curve[-1])
            if seed == 0:
                nets[name], curves[name] = net, curve
        print(f"  parameters: {nets[name].num_parameters()}")
        print(f"  accuracy per start: {accs}")
        print(f"  final loss: min {min(losses):.4f}, max {max(losses):.4f}")
        results[name] = {"accuracies": accs, "final_losses": losses, "parameters": nets[name].num_parameters()}

    heading("What the skip-layer net learned (start 0)")
    net = nets["skip-layer"]
    print(f"  hidden unit: weights {np.round(net.hidden[0].weight.data[0], 2).tolist()}, "
          f"bias {net.hidden[0].bias.data[0]:.2f}")
    print(f"  output unit: from hidden {net.output.weight.data[0, 0]:.2f}, "
          f"from inputs (skip) {np.round(net.skip.weight.data[0], 2).tolist()}, "
          f"bias {net.output.bias.data[0]:.2f}")
    hidden = cr.sigmoid(net.hidden[0](cr.tensor(X))).data.ravel()
    print(f"  hidden unit on 00, 01, 10, 11: {np.round(hidden, 2).tolist()} - one linearly separable gate")
    print("  the output adds that gate to the raw inputs, as the hand-wired XOR of Merceron's backpropagation introduction adds")
    print("  x1 + x2 - 2 AND(x1, x2): no single line can separate XOR, a line plus the inputs can")

    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for name, curve in curves.items():
        axes[0].semilogy(curve, label=name)
    axes[0].set(title="XOR, 1 hidden unit: training loss", xlabel="step", ylabel="cross-entropy")
    for ax, (name, net) in zip(axes[1:], nets.items()):
        decision_boundary(ax, lambda P, n=net: n(cr.tensor(P)).data.ravel(), X, y, title=f"{name} network")
    results["figures"] = [save(fig, outdir, "12_skip_vs_plain.png")]
    return results


if __name__ == "__main__":
    run_cli(main, __doc__)
