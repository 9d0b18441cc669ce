"""``digitpad explain``'s files: what the view shows, as PNGs and a JSON summary."""

from __future__ import annotations

import json
from pathlib import Path

from digitpad.core.data.preprocess import Stages
from digitpad.core.inference.predictor import ModelSource
from digitpad.core.inside.explanation import explanation_summary, layer_entry, saliency_entry
from digitpad.core.inside.layers import Inspector
from digitpad.core.inside.saliency import Method, look
from digitpad.core.machine.files import write_text
from digitpad.render.inside_pictures import (
    layer_mosaic,
    saliency_picture,
    stage_pictures,
    weights_mosaic,
)
from digitpad.render.pictures import save_image

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

    def save(image, name: str, scale: int = 1) -> str:
        save_image(image, out / name, scale)
        return name

    stage_files = [
        save(image, f"stage-{i}.png")
        for i, (image, _) in enumerate(stage_pictures(stages, STAGE_FILE_SIDE), start=1)
    ]
    layers = []
    for i, layer in enumerate(seen.layers, start=1):
        entry = layer_entry(layer)
        mosaic = layer_mosaic(layer) if layer.kind != "output" else None
        if mosaic is not None:
            entry["file"] = save(mosaic.image, f"layer-{i:02d}-{layer.name}.png", mosaic.zoom)
        layers.append(entry)
    weights = inspector.weight_pictures()
    tiles = weights_mosaic(weights)
    weights_file = save(tiles.image, f"weights-{weights.layer}.png", tiles.zoom)
    mine = seen.saliency
    saliency = {
        **saliency_entry(seen),
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
    summary = explanation_summary(
        source, stages, seen, weights, stage_files, layers, weights_file, saliency
    )
    write_text(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary
