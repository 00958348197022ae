"""A corpus of hostile inputs across every subcommand and modality, in five classes: code
execution from data, destroyed outputs, unbounded memory, silent garbage and bad run files.

Each case asserts the exit code and (for failures) exactly one stderr line naming the file or
field, that a guarded set of files is byte-identical afterwards, and that no marker file was
planted by a malicious pickle or YAML tag. See conftest.py for the memory limit."""

from __future__ import annotations

import inspect
import json
import os
import pickle
import shutil
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml
from PIL import Image

from tests.conftest import FAST_ENCODER, cli, small_recipe

MARKER_NAME = "pwned"


@dataclass
class Case:
    args: list
    code: int = 2
    needle: str = ""
    guard: list[Path] = field(default_factory=list)
    cwd: Path | None = None
    after: Callable[[], None] | None = None  # a case's own check, once the command has run


class Payload:
    """Unpickling this creates the marker file: what a malicious pickle would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@dataclass
class Lab:
    root: Path
    run: Path  # an image run (random init, one checkpoint), copied fresh for each case
    tones: Path

    @property
    def marker(self) -> Path:
        return self.root / MARKER_NAME

    def recipe(self, tree: dict | None = None, text: str | None = None, name="r.yaml") -> Path:
        path = self.root / name
        path.write_text(text if text is not None else yaml.safe_dump(tree))
        return path

    def image_recipe(self, **sections) -> dict:
        sections["train"] = {"epochs": 0, **sections.get("train", {})}
        return small_recipe(**{"encoder": FAST_ENCODER, **sections})

    def pickle_file(self, name: str) -> Path:
        path = self.root / name
        path.write_bytes(pickle.dumps(Payload(self.marker)))
        return path

    def run_files(self) -> list[Path]:
        return sorted(p for p in self.run.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def base_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile-base")
    recipe = root / "r.yaml"
    recipe.write_text(yaml.safe_dump(small_recipe(encoder=FAST_ENCODER, train={"epochs": 0})))
    cli("pretrain", recipe, "--out", root / "run", "--quiet", check=True)
    tones = root / "tones"
    for label, freq in (("a", 300.0), ("b", 1200.0)):
        (tones / label).mkdir(parents=True)
        for i in range(4):
            t = np.arange(4000) / 8000
            sf.write(tones / label / f"{i}.wav", 0.3 * np.sin(2 * np.pi * freq * t), 8000)
    return root


@pytest.fixture
def lab(base_run, tmp_path):
    shutil.copytree(base_run / "run", tmp_path / "run")
    return Lab(tmp_path, tmp_path / "run", base_run / "tones")


def _other_modality(data: dict, encoder: dict) -> dict:
    tree = small_recipe(encoder=encoder, train={"epochs": 1, "batch_size": 4})
    tree["data"] = data  # not merged with the image defaults
    tree.pop("probe")
    return tree


def audio_tree(train: str, **data) -> dict:
    spec = {"modality": "audio", "train": train, "sample_rate": 8000, "clip_seconds": 0.5}
    spec.update({"n_mels": 32, "win_length": 200, "hop_length": 80, "f_max": 3900, **data})
    return _other_modality(spec, {"name": "audio_cnn", "kwargs": {"channels": 8, "dim": 32}})


def series_tree(train: str) -> dict:
    encoder = {"name": "dilated_cnn", "kwargs": {"hidden": 8, "dim": 16, "depth": 2}}
    return _other_modality({"modality": "timeseries", "train": train}, encoder)


def graph_tree(train: str) -> dict:
    encoder = {"name": "gin", "kwargs": {"hidden": 8, "layers": 2}}
    return _other_modality({"modality": "graph", "train": train}, encoder)


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims width x height 8-bit gray pixels and holds almost none."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def image_folder(lab: Lab, bad: dict[str, bytes | np.ndarray] | None = None, n: int = 15) -> Path:
    folder = lab.root / "imgs"
    rng = np.random.default_rng(0)
    for i in range(n):
        (folder / ("a" if i % 2 else "b")).mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (20, 20), dtype=np.uint8)).save(
            folder / ("a" if i % 2 else "b") / f"{i:02d}.png"
        )
    for name, content in (bad or {}).items():
        path = folder / "a" / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            Image.fromarray(content).save(path)
    return folder


def stream(tree: dict) -> dict:
    tree["data"].update(cache="stream")
    tree["train"].update(num_workers=0, batch_size=4, epochs=1)
    return tree


# ------------------------------------------------------------------ 1. code execution
def yaml_tag(lab):
    text = f"name: !!python/object/apply:os.system ['touch {lab.marker}']\n"
    return Case(["pretrain", lab.recipe(text=text)], needle="invalid YAML")


def yaml_tag_in_set(lab):
    value = f"!!python/object/apply:os.system ['touch {lab.marker}']"
    return Case(
        ["recipe", "validate", lab.recipe(lab.image_recipe()), "--set", f"name={value}"],
        needle="name",
    )


def pickled_checkpoint(lab):
    lab.pickle_file("evil.pt").replace(lab.run / "checkpoints" / "last.pt")
    recipe = lab.recipe(lab.image_recipe(train={"epochs": 1}))
    return Case(["pretrain", recipe, "--out", lab.run, "--resume"], needle="last.pt")


def pickled_weights(lab):
    weights = lab.pickle_file("evil.pt")
    tree = lab.image_recipe(encoder={**FAST_ENCODER, "weights": str(weights)})
    return Case(["pretrain", lab.recipe(tree), "--out", lab.root / "o"], needle="evil.pt")


def pickled_graph_pt(lab):
    path = lab.pickle_file("graphs.pt")
    return Case(
        ["pretrain", lab.recipe(graph_tree(str(path))), "--out", lab.root / "o"], needle="graphs.pt"
    )


def object_npy_series(lab):
    path = lab.root / "x.npy"
    np.save(path, np.array([Payload(lab.marker)], dtype=object), allow_pickle=True)
    return Case(
        ["pretrain", lab.recipe(series_tree(str(path))), "--out", lab.root / "o"], needle="x.npy"
    )


def object_npz_images(lab):
    path = lab.root / "x.npz"
    np.savez(path, x=np.array([Payload(lab.marker)], dtype=object))
    tree = lab.image_recipe(data={"train": str(path)})
    return Case(["pretrain", lab.recipe(tree), "--out", lab.root / "o"], needle="x.npz")


def object_npz_audio(lab):
    path = lab.root / "a.npz"
    np.savez(path, x=np.array([Payload(lab.marker)], dtype=object))
    return Case(
        ["pretrain", lab.recipe(audio_tree(str(path))), "--out", lab.root / "o"], needle="a.npz"
    )


def object_npy_coreset(lab):
    path = lab.root / "emb.npy"
    np.save(path, np.array([Payload(lab.marker)], dtype=object), allow_pickle=True)
    return Case(["coreset", path, "--budget", "1"], needle="emb.npy")


def pyg_processed_pickles(lab):
    from tests.modalities.tu_folder import write_tu_folder

    tu = write_tu_folder(lab.root, n_graphs=40)
    raw = lab.root / "pyg" / "RINGS" / "raw"
    raw.parent.mkdir(parents=True)
    tu.rename(raw)
    (raw.parent / "processed").mkdir()
    for name in ("pre_transform.pt", "pre_filter.pt", "data.pt"):
        lab.pickle_file(name).replace(raw.parent / "processed" / name)
    tree = graph_tree(f"pyg:TUDataset:{lab.root / 'pyg'}:RINGS")
    tree["train"]["epochs"] = 0
    return Case(["pretrain", lab.recipe(tree), "--out", lab.root / "o", "--quiet"], code=0)


def pyg_other_class(lab):
    tree = graph_tree(f"pyg:Planetoid:{lab.root}:Cora")
    return Case(
        ["pretrain", lab.recipe(tree), "--out", lab.root / "o"], needle="pyg:Planetoid is not read"
    )


def pyg_module_attribute(lab):
    tree = graph_tree(f"pyg:__builtins__:{lab.root}:x")
    return Case(["pretrain", lab.recipe(tree), "--out", lab.root / "o"], needle="is not read")


def timm_checkpoint_path(lab):
    weights = lab.pickle_file("evil.pth")
    tree = lab.image_recipe(encoder={**FAST_ENCODER, "kwargs": {"checkpoint_path": str(weights)}})
    return Case(
        ["pretrain", lab.recipe(tree), "--out", lab.root / "o"], needle="kwargs.checkpoint_path"
    )


def timm_pretrained(lab):
    tree = lab.image_recipe(encoder={**FAST_ENCODER, "kwargs": {"pretrained": True}})
    return Case(["pretrain", lab.recipe(tree), "--out", lab.root / "o"], needle="kwargs.pretrained")


def timm_cfg_overlay(lab):
    overlay = {"pretrained_cfg_overlay": {"file": str(lab.pickle_file("evil.bin"))}}
    tree = lab.image_recipe(encoder={**FAST_ENCODER, "kwargs": overlay})
    return Case(
        ["pretrain", lab.recipe(tree), "--out", lab.root / "o"], needle="pretrained_cfg_overlay"
    )


def shard_url_outside(lab):
    folder = lab.root / "shards"
    folder.mkdir()
    index = {
        "__kind__": "wids-shard-index-v1",
        "wids_version": 1,
        "shardlist": [{"url": "../../etc/passwd", "nsamples": 1}],
    }
    (folder / "index.json").write_text(json.dumps(index))
    tree = lab.image_recipe(data={"train": str(folder)})
    return Case(["pretrain", lab.recipe(tree), "--out", lab.root / "o"], needle="outside")


def builtin_by_attribute(lab):
    tree = lab.image_recipe(data={"train": "builtin:__import__"})
    return Case(["pretrain", lab.recipe(tree), "--out", lab.root / "o"], needle="unknown builtin")


# ------------------------------------------------------------------ 2. nothing lost
def export_over_weights(lab):
    return Case(
        ["export", lab.run, "--out", lab.run / "encoder.safetensors"],
        needle="encoder.safetensors",
        guard=lab.run_files(),
    )


def export_over_info(lab):
    return Case(
        ["export", lab.run, "--out", lab.run / "encoder.json"],
        needle="encoder.json",
        guard=lab.run_files(),
    )


def export_over_recipe(lab):
    return Case(
        ["export", lab.run, "--out", lab.run / "recipe.yaml"],
        needle="recipe.yaml",
        guard=lab.run_files(),
    )


def export_over_checkpoint(lab):
    return Case(
        ["export", lab.run, "--out", lab.run / "checkpoints" / "last.pt"],
        needle="checkpoints",
        guard=lab.run_files(),
    )


def export_safetensors_over_info(lab):
    args = ["export", lab.run, "--format", "safetensors", "--out", lab.run / "encoder.json"]
    return Case(args, needle="encoder.json", guard=lab.run_files())


def export_over_other_run(lab):
    other = lab.root / "other"
    shutil.copytree(lab.run, other)
    files = sorted(p for p in other.rglob("*") if p.is_file())
    return Case(
        ["export", lab.run, "--out", other / "encoder.safetensors"], needle="other", guard=files
    )


def embed_over_weights(lab):
    args = ["embed", lab.run, "--data", "builtin:digits:test", "--out", lab.run / "metrics.jsonl"]
    return Case(args, needle="metrics.jsonl", guard=lab.run_files())


def embed_over_its_data(lab):
    data = lab.root / "x.npz"
    np.savez(data, x=np.zeros((4, 8, 8), np.uint8))
    return Case(["embed", lab.run, "--data", data, "--out", data], needle="reads", guard=[data])


def coreset_over_recipe(lab):
    args = [
        "coreset",
        lab.run,
        "--data",
        "builtin:digits:test",
        "--budget",
        "2",
        "--out",
        lab.run / "recipe.yaml",
    ]
    return Case(args, needle="recipe.yaml", guard=lab.run_files())


def coreset_over_its_embeddings(lab):
    emb = lab.root / "e.npy"
    np.save(emb, np.random.rand(10, 4).astype(np.float32))
    return Case(["coreset", emb, "--budget", "2", "--out", emb], needle="reads", guard=[emb])


def pretrain_out_dot(lab):
    recipe = lab.recipe(lab.image_recipe(), name="recipe.yaml")
    return Case(
        ["pretrain", "recipe.yaml", "--out", "."],
        needle="not an empty folder",
        guard=[recipe],
        cwd=lab.root,
    )


def pretrain_out_user_folder(lab):
    folder = lab.root / "notes"
    folder.mkdir()
    (folder / "todo.txt").write_text("mine")
    recipe = lab.recipe(lab.image_recipe())
    return Case(
        ["pretrain", recipe, "--out", folder],
        needle="not an empty folder",
        guard=[folder / "todo.txt"],
    )


def pretrain_over_finished_run(lab):
    shutil.rmtree(lab.run / "checkpoints")
    recipe = lab.recipe(lab.image_recipe())
    return Case(
        ["pretrain", recipe, "--out", lab.run], needle="already holds a run", guard=lab.run_files()
    )


def pretrain_over_run_without_resume(lab):
    recipe = lab.recipe(lab.image_recipe())
    return Case(["pretrain", recipe, "--out", lab.run], needle="--resume", guard=lab.run_files())


def failed_resume_keeps_recipe(lab):
    recipe = lab.recipe(lab.image_recipe(train={"epochs": 1}))
    args = ["pretrain", recipe, "--out", lab.run, "--resume", "--set", "encoder.name=resnet18"]
    return Case(args, needle="last.pt", guard=lab.run_files())


def resume_with_empty_train(lab):
    recipe = lab.recipe(lab.image_recipe(train={"epochs": 1}))
    args = ["pretrain", recipe, "--out", lab.run, "--resume", "--set", "data.train="]
    return Case(args, needle="data.train", guard=lab.run_files())


def name_escapes_runs(lab):
    tree = lab.image_recipe()
    tree["name"] = "../../escaped"
    return Case(["pretrain", lab.recipe(tree)], needle="name", cwd=lab.root)


def name_empty(lab):
    tree = lab.image_recipe()
    tree["name"] = ""
    return Case(["pretrain", lab.recipe(tree)], needle="name", cwd=lab.root)


def name_dot(lab):
    tree = lab.image_recipe()
    tree["name"] = "."
    return Case(["pretrain", lab.recipe(tree)], needle="name", cwd=lab.root)


def empty_train(lab):
    tree = lab.image_recipe(data={"train": ""})
    return Case(
        ["pretrain", lab.recipe(tree), "--out", lab.root / "o"], needle="data.train", cwd=lab.root
    )


def empty_probe_train(lab):
    tree = lab.image_recipe(probe={"train": " ", "test": "builtin:digits:test"})
    return Case(["recipe", "validate", lab.recipe(tree)], needle="probe.train")


def empty_teacher(lab):
    tree = lab.image_recipe(method={"name": "distill"}, teacher={"run": ""})
    return Case(["distill", lab.recipe(tree), "--out", lab.root / "o"], needle="teacher.run")


def distill_teacher_not_a_run(lab):
    tree = lab.image_recipe(method={"name": "distill"}, teacher={"run": str(lab.root)})
    return Case(["distill", lab.recipe(tree), "--out", lab.root / "o"], needle="not a finished run")


def pack_into_user_folder(lab):
    folder = lab.root / "mine"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    return Case(
        ["pack", "builtin:digits:test", folder],
        needle="not an unfinished pack",
        guard=[folder / "keep.txt"],
    )


def pack_onto_source(lab):
    folder = image_folder(lab)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return Case(["pack", folder, folder], needle="source itself", guard=files)


def torn_metrics_line(lab):
    recipe = lab.recipe(lab.image_recipe(train={"epochs": 1, "log_every": 2}))
    cli(
        "pretrain",
        recipe,
        "--out",
        lab.root / "t",
        "--quiet",
        "--set",
        "train.checkpoint_every=4",
        "--set",
        "train.epochs=1",
        check=True,
    )
    ckpt = lab.root / "t" / "checkpoints" / "last.pt"
    import torch

    state = torch.load(ckpt, weights_only=True)
    state["step"] = 4
    torch.save(state, ckpt)
    with open(lab.root / "t" / "metrics.jsonl", "a") as fh:
        fh.write('{"step": 30, "lo')
    (lab.root / "t" / "encoder.safetensors").unlink()
    return Case(
        ["pretrain", recipe, "--out", lab.root / "t", "--resume", "--quiet"],
        code=0,
        needle="dropped 1 unreadable line",
    )


def full_disk(lab, monkeypatch):
    import errno

    import torch

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "x.tmp")

    monkeypatch.setattr(torch, "save", no_space)
    recipe = lab.recipe(lab.image_recipe())

    def nothing_half_written():
        assert not [p for p in (lab.root / "o").rglob("*") if p.name.endswith(".tmp")]
        assert not (lab.root / "o" / "checkpoints" / "last.pt").exists()

    args = ["pretrain", recipe, "--out", lab.root / "o", "--quiet"]
    return Case(args, code=1, needle="no space left on device", after=nothing_half_written)


# ------------------------------------------------------------------ 3. memory bounded
def yaml_alias_bomb(lab):
    """Nine levels of ten aliases each: 10**9 values from a few hundred bytes."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    lines.append("name: *a8")
    return Case(["recipe", "show", lab.recipe(text="\n".join(lines))], needle="expands to over")


