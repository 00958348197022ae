"""A fingerprint of what every shipped recipe trains: for a refactor that must change nothing.

Each recipe under recipes/ trains `--steps` steps on its builtin data (a fresh run folder,
one log line a step). The fingerprint of a recipe is the SHA-256 of its logged losses and
terms (every metrics.jsonl field but the wall-clock throughput) and of every tensor of the
shipped encoder and of the checkpoint's full method state. `sslctl recipe schema` is hashed
too. Two fingerprints taken on one machine are equal exactly when training is bit-identical.

    python benchmarks/behaviour_fingerprint.py --write before.json     # on the old code
    python benchmarks/behaviour_fingerprint.py --compare before.json   # on the new code

Older code is measured by putting its checkout first on PYTHONPATH
(`PYTHONPATH=/path/to/old/checkout python benchmarks/behaviour_fingerprint.py ...`): the
jobs run as `python -m sslctl`, so they import whichever sslctl comes first.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
import yaml
from safetensors.torch import load_file

ROOT = Path(__file__).resolve().parents[1]


def _tensor_digest(state: dict, digest: hashlib._Hash) -> None:
    for key in sorted(state):
        value = state[key]
        digest.update(key.encode())
        if isinstance(value, dict):
            _tensor_digest(value, digest)
        elif isinstance(value, torch.Tensor):
            digest.update(str(value.dtype).encode() + str(tuple(value.shape)).encode())
            digest.update(
                value.detach().reshape(-1).contiguous().cpu().view(torch.uint8).numpy().tobytes()
            )
        else:
            digest.update(repr(value).encode())


def fingerprint_run(run: Path) -> dict[str, str]:
    """The losses, encoder weights and method state of a finished run, each as a SHA-256 (a
    distill run with several students: every student's encoder, by name)."""
    losses = hashlib.sha256()
    for line in (run / "metrics.jsonl").read_text().splitlines():
        record = json.loads(line)
        record.pop("throughput", None)
        losses.update(json.dumps(record, sort_keys=True).encode())
    weights = hashlib.sha256()
    encoders = [run / "encoder.safetensors"]
    if not encoders[0].is_file():
        encoders = sorted(run.glob("*/encoder.safetensors"))
    for file in encoders:
        weights.update(file.parent.name.encode())
        _tensor_digest(load_file(str(file)), weights)
    method = hashlib.sha256()
    state = torch.load(run / "checkpoints" / "last.pt", map_location="cpu", weights_only=True)
    _tensor_digest(state["method"], method)
    return {
        "losses": losses.hexdigest(),
        "encoder": weights.hexdigest(),
        "method": method.hexdigest(),
    }


# A distill recipe's teacher is another run; the fingerprint gives it a random one instead, so
# the distillation path is covered without training a teacher first.
RANDOM_TEACHER = '{"random": {"encoder": {"name": "resnet10t"}, "student_init": "random"}}'


def train(recipe: Path, steps: int, out: Path) -> None:
    method = (yaml.safe_load(recipe.read_text()).get("method") or {}).get("name")
    job = "distill" if method == "distill" else "pretrain"
    command = [sys.executable, "-m", "sslctl", job, str(recipe), "--out", str(out)]
    command += ["--set", f"train.steps={steps}", "--set", "train.log_every=1", "--quiet"]
    if job == "distill":
        command += ["--set", f"teacher={RANDOM_TEACHER}"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{recipe}: exit {done.returncode}: {done.stderr.strip()[-400:]}")


def fingerprint(steps: int, only: str | None) -> dict[str, dict[str, str]]:
    schema = subprocess.run(
        [sys.executable, "-m", "sslctl", "recipe", "schema"], capture_output=True, check=True
    ).stdout
    result = {"schema": {"sha256": hashlib.sha256(schema).hexdigest()}}
    recipes = sorted((ROOT / "recipes").rglob("*.yaml"))
    with tempfile.TemporaryDirectory() as tmp:
        for i, recipe in enumerate(recipes):
            name = str(recipe.relative_to(ROOT))
            if only and only not in name:
                continue
            out = Path(tmp) / f"run{i}"
            train(recipe, steps, out)
            result[name] = fingerprint_run(out)
            print(f"{name}: {result[name]['losses'][:12]}", file=sys.stderr, flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--only", help="only recipes whose path contains this text")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", type=Path, help="write the fingerprint here")
    mode.add_argument("--compare", type=Path, help="compare against this fingerprint")
    args = parser.parse_args()
    now = fingerprint(args.steps, args.only)
    if args.write:
        args.write.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
        return
    before = json.loads(args.compare.read_text())
    differ = [k for k in now if before.get(k) != now[k]]
    for key in differ:
        print(f"differs: {key}: {before.get(key)} -> {now[key]}")
    print(f"{len(now) - len(differ)} of {len(now)} identical")
    raise SystemExit(1 if differ else 0)


if __name__ == "__main__":
    main()
