"""Data at scale: folders, list files and WebDataset shards streamed by worker processes, with
crops cut from the full-resolution original, exact resume, disjoint shards per rank, and
embeddings written block by block."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from sslctl.errors import UserError
from sslctl.eval.knn import knn_predict
from sslctl.modalities.image.decode import CropSpec, ImageEvalDecoder, ImageTrainDecoder
from sslctl.sources import listing
from sslctl.sources.order import shard_order
from tests.conftest import (
    FAST_ENCODER,
    ROOT,
    cli,
    interrupted_at,
    one_line_exit_2,
    process_command,
    small_recipe,
)


def _write_images(root, per_class: int = 48, size=(60, 44)) -> None:
    rng = np.random.default_rng(0)
    for label, channel in (("red", 0), ("blue", 2)):
        (root / label).mkdir(parents=True)
        for i in range(per_class):
            img = rng.integers(0, 80, (size[1], size[0], 3)).astype(np.uint8)
            img[..., channel] = np.clip(img[..., channel].astype(int) + 150, 0, 255)
            Image.fromarray(img).save(root / label / f"{i:03d}.jpg", quality=92)


@pytest.fixture(scope="module")
def jpeg_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("jpegs") / "photos"
    _write_images(root)
    return root


def stream_recipe(train: str, **train_opts) -> dict:
    return small_recipe(
        data={"train": train, "image_size": 16, "cache": "stream"},
        encoder=FAST_ENCODER,
        method={"name": "simclr", "proj_hidden": 64, "proj_dim": 32},
        train={"epochs": 1, "batch_size": 16, "num_workers": 2, "log_every": 1, **train_opts},
        probe={"train": train, "test": train},
    )


# ------------------------------------------------------------------ listing
def test_listing_is_cached_and_listed_again_when_the_folder_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("SSLCTL_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "photos"
    _write_images(root, per_class=3)
    first = listing.list_folder(root, {".jpg"}, "image")
    assert len(first) == 6 and first.classes == ["blue", "red"]
    assert first.labels.tolist() == [0, 0, 0, 1, 1, 1]

    scan = listing._scan
    monkeypatch.setattr(listing, "_scan", lambda *a: pytest.fail("listed again, unchanged"))
    assert listing.list_folder(root, {".jpg"}, "image").files.tolist() == first.files.tolist()

    monkeypatch.setattr(listing, "_scan", scan)
    (root / "red" / "000.jpg").rename(root / "red" / "new.jpg")  # a change one level down
    (root / "blue" / "002.jpg").unlink()
    again = listing.list_folder(root, {".jpg"}, "image")
    assert sorted(again.files.tolist()) == sorted(
        [b"blue/000.jpg", b"blue/001.jpg", b"red/001.jpg", b"red/002.jpg", b"red/new.jpg"]
    )


# ------------------------------------------------------------------ decoding
def _jpeg(path, array):
    Image.fromarray(array).save(path, quality=95)
    return path


def test_train_crops_are_a_pure_function_of_seed_epoch_and_sample(tmp_path):
    rng = np.random.default_rng(1)
    path = _jpeg(tmp_path / "a.jpg", rng.integers(0, 255, (90, 120, 3)).astype(np.uint8))
    decoder = ImageTrainDecoder("RGB", (CropSpec(24, (0.08, 1.0)), CropSpec(12, (0.05, 0.4))))

    def views(*seed):
        with open(path, "rb") as fh:
            return decoder(fh, np.random.default_rng(list(seed)))

    a, b, other = views(0, 3, 7), views(0, 3, 7), views(0, 4, 7)
    assert [v.shape for v in a] == [(3, 24, 24), (3, 12, 12)] and a[0].dtype == np.uint8
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], other[0])


def test_small_crops_keep_the_detail_of_the_full_resolution_original(tmp_path):
    """Stripes 4 pixels wide survive a small crop cut from the 512 px original; a copy shrunk
    to the encoder's side first (what the in-memory path holds) is flat grey."""
    board = np.broadcast_to(((np.arange(512) // 4) % 2 * 255).astype(np.uint8), (512, 512))
    path = tmp_path / "board.png"
    Image.fromarray(board).save(path)
    decoder = ImageTrainDecoder("L", (CropSpec(16, (0.001, 0.001)),))
    with open(path, "rb") as fh:
        (crop,) = decoder(fh, np.random.default_rng(0))
    assert crop.std() > 60
    with open(path, "rb") as fh:
        (shrunk,) = ImageEvalDecoder("L", 16)(fh, None)
    assert shrunk.std() < 10


# ------------------------------------------------------------------ training and resume
def test_auto_cache_streams_what_exceeds_the_budget_and_says_so(
    jpeg_folder, write_recipe, tmp_path
):
    tree = stream_recipe(str(jpeg_folder), epochs=0)
    tree["data"].update(cache="auto", cache_budget_mb=0.01)
    proc = cli("pretrain", write_recipe(tree), "--out", tmp_path / "r", check=True)
    assert "data: 96 image files streamed from disk" in proc.stderr
    tree["data"]["cache_budget_mb"] = 100
    proc = cli("pretrain", write_recipe(tree), "--out", tmp_path / "m", check=True)
    assert "data: 96 image files decoded into memory" in proc.stderr


@pytest.mark.slow
def test_resume_with_workers_on_a_streamed_folder_matches_uninterrupted(
    jpeg_folder, write_recipe, tmp_path
):
    tree = stream_recipe(str(jpeg_folder), epochs=3, checkpoint_every=1000)
    tree["method"] = {"name": "byol", "proj_hidden": 64, "proj_dim": 32}
    recipe = write_recipe(tree)
    cli("pretrain", recipe, "--out", tmp_path / "full", "--quiet", check=True)
    killed = tmp_path / "killed"
    stopped = interrupted_at("pretrain", recipe, "--out", killed, "--quiet", run=killed, lines=7)
    assert 7 <= stopped < 18 and stopped % 6 != 0  # mid-epoch (6 steps an epoch)
    cli("pretrain", recipe, "--out", killed, "--resume", "--quiet", check=True)
    full, resumed = (load_file(p / "encoder.safetensors") for p in (tmp_path / "full", killed))
    for key in full:
        torch.testing.assert_close(resumed[key], full[key], rtol=1e-4, atol=1e-5)


def test_streamed_and_in_memory_evaluation_embed_the_same(jpeg_folder, write_recipe, tmp_path):
    from sslctl.engine.embedding import embed_samples
    from sslctl.rundir import load_run

    run = tmp_path / "run"
    cli(
        "pretrain",
        write_recipe(stream_recipe(str(jpeg_folder), epochs=0)),
        "--out",
        run,
        "--quiet",
        check=True,
    )
    loaded = load_run(run)
    streamed = loaded.modality.load(str(jpeg_folder))
    assert type(streamed.x).__name__ == "FileSamples"
    loaded.modality.stream = replace(loaded.modality.stream, cache="memory")
    held = loaded.modality.load(str(jpeg_folder))
    assert isinstance(held.x, torch.Tensor)
    a = embed_samples(loaded.encoder, loaded.modality, streamed, torch.device("cpu"))
    b = embed_samples(loaded.encoder, loaded.modality, held, torch.device("cpu"))
    torch.testing.assert_close(a.x, b.x)
    assert torch.equal(streamed.y[a.kept], held.y[b.kept])


# ------------------------------------------------------------------ list files and bad files
def test_list_files_with_and_without_labels(jpeg_folder, write_recipe, tmp_path):
    files = sorted(p.relative_to(jpeg_folder) for p in jpeg_folder.rglob("*.jpg"))
    (jpeg_folder.parent / "all.txt").write_text("".join(f"photos/{f}\n" for f in files))
    rows = "".join(f"photos/{f},{f.parts[0]}\n" for f in files)
    (jpeg_folder.parent / "all.csv").write_text("path,label\n" + rows)
    run = tmp_path / "run"
    tree = stream_recipe(str(jpeg_folder.parent / "all.txt"), epochs=0)
    cli("pretrain", write_recipe(tree), "--out", run, "--quiet", check=True)
    result = json.loads(
        cli("probe", run, "--json", "--data", jpeg_folder.parent / "all.csv").stdout
    )
    assert result["n_train"] + result["n_test"] == 96 and result["knn_top1"] > 90


def test_bad_files_are_named_or_skipped_and_counted(jpeg_folder, write_recipe, tmp_path):
    root = tmp_path / "photos"
    _write_images(root, per_class=16)
    data = (root / "red" / "005.jpg").read_bytes()
    (root / "red" / "005.jpg").write_bytes(data[: len(data) // 3])  # truncated
    tree = stream_recipe(str(root), epochs=1)
    proc = cli("pretrain", write_recipe(tree), "--out", tmp_path / "a", "--quiet")
    one_line_exit_2(proc, "red/005.jpg")
    tree["data"]["on_decode_error"] = "skip"
    proc = cli("pretrain", write_recipe(tree), "--out", tmp_path / "b", "--quiet", check=True)
    assert "skipped 1 undecodable file(s)" in proc.stderr and "red/005.jpg" in proc.stderr

    (tmp_path / "list.txt").write_text(f"{root}/red/000.jpg\n{root}/red/missing.jpg\n" * 20)
    tree = stream_recipe(str(tmp_path / "list.txt"), epochs=1)
    proc = cli("pretrain", write_recipe(tree), "--out", tmp_path / "c", "--quiet")
    one_line_exit_2(proc, "missing.jpg")


# ------------------------------------------------------------------ shards
@pytest.fixture(scope="module")
def shards(jpeg_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("packed") / "shards"
    proc = cli("pack", jpeg_folder, out, "--shard-size", "12", check=True)
    assert proc.stdout.strip() == str(out)
    return out


def test_pack_writes_webdataset_shards_that_webdataset_and_wids_read(shards, jpeg_folder, tmp_path):
    import webdataset
    import wids

    index = json.loads((shards / "index.json").read_text())
    assert index["__kind__"] == "wids-shard-index-v1"
    assert [s["nsamples"] for s in index["shardlist"]] == [12] * 8
    samples = list(
        webdataset.WebDataset(sorted(map(str, shards.glob("*.tar"))), shardshuffle=False)
    )
    keys = sorted(int(s["__key__"]) for s in samples)
    assert keys == list(range(96)) and all(set(s) >= {"jpg", "cls"} for s in samples)
    originals = sorted(jpeg_folder.rglob("*.jpg"))
    first = samples[0]
    assert first["jpg"] == originals[int(first["__key__"])].read_bytes()  # stored as it was
    dataset = wids.ShardListDataset(
        str(shards / "index.json"), transformations=[], cache_dir=str(tmp_path)
    )
    assert len(dataset) == 96 and int(dataset[0][".cls"].read()) in (0, 1)
    assert len({s["cls"] for s in samples[:24]}) == 2  # shuffled before sharding


def test_pack_is_atomic_and_resumable(jpeg_folder, tmp_path, monkeypatch):
    from sslctl.jobs import pack as pack_job

    out = tmp_path / "p"
    real = pack_job.Items.__init__

    def failing(self, *args):  # the 51st sample read fails, as a full disk would
        real(self, *args)
        get, calls = self.get, []

        def get_or_fail(i):
            calls.append(i)
            if len(calls) > 50:
                raise OSError("No space left on device")
            return get(i)

        self.get = get_or_fail

    monkeypatch.setattr(pack_job.Items, "__init__", failing)
    with pytest.raises(OSError):
        pack_job.pack(str(jpeg_folder), out, None, 12, 0, lambda *a: None)
    done = sorted(p.name for p in out.iterdir())
    assert "index.json" not in done and not [n for n in done if n.endswith(".tmp")]
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("shard-*.tar")}
    assert len(stamps) == 4  # 4 complete shards of 12, the fifth never took a shard's name
    monkeypatch.setattr(pack_job.Items, "__init__", real)
    assert pack_job.pack(str(jpeg_folder), out, None, 12, 0, lambda *a: None) == (96, 8)
    assert all(out.joinpath(n).stat().st_mtime_ns == t for n, t in stamps.items())
    one_line_exit_2(cli("pack", jpeg_folder, out), "already holds a finished pack")
    one_line_exit_2(cli("pack", jpeg_folder, tmp_path / "q", "--shard-size", "0"), "--shard-size")


def test_training_and_probing_on_shards(shards, write_recipe, tmp_path):
    run = tmp_path / "run"
    cli(
        "pretrain",
        write_recipe(stream_recipe(str(shards), epochs=1)),
        "--out",
        run,
        "--quiet",
        check=True,
    )
    result = json.loads(cli("probe", run, "--json").stdout)
    assert result["n_train"] == result["n_test"] == 96


def test_a_bad_shard_is_named(shards, write_recipe, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    for path in shards.iterdir():
        (broken / path.name).write_bytes(path.read_bytes())
    shard = broken / "shard-000003.tar"
    shard.write_bytes(shard.read_bytes()[:3000])
    proc = cli("pretrain", write_recipe(stream_recipe(str(broken))), "--out", tmp_path / "r")
    one_line_exit_2(proc, "shard-000003.tar")


@pytest.mark.parametrize("world", [1, 2, 3, 4])
def test_shard_order_gives_ranks_disjoint_parts_of_whole_shards(world):
    shard_of = np.repeat(np.arange(10), 12)
    for epoch in range(3):
        parts = [shard_order(shard_of, 0, epoch, r, world).numpy() for r in range(world)]
        together = np.concatenate(parts)
        assert len(np.unique(together)) == len(together) == 120 // world * world
        shared = set.intersection(*[set(shard_of[p]) for p in parts]) if world > 1 else set()
        assert len(shared) <= 1  # at most the one shard split at a boundary
    assert not np.array_equal(shard_order(shard_of, 0, 0, 0, 1), shard_order(shard_of, 0, 1, 0, 1))


_TRACE = textwrap.dedent(
    """
    import json, os, sys
    from sslctl.sources import stream
    decode = stream.DecodeBatches.__getitem__

    def traced(self, request):
        rows = [int(self.samples.rows[p]) for p in request.positions]
        with open(os.environ["TRACE"] + "." + os.environ["RANK"], "a") as fh:
            fh.write(json.dumps([request.epoch, rows]) + "\\n")
        return decode(self, request)

    stream.DecodeBatches.__getitem__ = traced
    from sslctl.cli import main
    sys.argv = ["sslctl", *sys.argv[1:]]
    main()
    """
)


@pytest.mark.slow
def test_two_torchrun_ranks_read_disjoint_shards_covering_the_set(shards, write_recipe, tmp_path):
    script = tmp_path / "traced.py"
    script.write_text(_TRACE)
    recipe = write_recipe(stream_recipe(str(shards), epochs=1, batch_size=8))
    command = process_command()
    env = {**command["env"], "TRACE": str(tmp_path / "trace"), "PYTHONPATH": str(ROOT)}
    args = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node=2",
        "--master-port=29517",
    ]
    proc = subprocess.run(
        [*args, str(script), "pretrain", str(recipe), "--out", str(tmp_path / "run"), "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = []
    for rank in (0, 1):
        lines = (tmp_path / f"trace.{rank}").read_text().splitlines()
        seen.append([row for epoch, rows in map(json.loads, lines) for row in rows if epoch == 0])
    assert len(seen[0]) == len(seen[1]) == 48
    assert sorted(seen[0] + seen[1]) == list(range(96))  # each sample once, in one epoch
    from sslctl.sources.files import open_file_source

    shard_of = open_file_source(str(shards), {".jpg"}, "image").members[:, 0]
    assert len(set(shard_of[seen[0]]) & set(shard_of[seen[1]])) == 0  # 4 whole shards each


# ------------------------------------------------------------------ embeddings at scale
def test_embed_writes_npy_that_coreset_selects_from(jpeg_folder, write_recipe, tmp_path):
    run = tmp_path / "run"
    cli(
        "pretrain",
        write_recipe(stream_recipe(str(jpeg_folder), epochs=0)),
        "--out",
        run,
        "--quiet",
        check=True,
    )
    cli("embed", run, "--data", jpeg_folder, "--out", tmp_path / "e.npy", check=True)
    cli("embed", run, "--data", jpeg_folder, "--out", tmp_path / "e.npz", check=True)
    x = np.load(tmp_path / "e.npy")
    with np.load(tmp_path / "e.npz") as z:
        assert np.array_equal(z["x"], x) and z["y"].tolist() == [0] * 48 + [1] * 48
    assert x.shape == (96, 512) and not list(tmp_path.glob(".*"))
    from_file = cli("coreset", tmp_path / "e.npy", "--budget", "5", check=True).stdout
    from_run = cli("coreset", run, "--data", jpeg_folder, "--budget", "5", check=True).stdout
    assert from_file == from_run and len(from_file.split()) == 5
    one_line_exit_2(cli("coreset", run, "--budget", "5"), "--data")


def test_knn_chunked_over_train_and_test_matches_one_block():
    g = torch.Generator().manual_seed(0)
    train, test = torch.randn(300, 16, generator=g), torch.randn(50, 16, generator=g)
    y = torch.randint(0, 4, (300,), generator=g)
    whole = knn_predict(train, y, test, chunk=1000, train_chunk=1000)
    assert torch.equal(knn_predict(train, y, test, chunk=7, train_chunk=13), whole)


def test_missing_list_entries_and_unreadable_list_are_user_errors(tmp_path):
    from sslctl.sources.files import open_file_source

    (tmp_path / "empty.csv").write_text("file,label\n")
    with pytest.raises(UserError, match="'path' column"):
        open_file_source(str(tmp_path / "empty.csv"), {".jpg"}, "image")
    (tmp_path / "blank.txt").write_text("# nothing\n\n")
    with pytest.raises(UserError, match="names no image files"):
        open_file_source(str(tmp_path / "blank.txt"), {".jpg"}, "image")
    with pytest.raises(UserError, match="data path not found"):
        open_file_source("", {".jpg"}, "image")