def recipe_too_big(lab):
    return Case(["recipe", "validate", lab.recipe(text="# " + "x" * (2 << 20))], needle="over 1 MB")


def huge_sample_rate(lab):
    return Case(
        [
            "pretrain",
            lab.recipe(audio_tree(str(lab.tones), sample_rate=1e11)),
            "--out",
            lab.root / "o",
        ],
        needle="data.sample_rate",
    )


def huge_image_size(lab):
    tree = lab.image_recipe(data={"image_size": 10**9})
    return Case(["pretrain", lab.recipe(tree), "--out", lab.root / "o"], needle="data.image_size")


def huge_batch(lab):
    tree = lab.image_recipe(train={"batch_size": 10**12})
    return Case(["pretrain", lab.recipe(tree), "--out", lab.root / "o"], needle="train.batch_size")


def huge_n_mels(lab):
    return Case(
        ["pretrain", lab.recipe(audio_tree(str(lab.tones), n_mels=10**9)), "--out", lab.root / "o"],
        needle="data.n_mels",
    )


def huge_clip(lab):
    return Case(
        [
            "pretrain",
            lab.recipe(audio_tree(str(lab.tones), clip_seconds=1e9)),
            "--out",
            lab.root / "o",
        ],
        needle="data.clip_seconds",
    )


def huge_proj(lab):
    tree = lab.image_recipe(method={"name": "simclr", "proj_hidden": 10**9})
    return Case(
        ["pretrain", lab.recipe(tree), "--out", lab.root / "o"], needle="method.proj_hidden"
    )


def decompression_bomb(lab):
    folder = image_folder(lab, {"bomb.png": png_header(20000, 20000)})
    tree = stream(lab.image_recipe(data={"train": str(folder)}))
    return Case(
        ["pretrain", lab.recipe(tree), "--out", lab.root / "o", "--quiet"], needle="bomb.png"
    )


def decompression_bomb_memory_path(lab):
    folder = image_folder(lab, {"bomb.png": png_header(30000, 30000)})
    tree = lab.image_recipe(data={"train": str(folder), "cache": "memory"})
    return Case(
        ["pretrain", lab.recipe(tree), "--out", lab.root / "o", "--quiet"],
        needle="max_image_pixels",
    )


def hour_long_flac(lab):
    folder = lab.root / "long"
    shutil.copytree(lab.tones, folder)
    t = np.arange(3600 * 8000, dtype=np.float32) / 8000
    sf.write(
        folder / "a" / "hour.flac", (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 8000
    )
    del t
    tree = audio_tree(str(folder), cache="memory")
    return Case(["pretrain", lab.recipe(tree), "--out", lab.root / "o", "--quiet"], code=0)


def npy_header_claims_huge(lab):
    path = lab.root / "x.npy"
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (100000000, 100000), }"
    header += " " * (118 - len(header)) + "\n"
    path.write_bytes(
        b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + b"\0" * 64
    )
    return Case(
        ["pretrain", lab.recipe(series_tree(str(path))), "--out", lab.root / "o"], needle="x.npy"
    )


