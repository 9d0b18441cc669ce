"""``digitpad explain``'s files: what the view shows, as PNGs and a JSON summary."""

from __future__ import annotations

import json
from pathlib import Path

from digitpad.core.data.preprocess import CENTRE, Stages
from digitpad.core.inference.predictor import ModelSource
from digitpad.core.inside.layers import Inspector
from digitpad.core.inside.saliency import Method, look, spearman
from digitpad.core.machine.files import write_text
from digitpad.ui.common.pictures import save_image
from digitpad.ui.inside.inside_pictures import (
    layer_mosaic,
    layer_title,
    saliency_picture,
    stage_pictures,
    weights_mosaic,
    weights_title,
)

STAGE_FILE_SIDE = 140
SALIENCY_ZOOM = 10


def write_explanation(
    inspector: Inspector,
    source: ModelSource,
    stages: Stages,
    method: Method,
    out: Path,
    sanity: bool = False,
) -> dict:
    """Write the stages, every layer's output, the first layer's weights and the saliency
    map of ``stages.final`` into ``out`` (created), plus ``summary.json``; return the
    summary."""
    out.mkdir(parents=True, exist_ok=True)
    seen = look(inspector, stages.final, method, sanity)
    files = []

    def save(image, name: str, scale: int = 1) -> str:
        save_image(image, out / name, scale)
        files.append(name)
        return name

    stage_files = [
        save(image, f"stage-{i}.png")
        for i, (image, _) in enumerate(stage_pictures(stages, STAGE_FILE_SIDE), start=1)
    ]
    layers = []
    for i, layer in enumerate(seen.layers, start=1):
        entry = {
            "name": layer.name,
            "kind": layer.kind,
            "shape": list(layer.values.shape),
            "min": float(layer.values.min()),
            "max": float(layer.values.max()),
            "about": layer_title(layer),
        }
        mosaic = layer_mosaic(layer) if layer.kind != "output" else None
        if mosaic is not None:
            entry["file"] = save(mosaic.image, f"layer-{i:02d}-{layer.name}.png", mosaic.zoom)
        layers.append(entry)
    weights = inspector.weight_pictures()
    tiles = weights_mosaic(weights)
    weights_file = save(tiles.image, f"weights-{weights.layer}.png", tiles.zoom)
    mine = seen.saliency
    saliency = {
        "method": mine.method.value,
        "title": mine.method.title,
        "class": mine.target,
        "sum": float(mine.values.sum()),
        "file": save(
            saliency_picture(stages.final, mine.values),
            f"saliency-{mine.method}.png",
            SALIENCY_ZOOM,
        ),
    }
    if seen.random is not None:
        saliency["random_weights_file"] = save(
            saliency_picture(stages.final, seen.random.values),
            f"saliency-{mine.method}-random-weights.png",
            SALIENCY_ZOOM,
        )
        saliency["spearman_with_random_weights"] = spearman(mine.values, seen.random.values)
    softmax = seen.softmax
    summary = {
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
    write_text(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary
