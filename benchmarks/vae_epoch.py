"""vaelib's training loop against PyTorch's VAE example, on 2 CPU cores.

    VAELIB_DATA=/path/to/data .venv/bin/python benchmarks/vae_epoch.py [--runs 3] [--epochs 10]

1. Speed: one epoch of the 784-400-20 VAE (BCE summed, Adam 1e-3, batch 128)
   with ``vaelib.train.fit`` (the data set as one tensor, batches as index
   slices) and with a reference loop written the way PyTorch's example does it
   (torchvision ``MNIST`` with ``ToTensor`` behind a ``DataLoader``, the same
   model and loss).  The two alternate, ``--runs`` times each, in this one
   process; it prints the median epoch time of each and the median of
   their per-run ratios (this machine's speed can change between runs).
2. The floor: beside them, in the same runs, a bare loop of the same model,
   loss and fused Adam (no checks, no history), the model's matrix products
   alone (forward and backward, one epoch's worth of batches), and Adam's
   update alone; each as a ratio to the matrix products.  ``--profile``
   prints one ``fit`` epoch's operators, most time first.
3. Quality: trains vaelib's VAE for ``--epochs`` epochs and prints the test
   loss (the one-sample negative ELBO, nats per image, as the example
   reports it, about 105.6 after 10 epochs) and the importance-sampled
   negative log-likelihood beside it.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import torch
import torch.nn.functional as F
import torchvision
from torch.utils.data import DataLoader

from vaelib import data, losses, metrics, models, settings, train


def vaelib_epoch(x: torch.Tensor) -> float:
    model = models.VAE()
    start = time.perf_counter()
    train.fit(model, losses.VAEObjective(), x, epochs=1, batch_size=128, lr=1e-3, device="cpu", progress=False)
    return time.perf_counter() - start


def bare_epoch(x: torch.Tensor, batch_size: int = 128) -> float:
    """One epoch of the same model, loss and fused Adam in a loop with nothing else: no checks of the data or
    the loss, no gradient norm, no history.  ``fit`` over this is what ``fit``'s own care costs."""
    torch.manual_seed(0)
    model = models.VAE()
    optimizer = train.adam(model.parameters())
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    start = time.perf_counter()
    for i in range(0, len(x), batch_size):
        batch = x[order[i : i + batch_size]]
        logits, mu, logvar = model(batch)
        recon = losses._BernoulliNLL.apply(logits, batch)  # [B], the kernel bce_per_image uses
        kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=1)
        optimizer.zero_grad(set_to_none=True)
        (recon + kl).mean().backward()
        optimizer.step()
    return time.perf_counter() - start


def matmul_floor(steps: int, batch_size: int = 128) -> float:
    """Seconds for the VAE's matrix products alone over ``steps`` batches, forward and backward."""
    model = models.VAE()
    w1, wmu, wlv = model.encoder[0].weight, model.to_mu.weight, model.to_logvar.weight  # [400, 784], [20, 400] x2
    d1, d2 = model.decoder[0].weight, model.decoder[2].weight  # [400, 20], [784, 400]
    x = torch.rand(batch_size, w1.shape[1])
    with torch.no_grad():
        start = time.perf_counter()
        for _ in range(steps):
            h = x @ w1.T  # forward: encoder, the two heads, decoder
            mu, _ = h @ wmu.T, h @ wlv.T  # the code: mu; logvar only costs its product
            hd = mu @ d1.T
            out = hd @ d2.T
            _ = out.T @ hd  # backward, from the logits down: d2's gradient
            g_hd = out @ d2
            _ = g_hd.T @ mu  # d1's
            g_z = g_hd @ d1
            _, _ = g_z.T @ h, g_z.T @ h  # the heads'
            g_h = g_z @ wmu + g_z @ wlv
            _ = g_h.T @ x  # w1's; no gradient for the images
        return time.perf_counter() - start


def adam_alone(steps: int) -> float:
    """Seconds for ``steps`` of fused Adam's update alone on the VAE's 653 thousand parameters: it reads and
    writes each one's weight, gradient and two running moments, memory-bound work that no loop avoids."""
    torch.manual_seed(0)
    model = models.VAE()
    for p in model.parameters():
        p.grad = torch.randn_like(p) * 1e-3
    optimizer = train.adam(model.parameters())
    start = time.perf_counter()
    for _ in range(steps):
        optimizer.step()
    return time.perf_counter() - start