def tu_node_id_huge(lab):
    from tests.modalities.tu_folder import write_tu_folder

    folder = write_tu_folder(lab.root / "tu", n_graphs=40)
    a = folder / "RINGS_A.txt"
    a.write_text(a.read_text() + "1, 999999999999\n")
    return Case(
        ["pretrain", lab.recipe(graph_tree(str(folder))), "--out", lab.root / "o"],
        needle="RINGS_A.txt",
    )


def shard_claims_more(lab):
    folder = lab.root / "sh"
    cli("pack", image_folder(lab), folder, "--quiet", check=True)
    index = json.loads((folder / "index.json").read_text())
    index["shardlist"][0]["nsamples"] = 10**12
    (folder / "index.json").write_text(json.dumps(index))
    tree = stream(lab.image_recipe(data={"train": str(folder)}))
    return Case(["pretrain", lab.recipe(tree), "--out", lab.root / "o"], needle="shard-000000.tar")


# ------------------------------------------------------------------ 4. silent garbage
def float_tiff_nan(lab):
    img = np.full((20, 20), 0.5, np.float32)
    img[3, 3] = np.nan
    folder = image_folder(lab)
    Image.fromarray(img, "F").save(folder / "a" / "nan.tif")
    tree = stream(lab.image_recipe(data={"train": str(folder)}))
    return Case(
        ["pretrain", lab.recipe(tree), "--out", lab.root / "o", "--quiet"], needle="nan.tif"
    )


