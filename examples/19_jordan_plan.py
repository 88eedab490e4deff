"""A Jordan network produces a sequence from a plan input, with and without decay on its state units.

Slides:
* seed 000 (Reil et al.), slide 99: "Time Delayed Recurrent Neural Networks
  (TDRNN): output layer from time t used as inputs to the hidden layer at time
  t+1 - with an optional decay".

Jordan (1986) gave his network a constant "plan" input and let it produce a
sequence of actions, one per time step, its own outputs fed back through state
units ``s_t = decay * s_(t-1) + y_(t-1)``. Here the plan says which of three
8-symbol sequences to say, and each sequence revisits a symbol several times
with a different successor each time ("A B A C A D A E"). With decay 0 the
state holds only the last output, so after "A" the net cannot know which visit
this is: it must fail. With decay 0.5 the state is a fading sum of everything
said so far, distinct at every step, and the net can say all three sequences.
Both nets are trained with teacher forcing (the correct previous symbol is fed
back, ``net(plan, teacher=targets)``) and then run free on their own outputs.

Run:  python examples/19_jordan_plan.py OUTDIR [--quick]
"""

import numpy as np

import chainrule as cr
from chainrule import nn, optim

from _common import heading, plt, run_cli, save

SYMBOLS = "ABCDE"
SEQUENCES = ["ABACADAE", "BABCBDBE", "CECDCBCA"]


def task():
    """Plans (3, 8, 3): one-hot, constant over time; targets (3, 8, 5): one-hot symbols."""
    steps = len(SEQUENCES[0])
    plans = np.repeat(np.eye(len(SEQUENCES))[:, None, :], steps, axis=1)
    targets = np.array([[np.eye(len(SYMBOLS))[SYMBOLS.index(c)] for c in seq] for seq in SEQUENCES])
    return plans, targets


def train(decay, plans, targets, steps):
    net = nn.Jordan(3, 12, len(SYMBOLS), decay=decay, activation="tanh", output_activation="sigmoid",
                    seed=0, dtype=np.float64)
    opt = optim.Adam(net.parameters(), lr=0.03)
    for _ in range(steps):
        out = net(plans, teacher=targets)        # teacher forcing: the right previous symbol is fed back
        loss = nn.functional.binary_cross_entropy(out, targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net


def say(net, plans):
    """Run free: the net's own outputs go back through the state units; returns symbols said and the states."""
    with cr.no_grad():
        out, trace = net(plans, return_trace=True)
    return out.data.argmax(axis=2), trace.context


def main(outdir, quick=False):
    plans, targets = task()
    steps = 600 if quick else 2000
    results, runs = {}, {}
    for decay in (0.0, 0.5):
        heading(f"Jordan net 3-12-5, decay {decay}: {steps} Adam steps with teacher forcing, then running free")
        net = train(decay, plans, targets, steps)
        said, states = say(net, plans)
        right = said == targets.argmax(axis=2)
        for seq, row in zip(SEQUENCES, said):
            print(f"  plan for {seq}: says {''.join(SYMBOLS[i] for i in row)}")
        print(f"  symbols right: {right.mean():.0%}")
        results[f"accuracy_decay_{decay}"] = float(right.mean())
        runs[decay] = (said, states)
    results["figures"] = [_figure(outdir, runs)]
    return results


def _figure(outdir, runs):
    fig, axes = plt.subplots(2, 3, figsize=(14, 6.5))
    for row, (decay, (said, states)) in zip(axes, runs.items()):
        for k, ax in enumerate(row):
            im = ax.imshow(states[k].T, aspect="auto", cmap="magma", vmin=0, vmax=1.5, interpolation="nearest")
            ax.set_yticks(range(len(SYMBOLS)))
            ax.set_yticklabels([f"state {c}" for c in SYMBOLS])
            ax.set_xticks(range(len(SEQUENCES[k])))
            ax.set_xticklabels([f"{SEQUENCES[k][t]}\n{SYMBOLS[s]}" for t, s in enumerate(said[k])])
            ax.set_title(f"decay {decay}, plan {k + 1}: target {SEQUENCES[k]}", fontsize=10)
            if k == 0:
                ax.set_xlabel("time step: target symbol / symbol said")
        fig.colorbar(im, ax=row[-1], fraction=0.05, label="state unit activation")
    fig.suptitle("state units s_t = decay * s_(t-1) + y_(t-1) over time while the net speaks (running free)")
    return save(fig, outdir, "19_jordan_plan_states.png")


if __name__ == "__main__":
    run_cli(main, __doc__)
