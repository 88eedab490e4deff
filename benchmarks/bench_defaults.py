"""Do `chainrule train FILE`'s defaults win? The default recipe against scikit-learn, on six small data sets.

For each of iris, wine, breast_cancer, digits (classification: test
accuracy) and diabetes, linnerud (regression: test R^2), and each of 5
seeds, the data set is written to a file as a user would export it (CSV;
linnerud, with its three targets, as NPZ), trained with `chainrule train`'s
default settings (only ``--task`` and ``--seed`` given) and scored on the
CLI's own test rows. scikit-learn's MLPClassifier / MLPRegressor and
LogisticRegression / LinearRegression, with their default settings, are
fitted on the same standardised non-test rows (training + validation) and
scored on the same test rows.

The recipe passes when its mean test score matches or beats the MLP's on
every data set and beats the linear model's on the mean over data sets.

Run:  PYTHONPATH=src python benchmarks/bench_defaults.py [--sets iris,diabetes] [--seeds 5] [--out table.md]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import warnings

import numpy as np

from chainrule.cli.run import TrainSettings, train_run
from chainrule.data import split_indices

#: Data set -> (scikit-learn loader name, task).
SETS = {"iris": ("load_iris", "classification"), "wine": ("load_wine", "classification"),
        "breast_cancer": ("load_breast_cancer", "classification"), "digits": ("load_digits", "classification"),
        "diabetes": ("load_diabetes", "regression"), "linnerud": ("load_linnerud", "regression")}


def _arrays(name):
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, SETS[name][0])()
    names = [f"f{j}" for j in range(bunch.data.shape[1])]  # sklearn's names hold spaces and brackets
    return np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target), names


def write_file(name, folder):
    """The data set as a user's file: CSV with a header (NPZ for multi-target linnerud)."""
    X, y, names = _arrays(name)
    if y.ndim == 2:
        path = os.path.join(folder, f"{name}.npz")
        np.savez(path, X=X, y=y)
        return path
    path = os.path.join(folder, f"{name}.csv")
    with open(path, "w") as handle:
        handle.write(",".join(names) + ",target\n")
        for row, target in zip(X, y):
            handle.write(",".join(repr(float(v)) for v in row) + f",{target.item()}\n")
    return path


def chainrule_score(path, task, seed, folder, **recipe):
    """Test score of `chainrule train PATH --task TASK --seed SEED` (plus any recipe overrides)."""
    settings = TrainSettings(task=task, seed=seed, out=os.path.join(folder, f"run-{seed}"), overwrite=True,
                             verbose=0, plots=False, checkpoint=False, **recipe)
    result = train_run(path, settings)
    return result.scores["test"]["accuracy" if task == "classification" else "r2"], result


def sklearn_scores(name, task, seed, settings=None):
    """``{"mlp": score, "linear": score}`` of scikit-learn's defaults on the CLI's split for ``seed``."""
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.metrics import accuracy_score, r2_score
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.preprocessing import StandardScaler

    settings = settings or TrainSettings()
    X, y, _ = _arrays(name)
    classes = task == "classification"
    train, val, test = split_indices(len(X), y if classes else None, val=settings.validation, test=settings.test,
                                     stratify=classes, seed=seed)
    fit_rows = np.concatenate([train, val])
    scaler = StandardScaler().fit(X[fit_rows])
    Xf, Xt = scaler.transform(X[fit_rows]), scaler.transform(X[test])
    models = {"mlp": MLPClassifier(random_state=seed) if classes else MLPRegressor(random_state=seed),
              "linear": LogisticRegression() if classes else LinearRegression()}
    score = accuracy_score if classes else r2_score
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the defaults' own ConvergenceWarnings are part of what is measured
        for key, model in models.items():
            out[key] = float(score(y[test], model.fit(Xf, y[fit_rows]).predict(Xt)))
    return out


def measure(sets=tuple(SETS), seeds=5, recipe=None, log=None):
    """``{set: {"chainrule": mean, "mlp": mean, "linear": mean, "runs": [...]}}`` over ``seeds`` seeds."""
    recipe = recipe or {}
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in sets:
            task = SETS[name][1]
            path = write_file(name, folder)
            rows = []
            for seed in range(seeds):
                ours, _ = chainrule_score(path, task, seed, folder, **recipe)
                theirs = sklearn_scores(name, task, seed, TrainSettings(**recipe))  # the same test rows
                rows.append({"chainrule": ours, **theirs})
                if log:
                    log(f"{name} seed {seed}: chainrule {ours:.4f}  mlp {theirs['mlp']:.4f}  "
                        f"linear {theirs['linear']:.4f}")
            results[name] = {key: float(np.mean([r[key] for r in rows])) for key in rows[0]}
            results[name]["runs"] = rows
    return results


def verdict(results):
    """``(passed, reasons)``: match or beat the MLP on every set, beat the linear model on the mean."""
    reasons = [f"{name}: {r['chainrule']:.4f} < MLP {r['mlp']:.4f}" for name, r in results.items()
               if r["chainrule"] < r["mlp"] - 1e-12]
    ours = np.mean([r["chainrule"] for r in results.values()])
    linear = np.mean([r["linear"] for r in results.values()])
    if ours <= linear:
        reasons.append(f"mean {ours:.4f} <= linear {linear:.4f}")
    return not reasons, reasons


def table(results, seeds):
    """A Markdown table of the mean test scores, one row per data set plus the mean."""
    lines = [f"| data set (metric, mean of {seeds} seeds) | chainrule defaults | MLP defaults | linear model |",
             "|---|---|---|---|"]
    for name, r in results.items():
        metric = "accuracy" if SETS[name][1] == "classification" else "R^2"
        lines.append(f"| {name} ({metric}) | {r['chainrule']:.4f} | {r['mlp']:.4f} | {r['linear']:.4f} |")
    means = {k: np.mean([r[k] for r in results.values()]) for k in ("chainrule", "mlp", "linear")}
    lines.append(f"| mean | {means['chainrule']:.4f} | {means['mlp']:.4f} | {means['linear']:.4f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated data sets")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--out", help="also write the table to this Markdown file")
    parser.add_argument("--recipe", default="{}", help="JSON of TrainSettings overrides, to try another recipe")
    args = parser.parse_args(argv)
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    results = measure(sets, args.seeds, json.loads(args.recipe), log=lambda line: print(line, file=sys.stderr, flush=True))
    text = table(results, args.seeds)
    passed, reasons = verdict(results)
    text += "\n\n" + ("PASS: the defaults match or beat the MLP defaults on every data set and beat the linear "
                      "model on the mean" if passed else "FAIL: " + "; ".join(reasons))
    print(text)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text + "\n")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