def float_tiff_out_of_range(lab):
    folder = image_folder(lab)
    Image.fromarray(np.full((20, 20), 300.0, np.float32), "F").save(folder / "a" / "big.tif")
    tree = stream(lab.image_recipe(data={"train": str(folder)}))
    return Case(
        ["pretrain", lab.recipe(tree), "--out", lab.root / "o", "--quiet"], needle="big.tif"
    )


def npz_images_nan(lab):
    path = lab.root / "x.npz"
    x = np.random.rand(8, 8, 8).astype(np.float32)
    x[2, 2, 2] = np.nan
    np.savez(path, x=x)
    tree = lab.image_recipe(data={"train": str(path)})
    return Case(["pretrain", lab.recipe(tree), "--out", lab.root / "o"], needle="x.npz")


def npz_audio_inf(lab):
    path = lab.root / "a.npz"
    x = np.zeros((8, 4000), np.float32)
    x[1, 10] = np.inf
    np.savez(path, x=x)
    return Case(
        ["pretrain", lab.recipe(audio_tree(str(path))), "--out", lab.root / "o"], needle="a.npz"
    )


def npz_audio_nan_inside(lab):
    path = lab.root / "a.npz"
    x = np.zeros((8, 4000), np.float32)
    x[1, 10] = np.nan
    np.savez(path, x=x)
    return Case(
        ["pretrain", lab.recipe(audio_tree(str(path))), "--out", lab.root / "o"],
        needle="NaN inside",
    )


