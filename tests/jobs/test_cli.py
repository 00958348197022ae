"""End-to-end CLI: pretrain -> probe/embed/coreset/export/distill, bad input exits 2, usage
errors and Ctrl-C keep the exit-code contract."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
import yaml

from tests.conftest import cli, cli_process, one_line_exit_2, small_recipe


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    recipe = root / "r.yaml"
    recipe.write_text(yaml.safe_dump(small_recipe()))
    proc = cli_process("pretrain", recipe, "--out", root / "run", "--quiet", check=True)
    assert proc.stdout.strip() == str(root / "run")
    return root / "run"


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("export", "RUN", "--format", "tflite"), "'--format'"),
        (("probe", "RUN", "--protocol", "top5"), "'--protocol'"),
        (("probe",), "'RUN'"),
        (("pretrain", "RECIPE", "--bogus"), "--bogus"),
        (("prob", "RUN"), "'probe'"),
    ],
)
def test_cli_usage_errors_exit_2_one_line_naming_the_option(args, named):
    proc = cli(*args)
    one_line_exit_2(proc, named)
    assert proc.stdout == "" and proc.stderr.startswith("error: ") and "--help" in proc.stderr


def test_cli_without_arguments_prints_help():
    proc = cli()
    assert proc.returncode == 2 and "pretrain" in proc.stdout and proc.stderr == ""


def test_ctrl_c_outside_training_exits_130(monkeypatch):
    """typer turns KeyboardInterrupt into a returned 130 outside standalone mode; a script must
    not read an interrupted probe as success."""

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("sslctl.jobs.probe.probe", interrupted)
    proc = cli("probe", "RUN")
    assert proc.returncode == 130 and proc.stderr == "interrupted\n"
    assert cli("probe", "--help").returncode == 0


def test_run_directory_contract(run):
    for name in (
        "recipe.yaml",
        "encoder.safetensors",
        "encoder.json",
        "metrics.jsonl",
        "checkpoints/last.pt",
    ):
        assert (run / name).is_file(), name
    info = json.loads((run / "encoder.json").read_text())
    assert info["embed_dim"] == 512 and info["input"]["image_size"] == 16
    row = json.loads((run / "metrics.jsonl").read_text().splitlines()[0])
    assert {"step", "epoch", "loss", "lr", "throughput"} <= row.keys()


def test_probe_json_is_one_object(run):
    proc = cli("probe", run, "--json", check=True)
    result = json.loads(proc.stdout)
    assert {"knn_top1", "linear_top1", "rankme", "n_train", "n_test", "dim"} <= result.keys()
    assert result["n_train"] == 1437 and result["n_test"] == 360 and result["dim"] == 512
    only_knn = json.loads(cli("probe", run, "--json", "--protocol", "knn", check=True).stdout)
    assert "linear_top1" not in only_knn and only_knn["knn_top1"] == result["knn_top1"]


def test_probe_data_too_small_to_split(run, tmp_path):
    few = tmp_path / "few.npz"
    np.savez(few, x=np.zeros((6, 16, 16, 3), np.uint8), y=np.array([0, 0, 1, 1, 2, 2]))
    one_line_exit_2(cli("probe", run, "--data", few), "few.npz: no stratified 80/20 probe split")


def test_embed_and_coreset(run, tmp_path):
    out = tmp_path / "e.npz"
    cli("embed", run, "--data", "builtin:digits:test", "--out", out, check=True)
    data = np.load(out)
    assert data["x"].shape == (360, 512) and data["y"].shape == (360,)
    proc = cli(
        "coreset",
        run,
        "--data",
        "builtin:digits:test",
        "--budget",
        "0.05",
        "--out",
        "-",
        check=True,
    )
    idx = [int(line) for line in proc.stdout.split()]
    assert len(idx) == 18 and len(set(idx)) == 18 and max(idx) < 360
    simc = cli(
        "coreset",
        run,
        "--data",
        "builtin:digits:test",
        "--budget",
        "7",
        "--strategy",
        "simcore",
        "--target",
        "builtin:digits:train",
        check=True,
    )
    assert len(simc.stdout.split()) == 7


def test_export_onnx_resnet_and_safetensors(run, tmp_path):
    proc = cli("export", run, "--format", "onnx", "--out", tmp_path / "m.onnx", check=True)
    assert "max abs diff" in proc.stderr
    model = onnx.load(tmp_path / "m.onnx")
    dim = model.graph.input[0].type.tensor_type.shape.dim[0]
    assert dim.dim_param  # symbolic (dynamic) batch axis
    assert "input_spec" in {p.key for p in model.metadata_props}
    cli("export", run, "--format", "safetensors", "--out", tmp_path / "w.safetensors", check=True)
    assert (tmp_path / "w.safetensors").stat().st_size > 1e6


def test_export_onnx_vit(write_recipe, tmp_path):
    tree = small_recipe(
        encoder={"name": "vit_tiny_patch16_224", "kwargs": {"patch_size": 4}},
        method={"name": "mae"},
        train={"epochs": 0},
    )
    cli("pretrain", write_recipe(tree), "--out", tmp_path / "vit", "--quiet", check=True)
    proc = cli("export", tmp_path / "vit", "--out", tmp_path / "vit.onnx", check=True)
    assert "onnxruntime check passed" in proc.stderr


def test_distill_student_probes(run, write_recipe, tmp_path):
    tree = small_recipe(
        encoder={"name": "resnet10t"},
        method={"name": "distill", "proj_hidden": 128},
        teacher={"run": str(run)},
    )
    cli("distill", write_recipe(tree), "--out", tmp_path / "student", "--quiet", check=True)
    result = json.loads(
        cli("probe", tmp_path / "student", "--json", "--protocol", "knn", check=True).stdout
    )
    assert result["dim"] == 512 and result["knn_top1"] > 20
    wrong = cli("distill", write_recipe(small_recipe(), "plain.yaml"), "--out", tmp_path / "x")
    one_line_exit_2(wrong, "teacher")
    tree["data"]["image_size"] = 24  # the teacher was trained on 16 px
    other = cli("distill", write_recipe(tree, "size.yaml"), "--out", tmp_path / "y")
    one_line_exit_2(other, "teacher.run: the teacher was trained on image_size = 16")


def test_bad_data_inputs(write_recipe, tmp_path):
    missing = write_recipe(small_recipe(data={"train": str(tmp_path / "nope")}), "m.yaml")
    one_line_exit_2(cli("pretrain", missing, "--out", tmp_path / "a"), str(tmp_path / "nope"))

    empty = tmp_path / "empty"
    (empty / "cats").mkdir(parents=True)
    one_line_exit_2(
        cli(
            "pretrain",
            write_recipe(small_recipe(data={"train": str(empty)}), "e.yaml"),
            "--out",
            tmp_path / "b",
        ),
        str(empty),
    )

    folder = tmp_path / "imgs" / "cats"
    folder.mkdir(parents=True)
    from PIL import Image

    for i in range(3):
        Image.fromarray(np.full((20, 20), i * 50, np.uint8)).save(folder / f"{i}.png")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    corrupt = write_recipe(small_recipe(data={"train": str(tmp_path / "imgs")}), "c.yaml")
    one_line_exit_2(cli("pretrain", corrupt, "--out", tmp_path / "c"), "broken.png")

    bad_npz = tmp_path / "bad.npz"
    np.savez(bad_npz, x=np.zeros((4, 2, 5, 5, 5)))
    one_line_exit_2(
        cli(
            "pretrain",
            write_recipe(small_recipe(data={"train": str(bad_npz)}), "n.yaml"),
            "--out",
            tmp_path / "d",
        ),
        "bad.npz",
    )

    unknown_method = write_recipe(small_recipe(method={"name": "simsiam"}), "u.yaml")
    proc = cli("pretrain", unknown_method)
    one_line_exit_2(proc, "method.name")
    assert "simsiam" in proc.stderr


def test_folder_dataset_trains_and_probes(write_recipe, tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    for label, value in (("dark", 40), ("light", 200)):
        (tmp_path / "data" / label).mkdir(parents=True)
        for i in range(40):
            img = np.clip(rng.normal(value, 20, (24, 24, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(img).save(tmp_path / "data" / label / f"{i}.jpg")
    tree = small_recipe(
        data={"train": str(tmp_path / "data")},
        train={"epochs": 0, "batch_size": 16},
        probe={"train": str(tmp_path / "data"), "test": str(tmp_path / "data")},
    )
    cli("pretrain", write_recipe(tree), "--out", tmp_path / "r", "--quiet", check=True)
    info = json.loads((tmp_path / "r" / "encoder.json").read_text())
    assert info["input"]["channels"] == 3
    result = json.loads(
        cli("probe", tmp_path / "r", "--json", "--protocol", "knn", check=True).stdout
    )
    assert result["n_train"] == 80 and result["knn_top1"] > 90
