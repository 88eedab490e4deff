"""Training steps with each optimiser: digits MLP 64-128-64-10, batch 32 (and 1), float32, one BLAS thread.

Contenders, interleaved in rotating order (ratios are medians of per-round ratios):

* chainrule: ``nn.MLP`` + ``cross_entropy`` + the optimiser, as users write the step; small
  parameters of an element-wise rule are updated as one array (``optim.optimizer._Group``);
* chainrule, one parameter at a time: the same, with the grouping switched off, which shows
  what it saves;
* chainrule compiled (numpy): the grouped step recorded once by ``cr.compile`` and replayed;
* chainrule compiled (numba), when numba is installed: the step as one generated function whose
  update is the rule's own lines (SGD, Adam, AdamW; other rules step themselves after it), called
  once per step, and its ``epoch`` call over 64 batches, per step;
* PyTorch eager: the same net and rule from ``torch.optim`` with its defaults (same
  hyper-parameters, same initial weights and batches).

Reported: microseconds per step (forward, backward and update) and the time of the update
alone for chainrule, both ways.

Run: ``python benchmarks/bench_optim.py [--quick]``.
"""

from __future__ import annotations

import sys

import numpy as np

import _common
from _common import fmt_paired, fmt_us, interleaved, md_table, median
import chainrule as cr
from chainrule import nn, optim

SIZES = [64, 128, 64, 10]
#: name -> (chainrule optimiser class, torch.optim class name, keyword arguments both accept)
RULES = {
    "SGD momentum 0.9": (optim.SGD, "SGD", {"lr": 0.05, "momentum": 0.9}),
    "Adagrad": (optim.Adagrad, "Adagrad", {"lr": 0.05}),
    "RMSProp": (optim.RMSProp, "RMSprop", {"lr": 0.001}),
    "Adam": (optim.Adam, "Adam", {"lr": 0.001}),
    "AdamW": (optim.AdamW, "AdamW", {"lr": 0.001, "weight_decay": 0.01}),
}
NAMES = ("chainrule", "chainrule, one parameter at a time", "chainrule compiled (numpy)", "PyTorch eager",
         "chainrule compiled (numba)", "chainrule compiled (numba), epoch call")
EPOCH_BATCHES = 64  # batches per epoch call of the numba contender


def _numba_available():
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def _chainrule(rule, kwargs, grouped, compiled=False):
    model = nn.MLP(SIZES, seed=0)
    opt = rule(model.parameters(), **kwargs)
    if not grouped:
        opt._plan_groups = lambda: []
    loss_fn = nn.functional.cross_entropy

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    backend = compiled if isinstance(compiled, str) else "numpy"
    return (cr.compile(step, backend=backend, model=model) if compiled else step), model, opt


def _torch(torch, name, kwargs, model):
    layers = []
    for i, lin in enumerate([*model.hidden, model.output]):
        t = torch.nn.Linear(lin.in_features, lin.out_features)
        with torch.no_grad():
            t.weight.copy_(torch.from_numpy(np.array(lin.weight.data)))
            t.bias.copy_(torch.from_numpy(np.array(lin.bias.data)))
        layers += [t] if i == len(model.hidden) else [t, torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers)
    opt = getattr(torch.optim, name)(net.parameters(), **kwargs)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(x, y):
        opt.zero_grad()
        loss_fn(net(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        opt.step()

    return step


def _rows(batch, quick):
    torch = _common.torch_or_none()
    rng = np.random.default_rng(0)
    x = rng.random((batch, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], batch)
    n, repeats = (20, 3) if quick else (200, 15)
    rows = []
    for label, (rule, torch_name, kwargs) in RULES.items():
        grouped, model, opt = _chainrule(rule, kwargs, True)
        alone, _, opt_alone = _chainrule(rule, kwargs, False)
        steps = {NAMES[0]: grouped, NAMES[1]: alone, NAMES[2]: _chainrule(rule, kwargs, True, compiled=True)[0]}
        if torch is not None:
            steps[NAMES[3]] = _torch(torch, torch_name, kwargs, model)
        if _numba_available():
            steps[NAMES[4]] = _chainrule(rule, kwargs, True, compiled="numba")[0]
        for f in steps.values():  # the compiled step records on its first calls
            for _ in range(3):
                f(x, y)
        tasks = {k: (lambda f=f: _common.per_call(lambda: f(x, y), n)) for k, f in steps.items()}
        if NAMES[4] in steps:
            whole = steps[NAMES[4]]
            xs, ys = np.tile(x, (EPOCH_BATCHES, 1)), np.tile(y, EPOCH_BATCHES)
            whole.epoch(xs, ys, batch)
            per = max(1, n // EPOCH_BATCHES)
            tasks[NAMES[5]] = lambda: _common.per_call(lambda: whole.epoch(xs, ys, batch), per) / EPOCH_BATCHES
        tasks["update, grouped"] = lambda: _common.per_call(opt.step, n)
        tasks["update, one at a time"] = lambda: _common.per_call(opt_alone.step, n)
        t = interleaved(tasks, repeats)
        rows.append([label, batch, *[fmt_us(median(t[k])) if k in t else "-" for k in NAMES],
                     fmt_paired(t[NAMES[0]], t[NAMES[1]]), fmt_paired(t.get(NAMES[3]), t[NAMES[0]]),
                     fmt_paired(t.get(NAMES[3]), t[NAMES[2]]), fmt_paired(t.get(NAMES[3]), t.get(NAMES[5])),
                     fmt_us(median(t["update, grouped"])), fmt_us(median(t["update, one at a time"]))])
    return rows


def run(quick=False):
    """The optimiser section of the report, as Markdown lines."""
    _common.torch_or_none()  # imported before thread_limit, which only limits a torch already imported
    with _common.thread_limit(1):
        rows = _rows(32, quick) + ([] if quick else _rows(1, quick))
    headers = ["rule", "batch", *[f"{k} µs/step" for k in NAMES], "grouped / one at a time",
               "PyTorch / chainrule", "PyTorch / compiled", "PyTorch / numba epoch", "update alone, grouped µs",
               "update alone, one at a time µs"]
    lines = [f"## Optimisers: one training step of the {'-'.join(map(str, SIZES))} MLP (1 thread)", ""]
    lines += md_table(headers, rows)
    lines += ["", "Ratios are medians of per-round ratios (middle half of the rounds in brackets); PyTorch / "
              "chainrule > 1 means chainrule is faster. The update columns time `opt.step()` alone on the "
              "last gradients.", ""]
    return lines


def main(argv=None):
    return _common.cli(__doc__, run, argv)


if __name__ == "__main__":
    sys.exit(main())
