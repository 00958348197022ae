"""A fresh install keeps working: a modality's libraries load only when it is used, a missing or
broken one is one line and exit 2 naming the package and its install command, and `sslctl
doctor` says what works. Each case runs in a new process, because this one has imported them."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
import yaml

from tests.conftest import ROOT, cli, one_line_exit_2, process_command, small_recipe

OTHER_MODALITY_LIBRARIES = [
    "torchaudio",
    "soundfile",
    "aeon",
    "networkx",
    "skimage",
    "torch_geometric",
]

# Runs `sslctl ARGS` for each ARGS in argv[2:] (JSON lists) in one process in which the modules
# named in argv[1] cannot be imported, as if they were not installed; prints each exit code.
_BLOCKED_RUNNER = textwrap.dedent(
    """
    import json, sys
    blocked = json.loads(sys.argv[1])
    for name in blocked:
        sys.modules[name] = None  # `import name` now raises ModuleNotFoundError
    from sslctl.cli import main
    for args in map(json.loads, sys.argv[2:]):
        sys.argv = ["sslctl", *args]
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code
        print(f"exit {code}", flush=True)
    loaded = sorted({m.split(".")[0] for m in sys.modules if sys.modules[m] is not None})
    print("loaded " + json.dumps([m for m in loaded if m in blocked]), flush=True)
    """
)


def run_blocked(blocked: list[str], *commands: list[str], env_path: str | None = None):
    command = process_command()
    env = command["env"]
    if env_path:
        env["PYTHONPATH"] = f"{env_path}:{env.get('PYTHONPATH', '')}"
    args = [sys.executable, "-c", _BLOCKED_RUNNER, json.dumps(blocked)]
    args += [json.dumps(list(map(str, c))) for c in commands]
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)


@pytest.mark.slow
def test_image_jobs_run_without_any_other_modalitys_library(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump(small_recipe()))
    run = tmp_path / "run"
    proc = run_blocked(
        OTHER_MODALITY_LIBRARIES,
        ["pretrain", recipe, "--out", run, "--quiet"],
        ["probe", run, "--json"],
        ["embed", run, "--data", "builtin:digits:test", "--out", tmp_path / "e.npy"],
        ["coreset", run, "--data", "builtin:digits:test", "--budget", "3"],
        ["export", run, "--format", "safetensors", "--out", tmp_path / "e.safetensors"],
    )
    lines = proc.stdout.splitlines()
    assert [line for line in lines if line.startswith("exit")] == ["exit 0"] * 5, proc.stderr
    assert lines[-1] == "loaded []", proc.stdout
    assert "knn_top1" in proc.stdout


@pytest.mark.parametrize(
    ("recipe", "blocked", "named"),
    [
        ("recipes/audio/simclr.yaml", "torchaudio", "pip install 'torchaudio=="),
        ("recipes/timeseries/simclr.yaml", "aeon", "pip install 'sslctl[data]'"),
        ("recipes/graph/bgrl-karate.yaml", "networkx", "pip install 'networkx"),
    ],
)
def test_a_missing_modality_library_is_one_line_exit_2(tmp_path, recipe, blocked, named):
    proc = run_blocked([blocked], ["pretrain", ROOT / recipe, "--out", tmp_path / "run"])
    assert proc.stdout.splitlines()[0] == "exit 2", proc.stderr
    one_line_exit_2(subprocess.CompletedProcess([], 2, "", proc.stderr), named)
    assert blocked in proc.stderr and "not installed" in proc.stderr
    assert not (tmp_path / "run").exists()


@pytest.fixture
def broken_torchaudio(tmp_path):
    """A torchaudio whose library fails to load, as 2.11.1 does beside torch 2.11.0."""
    package = tmp_path / "fake" / "torchaudio"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        "raise OSError('Could not load this library: libtorchaudio.so')\n"
    )
    return str(tmp_path / "fake")


def test_a_broken_torchaudio_fails_audio_alone(tmp_path, broken_torchaudio):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump(small_recipe(train={"epochs": 0})))
    proc = run_blocked(
        [],
        ["pretrain", ROOT / "recipes/audio/simclr.yaml", "--out", tmp_path / "audio"],
        ["pretrain", recipe, "--out", tmp_path / "image", "--quiet"],
        env_path=broken_torchaudio,
    )
    assert [line for line in proc.stdout.splitlines() if line.startswith("exit")] == [
        "exit 2",
        "exit 0",
    ], proc.stderr
    one_line_exit_2(
        subprocess.CompletedProcess([], 2, "", proc.stderr), "torchaudio, which is installed but"
    )
    assert "OSError" in proc.stderr and "--force-reinstall 'torchaudio==" in proc.stderr


def test_doctor_reports_every_check_ok_on_the_readme_install():
    proc = cli("doctor", "--json")
    report = json.loads(proc.stdout)
    failed = {k: v for k, v in report["checks"].items() if v["status"] != "ok"}
    assert proc.returncode == 0 and report["ok"] and not failed, failed
    names = set(report["checks"])
    assert {"python", "torch", "torchvision", "torchaudio", "timm", "onnxruntime"} <= names
    assert {"device", "cache", "data: fashion-mnist", "data: karate"} <= names
    assert {"ext: torchvision", "ext: torchaudio", "ext: onnxruntime"} <= names


def test_doctor_fails_on_a_broken_library_only_when_its_modality_is_asked(broken_torchaudio):
    command = process_command("doctor")
    command["env"]["PYTHONPATH"] = broken_torchaudio
    proc = subprocess.run(**command, capture_output=True, text=True, timeout=600)
    lines = {line[6:38].strip(): line for line in proc.stdout.splitlines()[1:]}
    assert proc.returncode == 1, proc.stdout
    assert lines["torchaudio"].startswith("fail") and "--force-reinstall" in lines["torchaudio"]
    command["args"] += ["--modality", "image", "--json"]
    proc = subprocess.run(**command, capture_output=True, text=True, timeout=600)
    report = json.loads(proc.stdout)
    assert proc.returncode == 0 and report["ok"]
    assert report["checks"]["torchaudio"]["status"] == "warn"
    assert report["checks"]["torch"]["status"] == "ok"
