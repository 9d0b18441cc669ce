"""What a layer's output and the first layer's weights are, in words: the Look inside view
and ``digitpad explain``'s summary say the same."""

from __future__ import annotations

from digitpad.core.inside.layers import LayerOutput, WeightPictures

# Layers whose output is their input laid out again: said instead of drawn.
NOTES = {
    "dropout": "passes its input through unchanged when reading; it only drops units "
    "while training",
    "flatten": "lays the maps above out as one row of numbers for the dense layer",
}


def layer_title(layer: LayerOutput) -> str:
    """One line about a layer's output (plain text)."""
    values = layer.values
    if layer.kind in NOTES:
        return (
            f"{layer.name} ({layer.kind}, {'×'.join(map(str, values.shape))}) {NOTES[layer.kind]}"
        )
    if layer.is_maps:
        h, w = values.shape[:2]
        what = f"{layer.count} maps of {h}×{w}"
    else:
        what = f"{layer.count} units"
    return f"{layer.name} ({layer.kind}): {what}, values {values.min():.3g} to {values.max():.3g}"


def weights_title(weights: WeightPictures) -> str:
    h, w = weights.images.shape[1:]
    what = "filter" if weights.kind == "conv" else "hidden unit"
    return (
        f"{weights.layer}: each {what}'s {h}×{w} input weights "
        "(red raises it, blue lowers it; each picture on its own scale)"
    )