def reference_epoch(root: str) -> float:
    """One epoch as in PyTorch's examples/vae/main.py (per-item PIL -> tensor)."""
    model = models.VAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    dataset = torchvision.datasets.MNIST(root, train=True, download=False, transform=torchvision.transforms.ToTensor())
    loader = DataLoader(dataset, batch_size=128, shuffle=True)
    start = time.perf_counter()
    model.train()
    for images, _ in loader:
        optimizer.zero_grad()
        logits, mu, logvar = model(images)
        bce = F.binary_cross_entropy(torch.sigmoid(logits), images.view(-1, 784), reduction="sum")
        kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        (bce + kld).backward()
        optimizer.step()
    return time.perf_counter() - start


def profile_fit(x: torch.Tensor, rows: int = 25) -> None:
    """Print where one ``fit`` epoch spends its time, operator by operator (PyTorch's profiler, CPU)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        seconds = vaelib_epoch(x)
    print(f"one profiled fit epoch: {seconds:.2f} s (the profiler adds its own cost)")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed epochs of each loop")
    parser.add_argument("--epochs", type=int, default=10, help="epochs for the quality run (0: skip)")
    parser.add_argument("--k", type=int, default=1_000, help="importance samples per test image")
    parser.add_argument("--profile", action="store_true", help="also profile one fit epoch, its top operators")
    parser.add_argument("--k-images", type=int, default=1_000, help="test images for the importance-sampled estimate")
    args = parser.parse_args()

    root = str(data.data_root())
    settings.seed_everything(0)
    train_set, test_set = data.load("mnist", "train"), data.load("mnist", "test")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, root {root}")

    steps = math.ceil(len(train_set.x) / 128)
    vaelib_epoch(train_set.x[:12_800])  # warm up threads and allocator: the first epoch of a process is slower
    ours, theirs, bare, floor, update = [], [], [], [], []
    for run in range(args.runs):
        ours.append(vaelib_epoch(train_set.x))
        theirs.append(reference_epoch(root))
        bare.append(bare_epoch(train_set.x))
        floor.append(matmul_floor(steps))
        update.append(adam_alone(steps))
        print(
            f"run {run + 1}: vaelib.fit {ours[-1]:.2f} s, reference loop {theirs[-1]:.2f} s, "
            f"bare loop {bare[-1]:.2f} s, matrix products alone {floor[-1]:.2f} s, "
            f"Adam's update alone {update[-1]:.2f} s"
        )
    ours_s, theirs_s, bare_s, floor_s, update_s = (statistics.median(t) for t in (ours, theirs, bare, floor, update))

    def ratio(a: list[float], b: list[float]) -> float:
        """The median of the per-run ratios: this machine's speed can change between runs, rarely within one."""
        return statistics.median(x / y for x, y in zip(a, b, strict=True))

    print(
        f"median epoch: vaelib.fit {ours_s:.2f} s, reference {theirs_s:.2f} s, "
        f"ratio {ratio(ours, theirs):.2f} (goal: at most 0.5)"
    )
    print(
        f"against the floor: vaelib.fit {ours_s:.2f} s, matrix products alone {floor_s:.2f} s, "
        f"ratio {ratio(ours, floor):.2f} (goal: at most 1.6); a bare loop of the same model, loss and "
        f"Adam {bare_s:.2f} s, ratio {ratio(bare, floor):.2f}; Adam's update alone {update_s:.2f} s, "
        f"ratio {ratio(update, floor):.2f}"
    )

    if args.profile:
        profile_fit(train_set.x)

    if args.epochs:
        settings.seed_everything(0)
        model = models.VAE()
        history = train.fit(
            model,
            losses.VAEObjective(),
            train_set.x,
            test_set.x,
            epochs=args.epochs,
            batch_size=128,
            lr=1e-3,
            device="cpu",
            progress=False,
        )
        for epoch, (tr, te) in enumerate(zip(history.train, history.test, strict=True), 1):
            print(f"epoch {epoch:2}: train loss {tr['loss']:.2f}, test loss {te['loss']:.2f} nats per image")
        test_elbo = metrics.elbo(model, test_set.x)
        subset = test_set.x[: args.k_images]
        nll = -metrics.importance_sampled_log_likelihood(model, subset, k=args.k).mean().item()
        subset_loss = -metrics.elbo(model, subset)["elbo"]
        print(
            f"after {args.epochs} epochs: test loss (-ELBO, 1 sample) {-test_elbo['elbo']:.2f} nats per image "
            "(goal: at most 106; PyTorch's example reports about 105.6)"
        )
        print(
            f"on the first {len(subset):,} test images: -ELBO {subset_loss:.2f}, "
            f"importance-sampled -log p(x) with K={args.k}: {nll:.2f} nats per image"
        )


if __name__ == "__main__":
    main()