def wav_with_nan(lab):
    folder = lab.root / "nanwav"
    shutil.copytree(lab.tones, folder)
    wave = np.zeros(4000, np.float32)
    wave[100] = np.nan
    sf.write(folder / "a" / "nan.wav", wave, 8000, subtype="FLOAT")
    return Case(
        ["pretrain", lab.recipe(audio_tree(str(folder))), "--out", lab.root / "o", "--quiet"],
        needle="nan.wav",
    )


def graph_features_nan(lab):
    path = lab.root / "g.npz"
    x = np.random.rand(6, 2).astype(np.float32)
    x[0, 0] = np.nan
    np.savez(
        path,
        x=x,
        edge_index=np.array([[0, 1, 2], [1, 2, 3]]),
        ptr=np.array([0, 3, 6]),
        y=np.array([0, 1]),
    )
    return Case(
        ["pretrain", lab.recipe(graph_tree(str(path))), "--out", lab.root / "o"], needle="g.npz"
    )


def graph_edge_attr_inf(lab):
    path = lab.root / "g.npz"
    np.savez(
        path,
        x=np.random.rand(6, 2).astype(np.float32),
        edge_index=np.array([[0, 1, 3], [1, 2, 4]]),
        edge_attr=np.array([[1.0], [np.inf], [1.0]]),
        ptr=np.array([0, 3, 6]),
        y=np.array([0, 1]),
    )
    return Case(
        ["pretrain", lab.recipe(graph_tree(str(path))), "--out", lab.root / "o"], needle="g.npz"
    )


def series_inf(lab):
    path = lab.root / "s.npy"
    x = np.random.rand(8, 1, 20).astype(np.float32)
    x[0, 0, 3] = np.inf
    np.save(path, x)
    return Case(
        ["pretrain", lab.recipe(series_tree(str(path))), "--out", lab.root / "o"], needle="s.npy"
    )


def lr_inf(lab):
    tree = lab.image_recipe(optim={"lr": float("inf")})
    return Case(["pretrain", lab.recipe(tree), "--out", lab.root / "o"], needle="optim.lr")


def lr_nan(lab):
    return Case(
        [
            "pretrain",
            lab.recipe(text=yaml.safe_dump(lab.image_recipe()) + ""),
            "--out",
            lab.root / "o",
            "--set",
            "optim.lr=.nan",
        ],
        needle="optim.lr",
    )


def temperature_nan(lab):
    return Case(
        ["recipe", "validate", lab.recipe(lab.image_recipe()), "--set", "method.temperature=.nan"],
        needle="method.temperature",
    )


