"""Hostile input on the streaming path, labels and concurrency. Each case runs the
real CLI and asserts its exit code, exactly one stderr line naming the file or field on
failure, and (where a case says so) what was written. The classes: FIFOs, /dev/zero, odd
sample rates, NUL bytes, overflowing labels, truncated caches, decode skips at batch edges,
one-line errors, outputs under files; label mapping, a second writer, SIGTERM and file
modes have tests of their own below."""

# ruff: noqa: F811 - every case takes the `lab` fixture imported below by its own name
from __future__ import annotations

import io
import json
import os
import signal
import stat
import struct
import subprocess
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml
from PIL import Image
from safetensors.torch import load_file

from tests.conftest import FAST_ENCODER, cli, process_command
from tests.hostile.test_hostile import (  # noqa: F401 - base_run is the fixture lab uses
    Case,
    Lab,
    audio_tree,
    base_run,
    graph_tree,
    image_folder,
    lab,
    run_case,
    stream,
)

CORRUPT = b"\x89PNG\r\n\x1a\n garbage"


def fifo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


def embed_args(lab: Lab, data: Path | str) -> list:
    return ["embed", lab.run, "--data", data, "--out", lab.root / "e.npy"]


def skip_run(lab: Lab, folder: Path) -> Path:
    """A random-init run on `folder` whose recipe skips undecodable files."""
    tree = stream(lab.image_recipe(data={"train": str(folder), "on_decode_error": "skip"}))
    tree["train"]["epochs"] = 0
    cli("pretrain", lab.recipe(tree, name="skip.yaml"), "--out", lab.root / "skip", check=True)
    return lab.root / "skip"


# ------------------------------------------------------------------ FIFOs
def fifo_in_list(lab):
    folder = image_folder(lab)
    listing = lab.root / "list.txt"
    pipe = fifo(lab.root / "pipe.png")
    listing.write_text(f"{next(folder.rglob('*.png'))}\n{pipe}\n")
    return Case(embed_args(lab, listing), needle="pipe.png: is a FIFO")


def fifo_in_folder_pack(lab):
    folder = image_folder(lab)
    fifo(folder / "a" / "zz.png")
    return Case(["pack", folder, lab.root / "p", "--quiet"], needle="zz.png: is a FIFO")


def fifo_as_list_file(lab):
    return Case(
        embed_args(lab, fifo(lab.root / "list.txt")), needle="list.txt: list file is a FIFO"
    )


def fifo_as_npz(lab):
    return Case(embed_args(lab, fifo(lab.root / "x.npz")), needle="x.npz")


def fifo_as_recipe(lab):
    return Case(["recipe", "validate", fifo(lab.root / "r.yaml")], needle="r.yaml")


def fifo_in_streamed_training(lab):
    folder = image_folder(lab)
    fifo(folder / "b" / "pipe.png")
    tree = stream(lab.image_recipe(data={"train": str(folder)}))
    args = ["pretrain", lab.recipe(tree), "--out", lab.root / "o", "--quiet"]
    return Case(args, needle="is a FIFO")


# ------------------------------------------------------------------ /dev/zero
def dev_zero_in_list_pack(lab):
    listing = lab.root / "list.txt"
    listing.write_text("/dev/zero\n")
    args = ["pack", listing, lab.root / "p", "--modality", "image", "--quiet"]
    return Case(args, needle="/dev/zero: is a character device")


def dev_zero_linked_in_folder(lab):
    folder = image_folder(lab)
    (folder / "a" / "zero.png").symlink_to("/dev/zero")
    return Case(embed_args(lab, folder), needle="zero.png: is a character device")


def dev_zero_as_data(lab):
    return Case(["probe", lab.run, "--data", "/dev/zero"], needle="/dev/zero")


def dev_zero_as_weights(lab):
    tree = lab.image_recipe(encoder={**FAST_ENCODER, "weights": "/dev/zero"})
    return Case(["pretrain", lab.recipe(tree), "--out", lab.root / "o"], needle="/dev/zero")


