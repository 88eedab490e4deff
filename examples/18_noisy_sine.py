"""Next value of a noisy sine wave: an Elman net, a Jordan net and an LSTM, side by side.

Slides:
* seed 000 (Reil et al.), slides 97-98 ("Recurrent Neural Networks": a context
  layer holding the hidden layer's information - Elman) and slide 99 ("Time
  Delayed Recurrent Neural Networks: output layer from time t used as inputs to
  the hidden layer at time t+1, with an optional decay" - Jordan).

Each sequence is ``x_t = sin(2 pi t / P + phase) + noise`` with a random phase and
period P between 12 and 24 steps; the nets read x_1..x_t and predict x_(t+1).
The noise itself cannot be predicted, so the best possible error against the
noisy next value is the noise variance; against the clean next value it can go
towards 0. "Repeat the last value" is the baseline every net must beat. All
three nets have 16 hidden units and are trained the same way with ``cr.fit``
(backpropagation through time, Adam); the Jordan net's memory is its own
previous outputs, the Elman net's its previous hidden layer, the LSTM's a gated
cell.

Run:  python examples/18_noisy_sine.py OUTDIR [--quick]
"""

import numpy as np

import chainrule as cr
from chainrule import nn

from _common import heading, plt, run_cli, save

NOISE, STEPS, HIDDEN = 0.1, 40, 16


def waves(n, rng):
    """(inputs, noisy next values, clean next values), each (n, STEPS, 1)."""
    t = np.arange(STEPS + 1)[None, :]
    period = rng.uniform(12, 24, (n, 1))
    clean = np.sin(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi, (n, 1)))
    noisy = clean + NOISE * rng.standard_normal(clean.shape)
    as3 = (lambda a: a[:, :, None].astype(np.float32))
    return as3(noisy[:, :-1]), as3(noisy[:, 1:]), as3(clean[:, 1:])


def models():
    return {
        "Elman": nn.Elman(1, HIDDEN, 1, activation="tanh", seed=0),
        "Jordan": nn.Jordan(1, HIDDEN, 1, decay=0.5, activation="tanh", output_activation="identity", seed=0),
        "LSTM": nn.Sequential(nn.LSTM(1, HIDDEN, seed=0), nn.Linear(HIDDEN, 1, seed=1)),
    }


def main(outdir, quick=False):
    rng = np.random.default_rng(0)
    n, epochs = (128, 25) if quick else (800, 80)
    X, Y, _ = waves(n, rng)
    Xt, Yt, Ct = waves(200, np.random.default_rng(1))
    skip = 5   # the first steps are spent finding the phase: score from step 6 on
    persistence = float(((Xt[:, skip:] - Ct[:, skip:]) ** 2).mean())
    heading(f"{n} noisy sine waves of {STEPS} steps (noise sd {NOISE}), {epochs} epochs each")
    print(f"  repeat-the-last-value baseline: MSE {persistence:.4f} against the clean next value")
    scores, predictions = {}, {}
    for name, net in models().items():
        cr.fit(net, "mse", ("adam", 0.01), (X, Y), epochs=epochs, batch_size=32, seed=0, verbose=0)
        pred = cr.predict(net, Xt)
        predictions[name] = pred
        scores[name] = {"clean": float(((pred[:, skip:] - Ct[:, skip:]) ** 2).mean()),
                        "noisy": float(((pred[:, skip:] - Yt[:, skip:]) ** 2).mean()),
                        "parameters": net.num_parameters()}
        print(f"  {name:6s} ({scores[name]['parameters']:4d} parameters): MSE {scores[name]['clean']:.4f} against "
              f"the clean next value, {scores[name]['noisy']:.4f} against the noisy one "
              f"(noise variance {NOISE ** 2:.4f})")
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(14, 4.5), gridspec_kw={"width_ratios": [3, 1]})
    t = np.arange(1, STEPS + 1)
    ax.plot(t, Xt[0, :, 0], "o", color="gray", ms=3, label="noisy input x_t")
    ax.plot(t, Ct[0, :, 0], "k", lw=3, alpha=0.25, label="clean next value")
    for name, pred in predictions.items():
        ax.plot(t, pred[0, :, 0], label=f"{name} prediction of x_(t+1)")
    ax.set(title="one held-out wave: the three nets' next-value predictions", xlabel="time step t", ylabel="value")
    names = list(scores) + ["repeat last"]
    values = [scores[k]["clean"] for k in scores] + [persistence]
    bx.bar(names, values, color=["C0", "C1", "C2", "gray"])
    bx.set(title="held-out error", ylabel="MSE against the clean next value")
    return {"scores": scores, "persistence": persistence, "figures": [save(fig, outdir, "18_noisy_sine.png")]}


if __name__ == "__main__":
    run_cli(main, __doc__)
