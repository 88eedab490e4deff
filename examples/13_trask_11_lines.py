"""A 2-layer network in ~11 lines of NumPy (the slide citing iamtrask), then the same network in chainrule.

Slides:
* seed 000 (Reil et al.), slide 88: "Full implementation of training a 2-layer
  Neural Network needs ~11 lines", from @iamtrask's "A Neural Network in 11 lines
  of Python" (2015).

The data are the slide's 4 x 3 input table (the third column is always 1, a bias
input) with targets 0, 1, 1, 0: the output is the XOR of the first two columns.
Three inputs, four sigmoid hidden units, one sigmoid output, no separate biases,
weights drawn uniformly from [-1, 1), and 60,000 full-batch updates of
``w += layer_input.T @ delta``: gradient descent with step 1 on half the summed
squared error. The NumPy version below is written out here from those facts;
the chainrule version builds the same network from layers, starts from the same
weights and lets backward() find the deltas. Both end at the same outputs.

Run:  python examples/13_trask_11_lines.py OUTDIR [--quick]
"""

import numpy as np

import chainrule as cr
from chainrule import nn, optim

from _common import heading, plt, run_cli, save

X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=np.float64)
T = np.array([[0, 1, 1, 0]], dtype=np.float64).T


def numpy_net(w0, w1, steps, every):
    """The slide's network: forward, deltas by hand, update; returns the outputs and the error curve."""
    errors = []
    for j in range(steps):
        l1 = 1 / (1 + np.exp(-(X @ w0)))                  # hidden layer
        l2 = 1 / (1 + np.exp(-(l1 @ w1)))                 # output layer
        l2_delta = (T - l2) * (l2 * (1 - l2))             # error times the sigmoid's slope
        l1_delta = (l2_delta @ w1.T) * (l1 * (1 - l1))    # backpropagated through w1
        w1 += l1.T @ l2_delta
        w0 += X.T @ l1_delta
        if j % every == 0:
            errors.append(float(np.abs(T - l2).mean()))
    return l2, errors


def chainrule_net(w0, w1, steps, every):
    """The same network in chainrule: layers, a loss, backward() and SGD with step 1."""
    net = nn.Sequential(nn.Linear(3, 4, bias=False, dtype=np.float64), nn.Sigmoid(),
                        nn.Linear(4, 1, bias=False, dtype=np.float64), nn.Sigmoid())
    net.load_state_dict({"0.weight": w0.T, "2.weight": w1.T})     # Linear keeps weights as (out, in)
    opt = optim.SGD(net.parameters(), lr=1.0)
    x, errors = cr.tensor(X), []
    for j in range(steps):
        out = net(x)
        loss = 0.5 * ((out - T) ** 2).sum()               # its gradient is -(T - out): the slide's error
        opt.zero_grad()
        loss.backward()
        opt.step()
        if j % every == 0:
            errors.append(float(np.abs(T - out.data).mean()))
    return out.data, errors, net


def main(outdir, quick=False):
    steps = 6000 if quick else 60000
    every = steps // 100
    rng = np.random.RandomState(1)                        # NumPy's legacy generator, seeded 1 as in the post
    w0 = 2 * rng.random_sample((3, 4)) - 1
    w1 = 2 * rng.random_sample((4, 1)) - 1

    heading(f"plain NumPy, {steps} iterations")
    out_np, err_np = numpy_net(w0.copy(), w1.copy(), steps, every)
    print("  outputs:", np.round(out_np.ravel(), 5).tolist())

    heading("the same network in chainrule, from the same initial weights")
    out_cr, err_cr, net = chainrule_net(w0.copy(), w1.copy(), steps, every)
    print("  outputs:", np.round(out_cr.ravel(), 5).tolist())
    print(net)
    diff = float(np.abs(out_np - out_cr).max())
    print(f"  largest difference between the two: {diff:.2e}")

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4))
    iters = np.arange(len(err_np)) * every
    ax.semilogy(iters, err_np, lw=3, alpha=0.5, label="NumPy, deltas by hand")
    ax.semilogy(iters, err_cr, "k--", label="chainrule, backward()")
    ax.set(title="the 11-line network: mean |error| on the 4 rows", xlabel="iteration", ylabel="mean |t - y|")
    pos = np.arange(4)
    bx.bar(pos - 0.2, out_np.ravel(), 0.4, label="NumPy")
    bx.bar(pos + 0.2, out_cr.ravel(), 0.4, label="chainrule")
    bx.plot(pos, T.ravel(), "r_", ms=30, mew=3, label="target")
    bx.set_xticks(pos)
    bx.set_xticklabels(["0 0 1", "0 1 1", "1 0 1", "1 1 1"])
    bx.set(title=f"outputs after {steps} iterations", xlabel="input row", ylabel="output", ylim=(0, 1.1))
    return {"numpy_outputs": out_np.ravel().tolist(), "chainrule_outputs": out_cr.ravel().tolist(),
            "max_difference": diff, "steps": steps, "figures": [save(fig, outdir, "13_trask_11_lines.png")]}


if __name__ == "__main__":
    run_cli(main, __doc__)
