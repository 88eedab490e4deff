"""ALVINN: a 960-5-30 network steers along synthetic roads, read out as the centre of mass of a bump.

Slides:
* seed 000 (Reil et al.), slide 100: "MLPs in Action - Autonomous Driving Car -
  CMU Navlab - 1990's!!! - Neural Net Steering".

ALVINN (Pomerleau 1989) saw the road through a 30 x 32 "retina", had a handful of
hidden units and 30 output units from sharp left to sharp right. It was trained
on a Gaussian bump of activation centred on the driver's steering direction, and
steered by the centre of mass of its output bump. Here the retina images come
from ``data.load_dataset("roads")``: curved roads of varying width, lane
position, lighting and noise; each image's mean brightness is subtracted (so
lighting drops out); the network learns the steering from pixels alone and is
scored in degrees on roads it never saw. The centre of mass is taken over the
units near the peak: over all 30 a low flat background pulls it to straight ahead.

Run:  python examples/16_alvinn.py OUTDIR [--quick]
"""

import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.data import load_dataset, steering_bump, steering_from_outputs

from _common import heading, plt, run_cli, save

HIDDEN, UNITS = 5, 30
WINDOW = 4   # read the centre of mass over the units within 4 of the peak


def normalise(X):
    """Subtract each image's mean brightness, as ALVINN normalised its retina: lighting drops out."""
    return X - X.mean(axis=1, keepdims=True)


def main(outdir, quick=False):
    n_train, epochs = (1500, 25) if quick else (4000, 50)
    train = load_dataset("roads", n=n_train, noise=0.05, seed=0)
    test = load_dataset("roads", n=500, noise=0.05, seed=1)
    heading(f"ALVINN 960-{HIDDEN}-{UNITS} on {n_train} synthetic roads, {epochs} epochs")
    net = nn.MLP([960, HIDDEN, UNITS], activation="sigmoid", output_activation="sigmoid", seed=0)
    targets = steering_bump(train.y, UNITS).astype(np.float32)
    history = cr.fit(net, "mse", ("adam", 3e-3), (normalise(train.X), targets), epochs=epochs, batch_size=32, seed=0,
                     verbose=0)
    out = cr.predict(net, normalise(test.X))
    steer = steering_from_outputs(out, around_peak=WINDOW)
    plain = np.abs(steering_from_outputs(out) - test.y).mean()
    err = np.abs(steer - test.y)
    baseline = np.abs(test.y - np.median(train.y))       # always drive straight ahead
    print(f"  training loss {history['loss'][0]:.4f} -> {history['loss'][-1]:.4f}")
    print(f"  held-out steering error: mean {err.mean():.2f} deg, 90th percentile {np.percentile(err, 90):.2f} deg")
    print(f"  (centre of mass over all 30 units: {plain:.2f} deg; the flat background pulls it to 0)")
    print(f"  driving straight ahead would be off by {baseline.mean():.2f} deg on average")
    figures = [_inputs_figure(outdir, test, steer), _weights_figure(outdir, net),
               _bumps_figure(outdir, test, out, steer)]
    return {"mean_error_degrees": float(err.mean()), "all_units_error_degrees": float(plain), "p90_error_degrees": float(np.percentile(err, 90)),
            "straight_ahead_error_degrees": float(baseline.mean()), "loss": history["loss"], "figures": figures}


def _inputs_figure(outdir, test, steer):
    fig, axes = plt.subplots(2, 4, figsize=(12, 7))
    for ax, i in zip(axes.flat, range(8)):
        ax.imshow(test.X[i].reshape(30, 32), cmap="gray", vmin=0, vmax=1)
        for angle, color, label in ((test.y[i], "lime", "true"), (steer[i], "red", "network")):
            t = np.radians(angle)
            ax.plot([15.5, 15.5 + 12 * np.sin(t)], [29, 29 - 12 * np.cos(t)], color=color, lw=2, label=label)
        ax.set_title(f"true {test.y[i]:+.1f} deg, net {steer[i]:+.1f} deg", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    axes.flat[0].legend(fontsize=8, loc="upper left")
    fig.suptitle("held-out 30x32 retina images and the steering direction (green: true, red: network)")
    return save(fig, outdir, "16_alvinn_inputs.png")


def _weights_figure(outdir, net):
    W = net.hidden[0].weight.data
    fig, axes = plt.subplots(1, HIDDEN, figsize=(3 * HIDDEN, 3.4))
    for k, ax in enumerate(axes):
        lim = np.abs(W[k]).max()
        im = ax.imshow(W[k].reshape(30, 32), cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set_title(f"hidden unit {k + 1}: input weights", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(im, ax=ax, fraction=0.046)
    fig.suptitle("each hidden unit's 960 input weights as a 30x32 image (red +, blue -): road-edge templates")
    return save(fig, outdir, "16_alvinn_hidden_weights.png")


def _bumps_figure(outdir, test, out, steer):
    centres = np.linspace(-20, 20, UNITS)
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.6), sharey=True)
    for ax, i in zip(axes, range(4)):
        ax.plot(centres, steering_bump(test.y[i:i + 1], UNITS)[0], "g--", label="target bump")
        ax.plot(centres, out[i], "o-", color="C0", ms=3, label="output units")
        ax.axvline(steer[i], color="red", label=f"centre of mass {steer[i]:+.1f}")
        ax.axvspan(centres[out[i].argmax()] - WINDOW * 40 / 29, centres[out[i].argmax()] + WINDOW * 40 / 29,
                   color="red", alpha=0.08, label="units read")
        ax.set(title=f"road {i + 1}: true {test.y[i]:+.1f} deg", xlabel="steering unit (degrees, left < 0 < right)")
    axes[0].set_ylabel("activation")
    return save(fig, outdir, "16_alvinn_output_bumps.png")


if __name__ == "__main__":
    run_cli(main, __doc__)
