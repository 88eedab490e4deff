"""Recurrent and convolutional nets: chainrule (eager and compiled) against PyTorch eager, 1 thread.

* LSTM, hidden 128, batch 32, 32 input features, T = 25, 100, 400: one training
  step (forward over the sequence, a linear head on the last state, softmax
  cross-entropy, backward through time, SGD). Time per step should grow
  linearly in T; the per-time-step column makes that visible. A GRU of the
  same sizes at T = 100 beside it.
* Digits CNN (8x8 images, conv 8 - pool - conv 16 - pool - linear) and LeNet-5
  on MNIST (28x28, the classic 6/16 conv layers with 120-84-10 dense layers):
  one epoch, batch 32 (digits) / 64 (MNIST). MNIST is read from
  ``../shared/data/mnist``; that row is skipped when the files are absent.

Both libraries start from the same weights (copied from the chainrule model),
see the same batches, and are timed interleaved; cells are medians.

Run: ``python benchmarks/bench_nets.py [--quick]``.
"""

from __future__ import annotations

import os
import sys

import numpy as np

import _common
import chainrule as cr
from _common import fmt_paired, interleaved, md_table, median
from chainrule import nn, optim

F = nn.functional


class _LastState(nn.Module):
    def __init__(self, features, hidden, classes, kind="LSTM"):
        super().__init__()
        self.kind = kind
        self.rnn = getattr(nn, kind)(features, hidden, seed=0, return_sequences=False)
        self.head = nn.Linear(hidden, classes, seed=1)

    def forward(self, x):
        return self.head(self.rnn(x))


def digits_cnn():
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, seed=0), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=1, seed=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(16 * 2 * 2, 10, seed=2))


def lenet5():
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2, seed=0), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5, seed=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120, seed=2), nn.ReLU(), nn.Linear(120, 84, seed=3), nn.ReLU(),
                         nn.Linear(84, 10, seed=4))


def _torch_twin(torch, model):
    """The same layers in PyTorch with the chainrule model's weights."""
    layers = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            t = torch.nn.Conv2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding)
        elif isinstance(m, nn.Linear):
            t = torch.nn.Linear(m.in_features, m.out_features)
        elif isinstance(m, nn.ReLU):
            layers.append(torch.nn.ReLU())
            continue
        elif isinstance(m, nn.MaxPool2d):
            layers.append(torch.nn.MaxPool2d(m.kernel_size, m.stride))
            continue
        elif isinstance(m, nn.Flatten):
            layers.append(torch.nn.Flatten())
            continue
        else:
            continue
        with torch.no_grad():
            t.weight.copy_(torch.from_numpy(m.weight.data))
            t.bias.copy_(torch.from_numpy(m.bias.data))
        layers.append(t)
    return torch.nn.Sequential(*layers)


def _torch_lstm(torch, model):
    rnn = getattr(torch.nn, model.kind)(model.rnn.input_size, model.rnn.hidden_size, batch_first=True)
    head = torch.nn.Linear(model.head.in_features, model.head.out_features)
    with torch.no_grad():
        for name, p in rnn.named_parameters():
            p.copy_(torch.from_numpy(getattr(model.rnn, name).data))
        head.weight.copy_(torch.from_numpy(model.head.weight.data))
        head.bias.copy_(torch.from_numpy(model.head.bias.data))

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn, self.head = rnn, head

        def forward(self, x):
            return self.head(self.rnn(x)[0][:, -1])

    return Net()


def _chainrule_step(model, lr):
    opt = optim.SGD(model.parameters(), lr=lr)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def _torch_step(torch, model, lr):
    opt = torch.optim.SGD(model.parameters(), lr=lr)

    def step(x, y):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def _with_kernels(choice, step):
    """``step`` run with ``cr.set_kernels(choice)``, the previous choice restored after it."""
    def run(x, y):
        previous = cr.set_kernels(choice)
        try:
            return step(x, y)
        finally:
            cr.set_kernels(previous)
    return run


