"""Elman's temporal XOR: a simple recurrent network predicts the next bit; only every third bit is predictable.

Slides:
* seed 000 (Reil et al.), slides 97-98: "Recurrent Neural Networks - Output or
  hidden layer information is stored in a context or memory layer" (input layer
  and context layer -> hidden layer -> output layer).

The stream (Elman 1990, "Finding structure in time"): two random bits, then
their XOR, then two new random bits, their XOR, ... The net sees one bit at a
time and must predict the next. The first two bits of each triple are coin
flips, so no net can do better than chance on them; the third is the XOR of the
two before it, and a net that remembers the previous bit - in its context
layer, a copy of the previous hidden activations - can get it right. Trained by
backpropagation through time with ``cr.fit`` on sequences, then run as a stream
one bit at a time (``net.reset_state()``, ``net.step(bit)``). The heat map shows
the context units over time: the memory the net uses.

Run:  python examples/17_elman_temporal_xor.py OUTDIR [--quick]
"""

import numpy as np

import chainrule as cr
from chainrule import nn

from _common import heading, plt, run_cli, save


def xor_stream(triples, rng):
    """Bits a, b, a XOR b, a', b', a' XOR b', ...; returns the stream (3 * triples,)."""
    pairs = rng.integers(0, 2, size=(triples, 2))
    return np.column_stack([pairs, pairs[:, 0] ^ pairs[:, 1]]).ravel().astype(np.float32)


def sequences(n, triples, rng):
    """n streams as (inputs, next-bit targets), each (n, 3 * triples - 1, 1)."""
    s = np.stack([xor_stream(triples, rng) for _ in range(n)])
    return s[:, :-1, None], s[:, 1:, None]


def per_phase_error(net, stream):
    """Mean |prediction - next bit| at each position in the triple, running the net as a stream."""
    net.eval()
    net.reset_state()
    with cr.no_grad():
        pred = np.array([float(cr.sigmoid(net.step(np.array([[b]], np.float32))).data[0, 0])
                         for b in stream[:-1]])
    err = np.abs(pred - stream[1:])
    # Input bit t predicts bit t + 1: a random second bit when t = 0 (mod 3), the XOR when
    # t = 1, the random first bit of the next pair when t = 2.
    return {"random_2": float(err[0::3].mean()), "xor": float(err[1::3].mean()),
            "random_1": float(err[2::3].mean())}, err


def main(outdir, quick=False):
    rng = np.random.default_rng(0)
    n, epochs = (160, 60) if quick else (400, 150)
    X, Y = sequences(n, 10, rng)
    heading(f"Elman net 1-8-1 (context = copy of 8 hidden units), {n} streams of {X.shape[1]} bits, "
            f"{epochs} epochs of BPTT")
    net = nn.Elman(1, 8, 1, activation="sigmoid", output_activation="identity", seed=0)
    history = cr.fit(net, "bce_with_logits", ("adam", 0.05), (X, Y), epochs=epochs, batch_size=32, seed=0,
                     verbose=0)
    print(f"  loss {history['loss'][0]:.3f} -> {history['loss'][-1]:.3f}")
    stream = xor_stream(400, np.random.default_rng(1))
    phases, err = per_phase_error(net, stream)
    names = {"random_1": "first (random) bit of a pair", "random_2": "second (random) bit of a pair",
             "xor": "XOR of the previous two bits"}
    for key, name in names.items():
        print(f"  predicting the {name}: mean error {phases[key]:.3f}")
    figures = [_error_figure(outdir, err, history), _context_figure(outdir, net, stream)]
    return {"error_random_1": phases["random_1"], "error_random_2": phases["random_2"], "error_xor": phases["xor"],
            "loss": history["loss"], "figures": figures}


def _error_figure(outdir, err, history):
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 4))
    cycles = err[: len(err) // 12 * 12].reshape(-1, 12).mean(axis=0)
    ax.plot(np.arange(1, 13), cycles, "o-")
    for t in range(2, 13, 3):   # step t (1-based) predicts bit t + 1, the XOR when t = 2 (mod 3)
        ax.axvline(t, color="C2", alpha=0.3, lw=6)
    ax.set(title="error on the next bit, averaged over the stream\n(green: the next bit is the XOR, predictable)",
           xlabel="time step within 12 (4 triples)", ylabel="mean |prediction - bit|", ylim=(0, 0.7))
    bx.plot(np.arange(1, len(history["loss"]) + 1), history["loss"])
    bx.axhline(2 / 3 * np.log(2), color="gray", ls="--", label="best possible: chance on 2 bits of 3")
    bx.set(title="training loss (BPTT through cr.fit)", xlabel="epoch", ylabel="binary cross-entropy")
    return save(fig, outdir, "17_temporal_xor_error.png")


def _context_figure(outdir, net, stream):
    bits = stream[:37]
    net.eval()
    with cr.no_grad():
        out, trace = net(bits[None, :-1, None], return_trace=True)
    fig, (ax, bx) = plt.subplots(2, 1, figsize=(12, 5.5), sharex=True, gridspec_kw={"height_ratios": [1, 3]})
    t = np.arange(len(bits) - 1)
    ax.step(t, bits[:-1], where="mid", label="input bit")
    ax.plot(t, 1 / (1 + np.exp(-out.data[0, :, 0])), "o", ms=4, label="predicted next bit")
    ax.set(ylabel="bit", title="Elman net on the XOR stream: input, prediction and context units")
    ax.legend(fontsize=8, loc="upper right", ncol=2)
    im = bx.imshow(trace.context[0].T, aspect="auto", cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
    bx.set(xlabel="time step", ylabel="context unit (= hidden unit at t - 1)")
    fig.colorbar(im, ax=bx, orientation="horizontal", fraction=0.05, pad=0.2, label="activation")
    for k in range(2, len(t), 3):   # the steps whose next bit is the XOR
        ax.axvline(k - 1, color="C2", alpha=0.25, lw=5)
    return save(fig, outdir, "17_context_units_heatmap.png")


if __name__ == "__main__":
    run_cli(main, __doc__)