def probe_one_class(lab):
    path = lab.root / "one.npz"
    np.savez(path, x=np.random.rand(20, 8, 8).astype(np.float32), y=np.zeros(20, np.int64))
    return Case(["probe", lab.run, "--data", path], needle="two classes")


def crop_scale_reversed(lab):
    tree = lab.image_recipe(data={"augment": {"crop_scale": [0.9, 0.1]}})
    return Case(["recipe", "validate", lab.recipe(tree)], needle="crop_scale")


def crop_scale_zero(lab):
    tree = lab.image_recipe(data={"augment": {"crop_scale": [0.0, 0.1]}})
    return Case(["recipe", "validate", lab.recipe(tree)], needle="crop_scale")


def seed_negative(lab):
    return Case(
        ["recipe", "validate", lab.recipe(lab.image_recipe()), "--set", "seed=-1"], needle="seed"
    )


def betas_out_of_range(lab):
    return Case(
        ["recipe", "validate", lab.recipe(lab.image_recipe()), "--set", "optim.betas=[0.9, 2]"],
        needle="optim.betas",
    )


# ------------------------------------------------------------------ 5. bad run files
def truncated_weights(lab):
    path = lab.run / "encoder.safetensors"
    path.write_bytes(path.read_bytes()[:1000])
    return Case(["probe", lab.run], needle="encoder.safetensors")


def random_weights_bytes(lab):
    (lab.run / "encoder.safetensors").write_bytes(os.urandom(5000))
    return Case(["export", lab.run], needle="encoder.safetensors")


def malformed_info(lab):
    (lab.run / "encoder.json").write_text("{not json")
    return Case(
        ["embed", lab.run, "--data", "builtin:digits:test", "--out", lab.root / "e.npy"],
        needle="encoder.json",
    )


def info_wrong_modality(lab):
    info = json.loads((lab.run / "encoder.json").read_text())
    info["modality"] = "graph"
    (lab.run / "encoder.json").write_text(json.dumps(info))
    return Case(["probe", lab.run], needle="encoder.json")


def info_huge_input(lab):
    info = json.loads((lab.run / "encoder.json").read_text())
    info["input"]["image_size"] = 10**9
    (lab.run / "encoder.json").write_text(json.dumps(info))
    return Case(["export", lab.run], needle="image_size")


def info_without_input(lab):
    info = json.loads((lab.run / "encoder.json").read_text())
    del info["input"]
    (lab.run / "encoder.json").write_text(json.dumps(info))
    return Case(
        ["coreset", lab.run, "--data", "builtin:digits:test", "--budget", "2"],
        needle="encoder.json",
    )


def truncated_checkpoint(lab):
    ckpt = lab.run / "checkpoints" / "last.pt"
    ckpt.write_bytes(ckpt.read_bytes()[:2000])
    recipe = lab.recipe(lab.image_recipe(train={"epochs": 1}))
    return Case(["pretrain", recipe, "--out", lab.run, "--resume"], needle="last.pt")


def checkpoint_not_a_dict(lab):
    import torch

    torch.save([1, 2, 3], lab.run / "checkpoints" / "last.pt")
    recipe = lab.recipe(lab.image_recipe(train={"epochs": 1}))
    return Case(
        ["pretrain", recipe, "--out", lab.run, "--resume"], needle="not an sslctl checkpoint"
    )


def run_recipe_corrupt(lab):
    (lab.run / "recipe.yaml").write_text("data: [unclosed")
    return Case(["probe", lab.run], needle="recipe.yaml")


def run_recipe_missing(lab):
    (lab.run / "recipe.yaml").unlink()
    return Case(["export", lab.run], needle="recipe.yaml missing")


def weights_of_other_architecture(lab):
    recipe = lab.run / "recipe.yaml"
    recipe.write_text(recipe.read_text().replace("resnet10t", "resnet18"))
    return Case(["probe", lab.run], needle="does not fit")


def corrupt_first_image(lab):
    folder = image_folder(lab, {"00-corrupt.png": b"\x89PNG\r\n\x1a\n garbage"})
    tree = stream(lab.image_recipe(data={"train": str(folder)}))
    return Case(
        ["pretrain", lab.recipe(tree), "--out", lab.root / "o", "--quiet"], needle="00-corrupt.png"
    )