def _contenders(make, lr, recurrent=False):
    """name -> step(x, y) on NumPy arrays, for chainrule eager/compiled and PyTorch.

    Recurrent nets also get eager chainrule with NumPy's loops when the default kernels are Numba's.
    """
    eager_model, comp_model = make(), make()
    steps = {"chainrule eager": _chainrule_step(eager_model, lr),
             "chainrule compiled (numpy)": cr.compile(_chainrule_step(comp_model, lr), model=comp_model)}
    if recurrent and _common.importable("numba") and cr.get_kernels() != "numpy":
        steps[NUMPY_KERNELS] = _with_kernels("numpy", _chainrule_step(make(), lr))
    torch = _common.torch_or_none()
    if torch is not None:
        twin = _torch_lstm(torch, make()) if isinstance(eager_model, _LastState) else _torch_twin(torch, make())
        tstep = _torch_step(torch, twin, lr)
        steps["PyTorch eager"] = lambda x, y: tstep(torch.from_numpy(x), torch.from_numpy(y))
    return steps


def _epoch_tasks(steps, x, y, batch):
    def runner(step):
        def epoch():
            for i in range(0, len(x), batch):
                step(x[i:i + batch], y[i:i + batch])
        return epoch
    return {name: runner(step) for name, step in steps.items()}


