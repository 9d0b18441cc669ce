"""digitpad explain: a look inside a network reading a picture, as files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from digitpad.cli.common import fail, open_store, qt_offscreen_app
from digitpad.core.inference.weights import FALLBACK_ORDER
from digitpad.core.inside.saliency import Method


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's command(s), each with its flags and handler."""
    explain = sub.add_parser(
        "explain",
        help="look inside a network reading a picture: PNGs of each stage, layer, weights "
        "and saliency, and a JSON summary",
    )
    explain.add_argument("image", metavar="IMAGE.png", help="a picture of one digit")
    explain.add_argument(
        "--model",
        default="best",
        metavar="NAME|run:N",
        help=f"{', '.join(FALLBACK_ORDER)} (best is the default) or run:N",
    )
    explain.add_argument(
        "--method",
        choices=[m.value for m in Method],
        default=Method.GRADIENT_X_INPUT.value,
        help="saliency method (default: gradient, i.e. gradient x input)",
    )
    explain.add_argument(
        "--sanity", action="store_true", help="also the map of random weights, and how alike"
    )
    explain.add_argument("--out", required=True, metavar="DIR", help="folder for the files")
    explain.add_argument("--json", action="store_true", help="print the summary as JSON")
    explain.set_defaults(handler=cmd_explain)


def cmd_explain(args: argparse.Namespace) -> int:
    from digitpad.core.data.preprocess import image_to_ink, mnist_stages
    from digitpad.core.inference.model_ref import ModelRefError, resolve_model
    from digitpad.core.inference.predictor import Predictor, WeightsError
    from digitpad.core.inside.layers import Inspector
    from digitpad.core.machine.files import write_failure
    from digitpad.render.explain_files import write_explanation
    from digitpad.render.pictures import read_grey

    app = qt_offscreen_app()  # noqa: F841  (pictures only, no window)
    try:
        stages = mnist_stages(image_to_ink(read_grey(args.image)))
    except ValueError as exc:
        fail(f"digitpad explain: error: {exc}")
    if stages is None:
        fail(f"digitpad explain: error: {args.image} holds no ink: give a picture of one digit")
    try:
        source = resolve_model(args.model, open_store(reading=True))
        predictor = Predictor(source, engine="keras")
        inspector = Inspector.for_spec(source.spec, predictor.keras_model())
    except (ModelRefError, WeightsError) as exc:
        fail(f"digitpad explain: error: {exc}")
    method = Method(args.method)
    if method is Method.GRAD_CAM and inspector.last_conv is None:
        fail(
            f"digitpad explain: error: Grad-CAM needs a convolution layer and {source.name} "
            "has none; use --method ig"
        )
    out = Path(args.out)
    try:
        summary = write_explanation(inspector, source, stages, method, out, args.sanity)
    except OSError as exc:
        fail(f"digitpad explain: error: {write_failure(out, exc)}")
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        p = summary["probabilities"][summary["prediction"]]
        print(f"{source.name} reads a {summary['prediction']} ({p:.1%}) in {args.image}")
        print(f"{len(summary['files'])} pictures and summary.json in {out}")
    return 0
