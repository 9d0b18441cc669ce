"""``digitpad explain``'s summary: what the network read and why, as one JSON-ready dict
(the files it names are drawn by ``render.explain_files``)."""

from __future__ import annotations

from typing import Any

from digitpad.core.data.preprocess import CENTRE, Stages
from digitpad.core.inference.predictor import ModelSource
from digitpad.core.inside.descriptions import layer_title, weights_title
from digitpad.core.inside.layers import LayerOutput, WeightPictures
from digitpad.core.inside.saliency import Look, spearman


def layer_entry(layer: LayerOutput) -> dict[str, Any]:
    """One layer in the summary: its name, kind, output shape and range, in words."""
    return {
        "name": layer.name,
        "kind": layer.kind,
        "shape": list(layer.values.shape),
        "min": float(layer.values.min()),
        "max": float(layer.values.max()),
        "about": layer_title(layer),
    }


def saliency_entry(seen: Look) -> dict[str, Any]:
    """The saliency map in the summary: its method, the class it explains, its sum, and
    (with the sanity check) how it ranks against the same map of random weights."""
    mine = seen.saliency
    entry = {
        "method": mine.method.value,
        "title": mine.method.title,
        "class": mine.target,
        "sum": float(mine.values.sum()),
    }
    if seen.random is not None:
        entry["spearman_with_random_weights"] = spearman(mine.values, seen.random.values)
    return entry


def explanation_summary(
    source: ModelSource,
    stages: Stages,
    seen: Look,
    weights: WeightPictures,
    stage_files: list[str],
    layers: list[dict[str, Any]],
    weights_file: str,
    saliency: dict[str, Any],
) -> dict[str, Any]:
    """The summary of one explanation: the prediction and probabilities, the drawing's
    stages (ink box, centre of mass and the shift that centred it), every layer, the
    first layer's weights, the saliency map; ``files`` lists every picture written."""
    files = [*stage_files, *(layer["file"] for layer in layers if "file" in layer), weights_file]
    files += [saliency[key] for key in ("file", "random_weights_file") if key in saliency]
    softmax = seen.softmax
    return {
        "model": source.name,
        "spec": source.spec.to_dict(),
        "prediction": softmax.predicted,
        "probabilities": [float(p) for p in softmax.probabilities],
        "logits": [float(z) for z in softmax.logits],
        "stages": {
            "files": stage_files,
            "ink_box": {
                "top": stages.box[0],
                "bottom": stages.box[1],
                "left": stages.box[2],
                "right": stages.box[3],
            },
            "centre_of_mass_before": list(stages.mass_before),
            "shift": [CENTRE[0] - stages.mass_before[0], CENTRE[1] - stages.mass_before[1]],
        },
        "layers": layers,
        "weights": {
            "layer": weights.layer,
            "about": weights_title(weights),
            "file": weights_file,
            "count": len(weights.images),
        },
        "saliency": saliency,
        "files": files,
    }