def lstm_rows(quick):
    rows = []
    plans = [("LSTM", 25), ("LSTM", 100), ("GRU", 100)] + ([] if quick else [("LSTM", 400)])
    rng = np.random.default_rng(0)
    for kind, T in plans:
        x = rng.standard_normal((32, T, 32)).astype(np.float32)
        y = rng.integers(0, 10, 32)
        steps = _contenders(lambda: _LastState(32, 128, 10, kind), 0.01, recurrent=True)
        for f in steps.values():  # warm up; records the compiled step
            for _ in range(3):
                f(x, y)
        reps = 3 if quick else max(5, 1500 // T)
        tasks = {k: (lambda f=f: f(x, y) and None) for k, f in steps.items()}
        times = interleaved(tasks, reps)
        t = {k: median(v) for k, v in times.items()}
        rows.append([f"{kind} T={T}", *[f"{t[k] * 1e3:.2f}" if k in t else "-" for k in NAMES],
                     f"{t['chainrule eager'] / T * 1e6:.0f}", *_vs_torch(times)])
    return rows


def _mnist_images():
    folder = os.path.join(_common.ROOT, "..", "shared", "data", "mnist")
    try:
        import bench_mnist

        x, y, xt, yt = bench_mnist.load(folder)
    except (OSError, ValueError):
        return None
    return np.concatenate([x, xt]).reshape(-1, 1, 28, 28), np.concatenate([y, yt])


def cnn_rows(quick):
    rows = []
    xd, yd = _common.load_digits_data()
    plans = [("digits CNN epoch (n=1797, batch 32)", digits_cnn, xd.reshape(-1, 1, 8, 8), yd, 32)]
    mnist = _mnist_images()
    if mnist is not None:
        n = 2000 if quick else len(mnist[0])
        plans.append((f"MNIST LeNet-5 epoch (n={n}, batch 64)", lenet5, mnist[0][:n], mnist[1][:n], 64))
    else:
        rows.append(["MNIST LeNet-5: skipped (MNIST files not found)", *["-"] * (2 * len(NAMES))])
    for label, make, x, y, batch in plans:
        x = np.ascontiguousarray(x, np.float32)
        steps = _contenders(make, 0.05)
        tasks = _epoch_tasks(steps, x, y, batch)
        for f in steps.values():
            for i in range(3):
                f(x[i * batch:(i + 1) * batch], y[i * batch:(i + 1) * batch])
        times = interleaved(tasks, 2 if quick else 3)
        t = {k: median(v) for k, v in times.items()}
        rows.append([label, *[f"{t[k] * 1e3:.1f}" if k in t else "-" for k in NAMES], "-", *_vs_torch(times)])
    return rows


#: (m, k, n, what): the products of one LSTM training step (hidden 128, batch 32, 32 features, T = 100).
LSTM_PRODUCTS = ((32, 128, 512, "recurrent product, forward (each step)"),
                 (32, 512, 128, "recurrent product, backward (each step)"),
                 (128, 3200, 512, "recurrent weight's gradient (once per sequence)"),
                 (3200, 32, 512, "input projection (once per sequence)"))


def blas_rows(quick):
    """The LSTM's matrix products through NumPy's BLAS and through PyTorch's, side by side.

    Both libraries spend most of an LSTM step in these products, so the ratio of their BLAS
    libraries at these shapes bounds what the rest of chainrule's step can win back.
    """
    torch = _common.torch_or_none()
    if torch is None:
        return []
    rng, rows = np.random.default_rng(0), []
    for m, k, n, what in LSTM_PRODUCTS:
        a, b = (rng.standard_normal(s).astype(np.float32) for s in ((m, k), (k, n)))
        out, ta, tb = np.empty((m, n), np.float32), torch.from_numpy(a), torch.from_numpy(b)
        t_out, number = torch.empty(m, n), (20 if m * k * n > 10 ** 7 else 500) // (5 if quick else 1)
        tasks = {"numpy": lambda: _common.per_call(lambda: np.dot(a, b, out=out), number),
                 "torch": lambda: _common.per_call(lambda: torch.mm(ta, tb, out=t_out), number)}
        times = interleaved(tasks, 3 if quick else 9)
        flops = 2 * m * k * n
        rows.append([f"{m} x {k} by {k} x {n}: {what}", *[f"{median(times[c]) * 1e6:.1f}" for c in tasks],
                     *[f"{flops / median(times[c]) / 1e9:.0f}" for c in tasks], fmt_paired(times["numpy"], times["torch"])])
    return rows


NUMPY_KERNELS = "chainrule eager, NumPy kernels"
NAMES = ("chainrule eager", NUMPY_KERNELS, "chainrule compiled (numpy)", "PyTorch eager")


def _vs_torch(times):
    """Eager (default and NumPy kernels) and compiled chainrule against PyTorch: medians of the per-round ratios."""
    torch_t = times.get("PyTorch eager")
    return [fmt_paired(times[k], torch_t) if k in times else "-"
            for k in ("chainrule eager", NUMPY_KERNELS, "chainrule compiled (numpy)")]


def run(quick=False):
    """The recurrent/convolutional section of the report, as Markdown lines."""
    _common.torch_or_none()  # imported before thread_limit, which only limits a torch already imported
    with _common.thread_limit(1):
        rows = lstm_rows(quick) + cnn_rows(quick)
        blas = blas_rows(quick)
    headers = ["workload", *[f"{k} ms" for k in NAMES], "eager µs per time step",
               "eager / PyTorch", "eager NumPy kernels / PyTorch", "compiled / PyTorch"]
    lines = ["## Recurrent and convolutional nets vs PyTorch eager (1 thread; ms per step or per epoch)", ""]
    lines += ["LSTM/GRU rows: one training step (hidden 128, batch 32, 32 features, head on the last state, SGD); "
              "CNN rows: one epoch. Same initial weights in both libraries; interleaved medians; ratios are "
              "medians of per-round ratios, the middle half of the rounds in brackets. Eager chainrule runs "
              f"with the default kernels (here {cr.get_kernels()!r}: Numba's LSTM and GRU loops when numba is "
              "installed); the NumPy-kernels column is the same step with `cr.set_kernels('numpy')`.", ""]
    lines += md_table(headers, rows) + [""]
    if blas:
        lines += ["### The LSTM's matrix products: NumPy's BLAS against PyTorch's (1 thread, float32)", "",
                  f"NumPy's BLAS here: {_common.blas_name()}; PyTorch's: {_common.torch_blas_name()}. Ratios are "
                  "medians of per-round ratios (NumPy / PyTorch > 1: NumPy's BLAS is slower).", ""]
        lines += md_table(["product", "NumPy µs", "PyTorch µs", "NumPy GFLOP/s", "PyTorch GFLOP/s",
                           "NumPy / PyTorch"], blas) + [""]
    return lines


def main(argv=None):
    return _common.cli(__doc__, run, argv)


if __name__ == "__main__":
    sys.exit(main())
