#!/usr/bin/env bash
# Audio quality table: recipes/audio/METHOD.yaml on a builtin audio set, plus the same encoder
# randomly initialised (epochs=0). Extra --set overrides apply to every run, baseline included.
# Usage: [BASELINE=RECIPE] benchmarks/audio.sh DATASET EPOCHS "METHOD..." [--set KEY=VALUE ...]
#   e.g. benchmarks/audio.sh gm-instruments 10 "byol-a simclr"
#        BASELINE=msm-mae benchmarks/audio.sh gm-instruments 50 msm-mae   # ViT methods
# The random-init row uses BASELINE's encoder (default byol-a: the CNN every other recipe
# shares) and is written as "random", or "random-BASELINE" for another baseline.
# Results: runs/bench-audio/DATASET/*.json (probe output + method, epochs, wall_s).
set -euo pipefail
dataset=$1; epochs=$2; methods=$3; shift 3
data=(--set "data.train=builtin:$dataset:train" --set "probe.train=builtin:$dataset:train"
      --set "probe.test=builtin:$dataset:test")
baseline=${BASELINE:-byol-a}
random=random; [ "$baseline" = byol-a ] || random=random-$baseline
out=runs/bench-audio/$dataset; mkdir -p "$out"
for m in "$random" $methods; do
  recipe=recipes/audio/$m.yaml; e=$epochs
  [ "$m" = "$random" ] && recipe=recipes/audio/$baseline.yaml && e=0
  rm -rf "${out:?}/$m"
  start=$(date +%s)
  sslctl pretrain "$recipe" "${data[@]}" "$@" --set train.epochs=$e --out "$out/$m" --quiet >/dev/null
  wall=$(( $(date +%s) - start ))
  sslctl probe "$out/$m" --json | python -c "import json,sys; r=json.load(sys.stdin); r.update(method='$m', epochs=$e, wall_s=$wall); print(json.dumps(r))" | tee "$out/$m.json"
done
