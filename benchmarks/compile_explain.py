"""Which methods torch.compile traces whole: torch._dynamo.explain over one training forward
(views -> loss) of each method on images, printing graphs, graph breaks and the reasons.

    python benchmarks/compile_explain.py [--methods simclr byol barlow vicreg dino mae]
"""

from __future__ import annotations

import argparse

import torch

from sslctl.methods import build_method
from sslctl.modalities.image.modality import ImageModality
from sslctl.recipe import validate

METHODS = {
    "simclr": ({"name": "simclr"}, "resnet18"),
    "byol": ({"name": "byol"}, "resnet18"),
    "barlow": ({"name": "barlow"}, "resnet18"),
    "vicreg": ({"name": "vicreg"}, "resnet18"),
    "dino": ({"name": "dino", "out_dim": 1024, "local_crops": 2}, "resnet18"),
    "mae": ({"name": "mae"}, "vit_tiny_patch16_224"),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    args = ap.parse_args()
    spec = {"modality": "image", "channels": 3, "image_size": 32, "mean": [0.5] * 3}
    spec["std"] = [0.25] * 3
    modality = ImageModality(spec)
    print("| method | encoder | graphs | graph breaks | break reasons |")
    print("|---|---|---|---|---|")
    for name in args.methods:
        method_spec, encoder = METHODS[name]
        encoder_spec = {"name": encoder, **({"kwargs": {"patch_size": 4}} if name == "mae" else {})}
        tree = {"data": {"modality": "image", "train": "builtin:digits"}, "encoder": encoder_spec}
        recipe = validate({**tree, "method": method_spec}, "explain")
        torch.manual_seed(0)
        method = build_method(recipe.method, modality.build_encoder(recipe.encoder)).train()
        views = modality.views(torch.rand(16, 3, 32, 32), method.view_plan)
        torch._dynamo.reset()
        out = torch._dynamo.explain(method)(views)
        reasons = sorted({str(b.reason).splitlines()[0][:90] for b in out.break_reasons})
        print(
            f"| {name} | {encoder} | {out.graph_count} | {out.graph_break_count} | "
            f"{'; '.join(reasons) or '-'} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
