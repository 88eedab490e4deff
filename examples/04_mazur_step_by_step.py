"""Matt Mazur's backpropagation example, one number at a time, then 10,000 iterations.

Slides:
* Merceron's backpropagation introduction, slides 12-18: the 2-2-2 sigmoid network with inputs
  (0.05, 0.10), weights w1..w8 = 0.15 .. 0.55, biases 0.35 and 0.60;
  out_h1 = 0.5932, out_o1 = 0.7514, out_o2 = 0.7729.
* Merceron's backpropagation introduction, slides 28-33: dE/dw5 = 0.7414 * 0.1868 * 0.5932 = 0.0821 and
  w5' = 0.4 - 0.5 * 0.0821 = 0.3589, "with 0.5 as learning rate".
* The walk-through those slides link to (slide 12) trains on the same example
  for 10,000 iterations and reports the error falling to 0.0000351085. That
  number holds for its convention: learning rate 0.5, biases kept fixed, and
  the error read on the forward pass of the 10,000th iteration. Updating the
  biases as well drives the error lower still; both runs are shown.

Run:  python examples/04_mazur_step_by_step.py OUTDIR [--quick]
"""

import numpy as np

import chainrule as cr
from chainrule import nn, optim
from chainrule.classic import backprop_update
from chainrule.explain import explain, mazur_network

from _common import heading, plt, run_cli, save

X, T, LR, ITERATIONS = [0.05, 0.10], [0.01, 0.99], 0.5, 10_000
CHECKPOINTS = (1, 2, 10, 100, 1000, 10_000)


def train(update_biases):
    """Plain gradient descent on E = 1/2 sum (t - o)^2; returns the error of every iteration."""
    net = mazur_network()
    weights = [net.hidden[0].weight, net.output.weight]
    biases = [net.hidden[0].bias, net.output.bias]
    # Leaving the biases out of the optimiser is how they stay fixed.
    opt = optim.SGD(weights + biases if update_biases else weights, lr=LR)
    x, t = cr.tensor([X], dtype=np.float64), np.array([T])
    errors = []
    for _ in range(ITERATIONS):
        E = nn.functional.mse_loss(net(x), t, reduction="sum", half=True)
        opt.zero_grad()
        E.backward()
        opt.step()
        errors.append(E.item())
    return net, np.array(errors)


def train_by_hand():
    """The same run with the hand-written delta rule of chainrule.classic, no autodiff."""
    net = mazur_network()
    W = [net.hidden[0].weight.data, net.output.weight.data]
    b = [net.hidden[0].bias.data, net.output.bias.data]
    for _ in range(ITERATIONS):
        W, b, trace = backprop_update(W, b, X, T, lr=LR, update_biases=False)
    return trace.error


def main(outdir, quick=False):
    results = {}
    heading("One backprop step, every number (Merceron lecture, slides 13-33)")
    r = explain(mazur_network(), X, T, lr=LR, update_biases=False)
    print(r)
    results.update(first_error=r.error, out_h1=r.values["out_h1"], out_o1=r.values["out_o1"],
                   out_o2=r.values["out_o2"], dE_dw5=r.grads["w5"], w5_updated=r.updated["w5"])

    heading(f"{ITERATIONS:,} iterations of gradient descent, learning rate {LR}")
    runs = {}
    for update_biases in (False, True):
        net, errors = train(update_biases)
        label = "biases updated" if update_biases else "biases fixed (Mazur)"
        runs[label] = errors
        print(f"{label}:")
        for k in CHECKPOINTS:
            print(f"  iteration {k:6,d}: error {errors[k - 1]:.10f}")
        outs = net(cr.tensor([X], dtype=np.float64)).data[0]
        print(f"  outputs after training: {outs[0]:.9f} (target 0.01), {outs[1]:.9f} (target 0.99)")
        key = "biases_updated" if update_biases else "biases_fixed"
        results[f"error_{ITERATIONS}_{key}"] = float(errors[-1])
        results[f"outputs_{key}"] = outs.tolist()
    results["error_after_first_update"] = float(runs["biases fixed (Mazur)"][1])
    print(f"Mazur's convention gives {results[f'error_{ITERATIONS}_biases_fixed']:.10f}"
          " (article: 0.0000351085)")

    by_hand = train_by_hand()
    print(f"the hand-written delta rule (chainrule.classic) agrees: {by_hand:.10f}")
    results["error_by_hand"] = float(by_hand)

    fig, ax = plt.subplots(figsize=(7, 4))
    for label, errors in runs.items():
        ax.loglog(np.arange(1, ITERATIONS + 1), errors, label=label)
    ax.axhline(0.0000351085, color="grey", ls=":", label="0.0000351085 (article)")
    ax.set(title="Mazur's network: total error per iteration (lr 0.5)", xlabel="iteration", ylabel="E")
    results["figures"] = [save(fig, outdir, "04_mazur_error.png")]
    return results


if __name__ == "__main__":
    run_cli(main, __doc__)