# ------------------------------------------------------------------ odd sample rates
def _tone_folder(lab: Lab, rate: int, header_rate: int | None = None) -> Path:
    folder = lab.root / "tones"
    for label, freq in (("a", 300.0), ("b", 1200.0)):
        (folder / label).mkdir(parents=True, exist_ok=True)
        for i in range(4):
            t = np.arange(4000) / 8000
            sf.write(folder / label / f"{i}.wav", 0.3 * np.sin(2 * np.pi * freq * t), 8000)
    odd = folder / "a" / "odd.wav"
    sf.write(odd, np.sin(np.arange(rate // 2) / 7).astype(np.float32) * 0.3, rate)
    if header_rate is not None:  # the fmt chunk's rate field, at byte 24 of a plain WAV
        data = bytearray(odd.read_bytes())
        data[24:28] = struct.pack("<I", header_rate)
        odd.write_bytes(bytes(data))
    return folder


def wav_at_44101_hz(lab):
    tree = audio_tree(str(_tone_folder(lab, 44101)), cache="stream")
    return Case(["pretrain", lab.recipe(tree), "--out", lab.root / "o", "--quiet"], code=0)


def wav_header_claims_a_gigahertz(lab):
    tree = audio_tree(str(_tone_folder(lab, 8000, header_rate=999_999_999)), cache="stream")
    return Case(
        ["pretrain", lab.recipe(tree), "--out", lab.root / "o", "--quiet"],
        needle="odd.wav: sample rate",
    )


def npz_audio_at_44101_hz(lab):
    path = lab.root / "a.npz"
    np.savez(path, x=np.random.rand(8, 22050).astype(np.float32) - 0.5, sample_rate=44101)
    tree = audio_tree(str(path))
    return Case(["pretrain", lab.recipe(tree), "--out", lab.root / "o", "--quiet"], code=0)


def npz_audio_rate_huge(lab):
    path = lab.root / "a.npz"
    np.savez(path, x=np.random.rand(8, 4000).astype(np.float32) - 0.5, sample_rate=10**9)
    tree = audio_tree(str(path))
    return Case(["pretrain", lab.recipe(tree), "--out", lab.root / "o"], needle="a.npz: sample")


# ------------------------------------------------------------------ NUL bytes
def nul_in_list_path(lab):
    listing = lab.root / "list.txt"
    listing.write_text(f"{next(image_folder(lab).rglob('*.png'))}\nimgs/a\0b.png\n")
    return Case(embed_args(lab, listing), needle="NUL byte")


def nul_in_shard_url(lab):
    folder = lab.root / "sh"
    cli("pack", image_folder(lab), folder, "--quiet", "--shard-size", "8", check=True)
    index = json.loads((folder / "index.json").read_text())
    index["shardlist"][0]["url"] = "shard-000000\0.tar"
    (folder / "index.json").write_text(json.dumps(index))
    return Case(["probe", lab.run, "--data", folder], needle="index.json")


def nul_in_data_path(lab):
    tree = lab.image_recipe(data={"train": "imgs\0x"})
    return Case(["pretrain", lab.recipe(tree), "--out", lab.root / "o"], needle="data path")


# ------------------------------------------------------------------ overflowing labels
def _shard_with_label(lab: Lab, label: bytes) -> Path:
    folder = lab.root / "sh"
    folder.mkdir()
    buf = io.BytesIO()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(buf, format="PNG")
    with tarfile.open(folder / "shard-000000.tar", "w") as tar:
        for key in ("000000", "000001"):
            for ext, data in (("png", buf.getvalue()), ("cls", label)):
                info = tarfile.TarInfo(f"{key}.{ext}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    index = {"__kind__": "wids-shard-index-v1", "shardlist": [{"url": "shard-000000.tar"}]}
    index["shardlist"][0]["nsamples"] = 2
    (folder / "index.json").write_text(json.dumps(index))
    return folder


def _csv_list(lab: Lab, label: Callable[[int], object]) -> Path:
    """list.csv naming image_folder's files, file i labelled `label(i)`."""
    files = sorted(image_folder(lab).rglob("*.png"))
    listing = lab.root / "list.csv"
    rows = "".join(f"{p},{label(i)}\n" for i, p in enumerate(files))
    listing.write_text("path,label\n" + rows)
    return listing


def fifo_as_shard(lab):
    folder = lab.root / "sh"
    cli("pack", image_folder(lab), folder, "--quiet", "--shard-size", "8", check=True)
    (folder / "shard-000001.tar").unlink()
    fifo(folder / "shard-000001.tar")
    return Case(["probe", lab.run, "--data", folder], needle="index.json is a FIFO")


def shard_member_claims_two_gib(lab):
    """A tar header claiming a 2 GiB member in a sparse shard: refused when the shard is
    scanned, never read (a read sized by the claim allocates all of it)."""
    folder = lab.root / "sh"
    folder.mkdir()
    info = tarfile.TarInfo("000000.png")
    info.size = 2 << 30
    with open(folder / "shard-000000.tar", "wb") as f:
        f.write(info.tobuf())
        f.truncate(512 + info.size + 1024)  # sparse: the claimed bytes and an end marker
    index = {"__kind__": "wids-shard-index-v1", "shardlist": [{"url": "shard-000000.tar"}]}
    index["shardlist"][0]["nsamples"] = 1
    (folder / "index.json").write_text(json.dumps(index))
    return Case(["probe", lab.run, "--data", folder], needle="limit of one sample")


def shard_class_overflows(lab):
    folder = _shard_with_label(lab, b"9" * 30)
    return Case(["probe", lab.run, "--data", folder], needle="out of range")


def csv_label_huge(lab):
    listing = _csv_list(lab, lambda i: 10**12 if i == 0 else i % 2)
    return Case(["probe", lab.run, "--data", listing], needle="list.csv")


def csv_label_overflows_int64(lab):
    listing = _csv_list(lab, lambda i: 10**30 if i == 0 else 1)
    return Case(["probe", lab.run, "--data", listing], needle="outside")


def graph_label_overflows(lab):
    path = lab.root / "g.npz"
    x = np.random.rand(12, 3).astype(np.float32)
    edges = np.array([[0, 1, 2, 4, 5, 6, 8, 9, 10], [1, 2, 3, 5, 6, 7, 9, 10, 11]])
    np.savez(path, x=x, edge_index=edges, ptr=np.array([0, 4, 8, 12]), y=np.array([0, 1e30, 1]))
    tree = graph_tree(str(path))
    return Case(["pretrain", lab.recipe(tree), "--out", lab.root / "o"], needle="outside")


# ------------------------------------------------------------------ truncated caches
def _truncate_caches(lab: Lab, monkeypatch, kind: str, data: Path) -> Case:
    cache = lab.root / "cache"
    monkeypatch.setenv("SSLCTL_CACHE", str(cache))
    cli(*embed_args(lab, data), check=True)
    files = sorted((cache / kind).iterdir())
    assert files, f"no {kind} cache written"
    for path in files:
        path.write_bytes(path.read_bytes()[:40])
    (lab.root / "e.npy").unlink()
    return Case(embed_args(lab, data), code=0)


def truncated_listing_cache(lab, monkeypatch):
    return _truncate_caches(lab, monkeypatch, "listings", image_folder(lab))


def truncated_shard_cache(lab, monkeypatch):
    folder = lab.root / "sh"
    cli("pack", image_folder(lab), folder, "--quiet", "--shard-size", "8", check=True)
    return _truncate_caches(lab, monkeypatch, "shards", folder)


# ------------------------------------------------------------------ skips at batch edges
def skip_leaves_one_file_in_a_batch(lab):
    folder = image_folder(lab, {f"bad{i}.png": CORRUPT for i in range(3)}, n=2)
    (folder / "a" / "01.png").unlink()  # one good file and three bad: a batch of 4 keeps 1
    tree = stream(lab.image_recipe(data={"train": str(folder), "on_decode_error": "skip"}))
    args = ["pretrain", lab.recipe(tree), "--out", lab.root / "o", "--quiet"]
    return Case(args, code=0, needle="skipped 3 undecodable")


def skip_lone_bad_file_in_last_embed_batch(lab):
    folder = image_folder(lab, n=512)
    (folder / "b" / "zz-bad.png").write_bytes(CORRUPT)  # sorts last: alone in batch 2
    run = skip_run(lab, folder)
    out = lab.root / "e.npz"

    def after():
        with np.load(out) as saved:
            assert saved["x"].shape[0] == 512 and list(saved["index"]) == list(range(512))

    return Case(["embed", run, "--data", folder, "--out", out], code=0, after=after)


def skip_keeps_listing_indices_in_coreset(lab):
    folder = image_folder(lab, {"00-bad.png": CORRUPT})
    run = skip_run(lab, folder)
    out = lab.root / "picks.txt"

    def after():
        picks = [int(v) for v in out.read_text().split()]
        listing = sorted(str(p.relative_to(folder)) for p in folder.rglob("*.png"))
        assert len(picks) == 15 and listing.index("a/00-bad.png") not in picks
        assert sorted(picks) == [i for i, p in enumerate(listing) if p != "a/00-bad.png"]

    args = ["coreset", run, "--data", folder, "--budget", "15", "--out", out]
    return Case(args, code=0, after=after)


# ------------------------------------------------------------------ one-line errors
def newline_in_bad_file_name(lab):
    folder = image_folder(lab, {"bad\nname.png": CORRUPT})
    tree = stream(lab.image_recipe(data={"train": str(folder)}))
    args = ["pretrain", lab.recipe(tree), "--out", lab.root / "o", "--quiet"]
    return Case(args, needle="bad\\nname.png")


def num_workers_huge(lab):
    tree = lab.image_recipe(train={"num_workers": 10000})
    return Case(["recipe", "validate", lab.recipe(tree)], needle="train.num_workers: must be <=")


def probe_with_200k_classes(lab):
    path = lab.root / "many.npz"
    n = 200_000
    np.savez(path, x=np.zeros((n, 1, 2, 2), np.uint8), y=np.arange(n))
    return Case(["probe", lab.run, "--data", path], needle="many.npz")


def out_under_a_regular_file(lab):
    (lab.root / "afile").write_text("mine")
    tree = lab.image_recipe()
    args = ["pretrain", lab.recipe(tree), "--out", lab.root / "afile" / "run"]
    return Case(args, needle="afile", guard=[lab.root / "afile"])


def empty_csv_label(lab):
    listing = _csv_list(lab, lambda i: "" if i == 3 else "ab"[i % 2])
    return Case(["probe", lab.run, "--data", listing], needle="sample 4 has an empty label")


CASES: dict[str, Callable] = {
    name: fn
    for name, fn in list(globals().items())
    if callable(fn)
    and getattr(fn, "__module__", None) == __name__
    and getattr(fn, "__code__", None) is not None
    and fn.__code__.co_varnames[:1] == ("lab",)
    and not name.startswith("_")
    and name not in ("embed_args", "skip_run")
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_stream_label_and_writer_input(name, lab, monkeypatch):
    run_case(CASES[name], lab, monkeypatch)


# ------------------------------------------------------------------ labels across sets
STRIPES = np.tile(np.array([0, 255], np.uint8), (16, 8))
PATTERNS = {"a": np.zeros((16, 16), np.uint8), "b": STRIPES, "c": STRIPES.T}


def _pattern_images(root: Path, names: list[str], n: int = 6) -> Path:
    """Images of one pattern per class (flat, vertical or horizontal stripes), which a
    random-init encoder already tells apart; "z" is a class no training set has."""
    for name in names:
        (root / name).mkdir(parents=True)
        image = PATTERNS.get(name, np.full((16, 16), 128, np.uint8))
        for i in range(n):
            Image.fromarray(image).save(root / name / f"{i}.png")
    return root


def _probe(run: Path, train: Path, test: Path) -> subprocess.CompletedProcess:
    """Probe `run` with train/test folders given in its recipe (probe takes one --data)."""
    recipe = run / "recipe.yaml"
    tree = yaml.safe_load(recipe.read_text())
    tree["probe"].update(train=str(train), test=str(test), protocols=["knn"])
    recipe.write_text(yaml.safe_dump(tree))
    return cli("probe", run, "--json")


def test_class_names_map_to_one_index_across_train_and_test(lab):
    """A test folder lacking one class scored 50 (b, c renumbered 0, 1); by name it is 100."""
    train = _pattern_images(lab.root / "train", ["a", "b", "c"])
    test = _pattern_images(lab.root / "test", ["b", "c"])
    proc = _probe(lab.run, train, test)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["knn_top1"] == 100.0


def test_a_test_class_missing_from_train_is_refused(lab):
    train = _pattern_images(lab.root / "train", ["a", "b"])
    test = _pattern_images(lab.root / "test", ["b", "z"])
    proc = _probe(lab.run, train, test)
    assert proc.returncode == 2
    assert "class 'z' has no examples" in proc.stderr and len(proc.stderr.splitlines()) == 1


def test_graph_test_labels_sharing_no_class_with_train_are_refused(lab):
    def graphs(path: Path, labels: list[int]) -> Path:
        x = np.random.default_rng(0).random((12, 3)).astype(np.float32)
        edges = np.array([[0, 1, 2, 4, 5, 6, 8, 9, 10], [1, 2, 3, 5, 6, 7, 9, 10, 11]])
        np.savez(path, x=x, edge_index=edges, ptr=np.array([0, 4, 8, 12]), y=np.array(labels))
        return path

    train, test = graphs(lab.root / "tr.npz", [0, 1, 0]), graphs(lab.root / "te.npz", [2, 3, 2])
    tree = graph_tree(str(train))
    tree["train"]["epochs"] = 0
    tree["probe"] = {"train": str(train), "test": str(test), "protocols": ["knn"]}
    run = lab.root / "g"
    cli("pretrain", lab.recipe(tree), "--out", run, "--quiet", check=True)
    proc = cli("probe", run)
    assert proc.returncode == 2 and "has no examples in" in proc.stderr, proc.stderr


# ------------------------------------------------------------------ one writer per folder
def test_a_second_writer_of_a_run_or_pack_folder_exits_2_and_writes_nothing(lab):
    from sslctl.io.lock import owned

    recipe = lab.recipe(lab.image_recipe())
    out, pack_out = lab.root / "busy", lab.root / "busy-pack"
    with owned(out), owned(pack_out, "OUT"):  # the very lock a running job holds (flock)
        for args in (
            ["pretrain", recipe, "--out", out],
            ["pack", "builtin:digits:train", pack_out, "--quiet"],
        ):
            proc = cli(*args)
            assert proc.returncode == 2, proc.stderr
            assert "another sslctl process is writing it" in proc.stderr
            assert len(proc.stderr.strip().splitlines()) == 1
        assert [p.name for p in out.iterdir()] == [".lock"]
        assert [p.name for p in pack_out.iterdir()] == [".lock"]
    proc = cli("pretrain", recipe, "--out", out, "--quiet")  # free again: the lock was only held
    assert proc.returncode == 0, proc.stderr


# ------------------------------------------------------------------ SIGTERM to the group
def _start_group(args: list) -> subprocess.Popen:
    return subprocess.Popen(
        **process_command(*args), stderr=subprocess.PIPE, text=True, start_new_session=True
    )


def test_sigterm_to_the_group_with_workers_checkpoints_and_resumes_exactly(lab):
    folder = image_folder(lab, n=96)
    tree = stream(lab.image_recipe(data={"train": str(folder)}))
    tree["train"].update(epochs=3, batch_size=16, num_workers=2, log_every=1)
    tree["train"]["checkpoint_every"] = 1000
    recipe = lab.recipe(tree)
    cli("pretrain", recipe, "--out", lab.root / "full", "--quiet", check=True)
    killed = lab.root / "killed"
    proc = _start_group(["pretrain", recipe, "--out", killed, "--quiet"])
    metrics, deadline = killed / "metrics.jsonl", time.time() + 120
    while time.time() < deadline and not (
        metrics.exists() and len(metrics.read_text().splitlines()) >= 4
    ):
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGTERM)  # what timeout(1) and Slurm send: workers too
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert len(err.strip().splitlines()) == 1 and "resume with --resume" in err
    assert err.startswith("stopped at step ")  # the user's own stop is not an error
    stopped = torch.load(killed / "checkpoints" / "last.pt", weights_only=True)["step"]
    assert 4 <= stopped < 18
    cli("pretrain", recipe, "--out", killed, "--resume", "--quiet", check=True)
    full, resumed = (load_file(p / "encoder.safetensors") for p in (lab.root / "full", killed))
    for key in full:
        torch.testing.assert_close(resumed[key], full[key], rtol=1e-4, atol=1e-5)


def test_sigterm_to_pack_leaves_no_temporary_shard(lab):
    out = lab.root / "p"
    proc = _start_group(["pack", "builtin:fashion-mnist:train", out, "--shard-size", "500"])
    deadline = time.time() + 120
    while time.time() < deadline and not list(out.glob("shard-*.tar")):
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    assert not (out / "index.json").exists()


# ------------------------------------------------------------------ file modes
@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_run_files_follow_the_umask(lab, umask):
    previous = os.umask(umask)
    try:
        out = lab.root / "o"
        cli("pretrain", lab.recipe(lab.image_recipe()), "--out", out, "--quiet", check=True)
    finally:
        os.umask(previous)
    for path in (out / "encoder.safetensors", out / "checkpoints" / "last.pt", out / "recipe.yaml"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path
