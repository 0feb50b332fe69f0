"""Seconds per epoch of chapter 1's autoencoder on full MNIST.

    VAELIB_DATA=/path/to/data .venv/bin/python benchmarks/autoencoder_epoch.py [--runs 3] [--keep-denormals]

Trains the 784-512-256-16 MLP autoencoder (Adam 1e-3, batch 128, BCE summed
over pixels) with ``vaelib.train.fit`` and prints each epoch's time and the
median.  Times are noisy on shared machines: compare medians.  Like the
chapters, it flushes denormal floats to zero first
(``settings.flush_denormals()``); with ``--keep-denormals`` it does not, to
measure what that setting is worth.
"""

from __future__ import annotations

import argparse
import statistics

import torch

from vaelib import data, losses, models, settings, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="epochs to time")
    parser.add_argument("--keep-denormals", action="store_true", help="train with denormal floats (no flushing)")
    args = parser.parse_args()
    if not args.keep_denormals:
        settings.flush_denormals()  # before any computation, so that PyTorch's worker threads inherit it
    settings.seed_everything(0)
    train_set = data.load("mnist", "train")
    model = models.Autoencoder(models.MLPConfig(hidden_dims=(512, 256), latent_dim=16))
    history = train.fit(
        model,
        losses.autoencoder_loss,
        train_set.x,
        epochs=args.runs,
        batch_size=128,
        lr=1e-3,
        device="cpu",
        progress=False,
    )
    flushing = "kept" if args.keep_denormals else "flushed to zero"
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {len(train_set):,} images, denormals {flushing}"
    )
    for i, seconds in enumerate(history.seconds, 1):
        print(f"epoch {i}: {seconds:.2f} s (train loss {history.train[i - 1]['loss']:.1f} nats per image)")
    print(f"median: {statistics.median(history.seconds):.2f} s per epoch")


if __name__ == "__main__":
    main()
