"""Theoretical multiply-accumulates of a Keras model, counted layer by layer.

Only Conv2D and Dense layers count (one MAC per weight use); bias adds,
activations, pooling and dropout are a fraction of a percent here and are
left out. Forward FLOPs = 2 x MACs. Training costs about 3 x the forward
pass (the backward pass computes gradients for both the activations and the
weights, each about one forward pass).
"""

import math


def count_macs(model):
    """Return ``[(layer name, kind, MACs per image), ...]`` for the Conv2D and Dense layers."""
    import keras

    rows = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, h, w, _ = layer.output.shape
            rows.append((layer.name, "Conv2D", int(h * w * math.prod(layer.kernel.shape))))
        elif isinstance(layer, keras.layers.Dense):
            rows.append((layer.name, "Dense", int(math.prod(layer.kernel.shape))))
    return rows


def flops_summary(image_size=(80, 80), **build_kwargs):
    """FLOPs per image of the network skface builds (forward, and training ~ 3x forward)."""
    from skface._model import build_model

    model = build_model(image_size=tuple(image_size), **build_kwargs)
    layers = count_macs(model)
    macs = sum(m for _, _, m in layers)
    return {
        "layers": [{"name": n, "kind": k, "macs": m} for n, k, m in layers],
        "params": int(model.count_params()),
        "macs_per_image": macs,
        "forward_flops_per_image": 2 * macs,
        "train_flops_per_image": 6 * macs,
    }
