"""The whole job a user would time: PyTorch's VAE example against vaelib, each its own process.

    VAELIB_DATA=/path/to/data .venv/bin/python benchmarks/vae_whole_process.py [--runs 3] [--epochs 10]

The job is the one of PyTorch's ``examples/vae/main.py``: the 784-400-20 VAE,
Adam with learning rate 1e-3, batches of 128, ``--epochs`` epochs, the test
loss (one-sample negative ELBO, nats per image) after each epoch.  It runs
once written as that example writes it (torchvision ``MNIST`` with
``ToTensor`` behind ``DataLoader``s, its own model class and loops) and once
with vaelib (``data.load``, ``models.VAE``, ``train.fit``).  Neither saves the
example's image grids: the job is the training and the test losses.  Each is
a fresh Python process, timed from start to exit, imports included; the two
alternate ``--runs`` times.  It prints the median wall time of each, their
ratio and each job's final test loss.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

EXAMPLE = r"""
import sys
import torch
import torch.nn.functional as F
from torch import nn, optim
from torchvision import datasets, transforms

root, epochs = sys.argv[1], int(sys.argv[2])
torch.manual_seed(1)
train_loader = torch.utils.data.DataLoader(
    datasets.MNIST(root, train=True, download=False, transform=transforms.ToTensor()),
    batch_size=128, shuffle=True)
test_loader = torch.utils.data.DataLoader(
    datasets.MNIST(root, train=False, transform=transforms.ToTensor()),
    batch_size=128, shuffle=False)


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


model = VAE()
optimizer = optim.Adam(model.parameters(), lr=1e-3)


def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


for epoch in range(1, epochs + 1):
    model.train()
    for data, _ in train_loader:
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(data)
        loss = loss_function(recon_batch, data, mu, logvar)
        loss.backward()
        optimizer.step()
    model.eval()
    test_loss = 0
    with torch.no_grad():
        for data, _ in test_loader:
            recon_batch, mu, logvar = model(data)
            test_loss += loss_function(recon_batch, data, mu, logvar).item()
    test_loss /= len(test_loader.dataset)
    print(f"epoch {epoch}: test loss {test_loss:.2f}")
print(f"test loss {test_loss:.2f}")
"""

VAELIB = r"""
import sys
import torch
from vaelib import data, losses, models, train

root, epochs = sys.argv[1], int(sys.argv[2])
torch.manual_seed(1)
train_set, test_set = data.load("mnist", "train", root=root), data.load("mnist", "test", root=root)


def report(epoch, history, model):
    print(f"epoch {epoch + 1}: test loss {history.test[-1]['loss']:.2f}")


history = train.fit(models.VAE(), losses.VAEObjective(), train_set.x, test_set.x, epochs=epochs,
                    batch_size=128, lr=1e-3, device="cpu", progress=False, callback=report)
print(f"test loss {history.test[-1]['loss']:.2f}")
"""


def timed(program: str, root: str, epochs: int) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", program, root, str(epochs)], capture_output=True, text=True, check=True
    )
    seconds = time.perf_counter() - start
    return seconds, done.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each job, alternating")
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    root = os.environ.get("VAELIB_DATA")
    if not root:
        sys.exit("set VAELIB_DATA to the folder that holds MNIST/raw")

    times: dict[str, list[float]] = {"example": [], "vaelib": []}
    for run in range(args.runs):
        for name, program in [("example", EXAMPLE), ("vaelib", VAELIB)]:
            seconds, result = timed(program, root, args.epochs)
            times[name].append(seconds)
            print(f"run {run + 1}, {name:>7}: {seconds:6.1f} s, {result}", flush=True)
    example, ours = statistics.median(times["example"]), statistics.median(times["vaelib"])
    print(
        f"median wall time: example {example:.1f} s, vaelib {ours:.1f} s, ratio {ours / example:.2f} "
        "(goal: at most 0.4)"
    )


if __name__ == "__main__":
    main()
