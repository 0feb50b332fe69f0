"""How well chapter 6's beta-VAE disentangles the sprites, over betas and seeds.

    .venv/bin/python benchmarks/beta_vae_sweep.py [--betas 1 2 4 8 16 32]
        [--seeds 0 1 2] [--epochs 40] [--warmup-epochs 13] [--batch-size 64]
        [--model conv|mlp] [--scales 4] [--rotations 8] [--positions 10]
        [--record vaelib/results/beta_vae_sweep.json [--add]]

For every beta and seed: train a VAE on the sprites of chapter 6 with
``vaelib.betavae.runs`` (the chapter's own recipe by default, the betas of a
seed side by side as the chapter trains its two), then measure
reconstruction, KL, active units, the mutual information gap (MIG) and each
factor's gap.  One line per run as it finishes, then per beta the median MIG
with its range over the seeds and the median gap of each factor, against the
goal of issue 10: at the best beta, a median MIG over 3 seeds of at least
0.35, with x, y and scale each captured by a latent of its own (gap >= 0.3).

With ``--record``, the runs are written to that JSON file with the command,
the machine and the day; chapter 6 plots ``vaelib/results/beta_vae_sweep.json``,
which the default settings reproduce (about 140 s per pair of runs on 2 CPU cores).
With ``--add`` as well, the runs join those already in the file (a run of the
same beta and seed replaces the old one), which must be of the same recipe,
model and sprites; the record keeps one line per addition in ``"history"``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import platform
import shlex
import subprocess
import sys

import torch

from vaelib import betavae, side_by_side, sprites

GOAL_MIG, GOAL_GAP = 0.35, 0.3


def summary_lines(runs: list[dict]) -> list[str]:
    """Per beta: median MIG and its range over the seeds, the median gap per factor."""
    lines = [f"{'beta':>5} | MIG median (min-max) | " + " ".join(f"{f:>8}" for f in sprites.FACTORS) + " | goal"]
    for beta, row in betavae.summarize(runs).items():
        median, low, high = row["mig"]
        gaps = {name: spread[0] for name, spread in row["gaps"].items()}
        met = median >= GOAL_MIG and min(gaps["x"], gaps["y"], gaps["scale"]) >= GOAL_GAP
        lines.append(
            f"{beta:5g} | {median:.3f} ({low:.3f}-{high:.3f})   | "
            + " ".join(f"{gaps[name]:8.2f}" for name in sprites.FACTORS)
            + f" | {'met' if met else 'not met'} ({row['seeds']} seeds)"
        )
    return lines


def cpu_name() -> str:
    try:
        lines = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout.splitlines()
        return next(line.split(":", 1)[1].strip() for line in lines if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        return platform.processor() or "unknown"


def added_to(path: str, new: dict) -> dict:
    """The record in ``path`` with the runs of ``new`` added (same beta and seed: the new run wins)."""
    with open(path, encoding="utf-8") as file:
        old = json.load(file)
    for key in ("model", "recipe", "sprites"):
        if old[key] != json.loads(json.dumps(new[key])):  # as JSON holds it: lists, not tuples
            raise SystemExit(f"--add: the runs in {path} have another {key} ({old[key]} vs {new[key]}); record anew")
    redone = {(run["beta"], run["seed"]) for run in new["runs"]}
    runs = [run for run in old["runs"] if (run["beta"], run["seed"]) not in redone] + new["runs"]
    history = old.get("history", [f"{old.get('recorded', 'undated')}: {old['command']}"]) + new["history"]
    return {**new, "runs": sorted(runs, key=lambda run: (run["beta"], run["seed"])), "history": history}


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    recipe = betavae.RECIPE
    parser.add_argument("--betas", type=float, nargs="+", default=[1.0, 2.0, 4.0, 8.0, 16.0, 32.0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=recipe.epochs)
    parser.add_argument("--warmup-epochs", type=int, default=recipe.warmup_epochs, help="KL weight rising to beta")
    parser.add_argument("--batch-size", type=int, default=recipe.batch_size)
    parser.add_argument("--model", choices=["conv", "mlp"], default="conv")
    parser.add_argument("--scales", type=int, default=4)
    parser.add_argument("--rotations", type=int, default=8)
    parser.add_argument("--positions", type=int, default=10)
    parser.add_argument("--record", help="write the runs to this JSON file")
    parser.add_argument("--add", action="store_true", help="with --record: add the runs to those in the file")
    args = parser.parse_args(argv)
    recipe = betavae.Recipe(epochs=args.epochs, warmup_epochs=args.warmup_epochs, batch_size=args.batch_size)
    grid = {"size": 32, "n_scales": args.scales, "n_rotations": args.rotations, "n_positions": args.positions}
    data = sprites.make_sprites(**grid)
    print(
        f"{len(data):,} sprites ({args.scales} scales, {args.rotations} rotations, {args.positions} positions); "
        f"{args.model} VAE, {recipe.epochs} epochs, batch {recipe.batch_size}, warm-up {recipe.warmup_epochs} epochs"
    )
    runs = []
    for seed in args.seeds:
        for result in betavae.runs(data, args.betas, seed, recipe, kind=args.model):
            runs.append(result)
            gaps = " ".join(f"{name} {g:.2f}" for name, g in result["gaps"].items())
            print(
                f"beta {result['beta']:g}, seed {seed}: MIG {result['mig']:.3f} ({gaps}), recon {result['recon']:.1f}, "
                f"KL {result['kl']:.1f}, {result['active']} active, {result['seconds']:.0f} s",
                flush=True,
            )
    print("\n".join(summary_lines(runs)))
    if args.record:
        command = shlex.join(["benchmarks/beta_vae_sweep.py", *(sys.argv[1:] if argv is None else argv)])
        record = {
            "command": command,
            "machine": f"{cpu_name()}, {min(len(args.betas), side_by_side.cores())} models at once on one thread each, "
            f"torch {torch.__version__}",
            "recorded": datetime.date.today().isoformat(),
            "model": args.model,
            "recipe": dataclasses.asdict(recipe),
            "sprites": grid,
            "runs": runs,
        }
        record["history"] = [f"{record['recorded']}: {command}"]
        if args.add:
            record = added_to(args.record, record)
        with open(args.record, "w", encoding="utf-8") as file:
            json.dump(record, file, indent=1)
            file.write("\n")
    return runs


if __name__ == "__main__":
    main()
