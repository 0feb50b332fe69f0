"""The decoder a page runs: a model's MLP decoder exported as JSON, and read back.

The format ``vaelib-mlp-decoder/1``: weights quantized to int8 with one scale
per row (output unit), base64-encoded; biases as floats.  ``vaelib/js/decoder.js``
runs it in the browser; :func:`decoder_from_export` runs it in PyTorch, to check
that what the page computes is what the model computes.
"""

from __future__ import annotations

import base64

import numpy as np
import torch

__all__ = ["FORMAT", "decoder_from_export", "export_decoder"]

FORMAT = "vaelib-mlp-decoder/1"


def export_decoder(model) -> dict:
    """The MLP decoder of ``model`` as a compact, JSON-ready dict.

    Weights are quantized to int8 with one scale per output unit (about a
    quarter of the float32 size; pixel probabilities move by well under 0.01)
    and base64-encoded; biases stay floats.  :func:`decoder_from_export`
    reads it back; the static explorer's JavaScript reads it in the browser.
    """
    layers = []
    modules = list(model.decoder)
    for i, module in enumerate(modules):
        if isinstance(module, torch.nn.ReLU):
            continue
        if not isinstance(module, torch.nn.Linear):
            raise TypeError(
                f"only MLP decoders (Linear and ReLU layers) can be exported, found {type(module).__name__}"
            )
        weight = module.weight.detach().cpu().float()  # [out, in]
        scale = weight.abs().amax(dim=1).clamp_min(1e-12) / 127  # [out]
        quantized = torch.round(weight / scale[:, None]).clamp(-127, 127).to(torch.int8)
        followed_by_relu = i + 1 < len(modules) and isinstance(modules[i + 1], torch.nn.ReLU)
        layers.append(
            {
                "in": module.in_features,
                "out": module.out_features,
                "activation": "relu" if followed_by_relu else "none",
                "scale": [float(f"{s:.7g}") for s in scale.tolist()],
                "weight": base64.b64encode(quantized.numpy().tobytes()).decode("ascii"),
                "bias": [float(f"{b:.7g}") for b in module.bias.detach().cpu().tolist()],
            }
        )
    side = int(round(layers[-1]["out"] ** 0.5))  # square images
    return {"format": FORMAT, "layers": layers, "output": "sigmoid", "side": side}


def decoder_from_export(spec: dict) -> torch.nn.Sequential:
    """The exported decoder as a PyTorch module returning *probabilities* (sigmoid applied)."""
    if spec.get("format") != FORMAT:
        raise ValueError(f"not an exported vaelib decoder: format {spec.get('format')!r}")
    modules: list[torch.nn.Module] = []
    for layer in spec["layers"]:
        linear = torch.nn.Linear(layer["in"], layer["out"])
        quantized = np.frombuffer(base64.b64decode(layer["weight"]), dtype=np.int8).reshape(layer["out"], layer["in"])
        weight = torch.from_numpy(quantized.astype(np.float32)) * torch.tensor(layer["scale"])[:, None]
        with torch.no_grad():
            linear.weight.copy_(weight)
            linear.bias.copy_(torch.tensor(layer["bias"]))
        modules.append(linear)
        if layer["activation"] == "relu":
            modules.append(torch.nn.ReLU())
    modules.append(torch.nn.Sigmoid())
    return torch.nn.Sequential(*modules)
