"""`dnnimprove compare` on the moons data as a user's CSV against `dnnimprove study optimization`, full setting.

The optimization study's training set (moons, 300 points, noise 0.2, seed 3) is written to a CSV file;
then, in one run and at the study's own epochs (5000 by default):

- ``study optimization`` in robust mode over ``--seeds`` seeds (its seven variants);
- ``compare --data moons.csv --vary optimizer=gd,momentum,adam`` with the study's shared settings
  (layers 5,2, lr 0.0007, mini-batches of 64, inputs as they are);
- ``compare --data moons.csv --vary schedule=inverse_time,fixed_interval`` with gradient descent at lr 0.1
  (decay rate 1, interval 1000), the study's decay variants.

It prints each variant's train accuracy per seed from both, whether they are identical, and the study's
three conclusions evaluated on the compare runs' means.

    python benchmarks/compare_vs_study.py            # the full setting
    python benchmarks/compare_vs_study.py --epochs 100
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import tempfile
import time


def main() -> None:
    import dnnimprove as dn
    from dnnimprove import cli
    from dnnimprove.studies import STUDIES, run_study

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=STUDIES["optimization"].epochs)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    study = run_study(STUDIES["optimization"], mode="robust", seeds=range(args.seeds), epochs=args.epochs)
    theirs = {variant.name: [run.train_accuracy for run in variant.runs] for variant in study.variants}
    with tempfile.TemporaryDirectory() as folder:
        X, y = dn.datasets.moons(300, 0.2, 3)
        path = os.path.join(folder, "moons.csv")
        with open(path, "w") as csv:
            csv.write("x1,x2,label\n" + "".join(f"{a!r},{b!r},{c}\n" for (a, b), c in zip(X.tolist(), y.tolist())))
        common = ["compare", "--data", path, "--target", "label", "--no-standardize", "--layers", "5,2", "--set",
                  "batch_size=64", "--epochs", str(args.epochs), "--seeds", str(args.seeds), "--json", "--no-progress"]
        grids = {
            "optimizer": (["--vary", "optimizer=gd,momentum,adam", "--set", "lr=0.0007"], {}),
            "schedule": (["--vary", "schedule=inverse_time,fixed_interval", "--set", "optimizer=gd", "--set", "lr=0.1",
                          "--set", "decay_rate=1", "--set", "time_interval=1000"],
                         {"inverse_time": "gd_inverse_time", "fixed_interval": "gd_fixed_interval"}),
        }
        ours = {}
        for name, (argv, renamed) in grids.items():
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                status = cli.main([*common, *argv, "--out", os.path.join(folder, name)])
            if status != 0:
                raise SystemExit(f"compare {name} exited with {status}")
            for run in json.loads(printed.getvalue())["runs"]:
                ours[renamed.get(run["name"], run["name"])] = [seed["train_accuracy"] for seed in run["per_seed"]]
    seconds = time.perf_counter() - started
    print(f"moons CSV: compare vs study optimization, {args.epochs} epochs, seeds 0..{args.seeds - 1} (train accuracy)")
    print(f"{'variant':<26}{'study (mean)':>14}{'compare (mean)':>16}  identical per seed")
    mean = lambda values: sum(values) / len(values)  # noqa: E731
    for name, values in ours.items():
        print(f"{name:<26}{mean(theirs[name]):>14.4f}{mean(values):>16.4f}  {values == theirs[name]}")
    conclusions = [
        ("Adam beats gradient descent", mean(ours["adam"]) > mean(ours["gd"])),
        ("fixed-interval decay beats no decay", mean(ours["gd_fixed_interval"]) > mean(ours["gd"])),
        ("decay every epoch stalls below fixed-interval decay",
         mean(ours["gd_inverse_time"]) < mean(ours["gd_fixed_interval"])),
    ]
    for text, held in conclusions:
        print(f"compare: {text}: {'holds' if held else 'DOES NOT hold'}")
    print("study checks:", "; ".join(text for text, _ in study.checks))
    print(f"{seconds:.1f} s in all; load average:",
          open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else "n/a")


if __name__ == "__main__":
    main()