def corrupt_first_image_memory(lab):
    folder = image_folder(lab, {"00-corrupt.png": b"\x89PNG\r\n\x1a\n garbage"})
    tree = lab.image_recipe(data={"train": str(folder), "cache": "memory"})
    return Case(
        ["pretrain", lab.recipe(tree), "--out", lab.root / "o", "--quiet"], needle="00-corrupt.png"
    )


def list_file_missing_paths(lab):
    folder = image_folder(lab)
    lst = lab.root / "list.txt"
    lst.write_text("".join(f"{p}\n" for p in sorted(folder.rglob("*.png"))) + "imgs/gone.png\n")
    tree = lab.image_recipe(data={"train": str(lst), "cache": "memory"})
    return Case(
        ["pretrain", lab.recipe(tree), "--out", lab.root / "o", "--quiet"], needle="gone.png"
    )


def truncated_shard(lab):
    folder = lab.root / "sh"
    cli("pack", image_folder(lab), folder, "--quiet", "--shard-size", "8", check=True)
    shard = folder / "shard-000001.tar"
    shard.write_bytes(shard.read_bytes()[:1500])
    tree = stream(lab.image_recipe(data={"train": str(folder)}))
    return Case(["pretrain", lab.recipe(tree), "--out", lab.root / "o"], needle="shard-000001.tar")


def shard_index_garbage(lab):
    folder = lab.root / "sh"
    folder.mkdir()
    (folder / "index.json").write_text("[1, 2")
    return Case(["probe", lab.run, "--data", folder], needle="index.json")


CASES: dict[str, Callable] = {
    name: fn
    for name, fn in list(globals().items())
    if inspect.isfunction(fn)
    and fn.__module__ == __name__
    and fn.__code__.co_varnames[:1] == ("lab",)
    and name not in ("image_folder", "stream", "run_case")
}


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 60, len(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_input(name, lab, monkeypatch):
    run_case(CASES[name], lab, monkeypatch)


def run_case(builder: Callable, lab: Lab, monkeypatch) -> None:
    """Build a case, run it and check what every case promises (see the module docstring)."""
    case = builder(lab, monkeypatch) if builder.__code__.co_argcount == 2 else builder(lab)
    before = {p: p.read_bytes() for p in case.guard}
    if case.cwd is not None:
        monkeypatch.chdir(case.cwd)
    proc = cli(*case.args)
    assert proc.returncode == case.code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert "Traceback" not in proc.stderr
    if case.code != 0:
        assert len(lines) == 1 and case.needle in lines[0], proc.stderr
    elif case.needle:
        assert any(case.needle in line for line in lines), proc.stderr
    for path, content in before.items():
        assert path.read_bytes() == content, f"{path} changed"
    assert not lab.marker.exists(), "a planted payload ran"
    assert not (lab.root.parent / "escaped").exists()
    if case.after is not None:
        case.after()


def test_every_number_in_a_recipe_is_bounded():
    """`sample_rate: 1e11` once allocated 13 GB: every numeric recipe field has a maximum."""
    from sslctl.recipe import Recipe

    unbounded = []

    def walk(node, path):
        if isinstance(node, dict):
            numeric = node.get("type") in ("number", "integer") and "enum" not in node
            if numeric and "maximum" not in node and "exclusiveMaximum" not in node:
                unbounded.append(path)
            for key, value in node.items():
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")

    walk(Recipe.model_json_schema(), "recipe")
    assert not unbounded, unbounded


@pytest.mark.parametrize(
    ("mode", "array"),
    [
        ("I;16", (np.arange(400, dtype=np.uint16).reshape(20, 20) * 160).astype(np.uint16)),
        ("F", (np.arange(400, dtype=np.float32).reshape(20, 20) / 400)),
    ],
)
def test_high_bit_depth_images_are_rescaled_not_clipped(tmp_path, mode, array):
    from sslctl.modalities.image.decode import ImageEvalDecoder

    path = tmp_path / "deep.tif"
    Image.fromarray(array).save(path)  # uint16 -> I;16, float32 -> F
    with open(path, "rb") as fh:
        (decoded,) = ImageEvalDecoder("L", 20)(fh, None)
    expected = array / 257 if mode == "I;16" else array * 255
    assert abs(float(decoded.mean()) - float(expected.mean())) < 2
    assert decoded.min() < 10 and decoded.max() > 240  # the full range, neither white nor black
