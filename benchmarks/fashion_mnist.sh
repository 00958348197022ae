#!/usr/bin/env bash
# Fashion-MNIST quality table: each method's recipe, plus the random-init baseline.
# Usage: benchmarks/fashion_mnist.sh EPOCHS [METHOD...]   (results: runs/bench-fmnist/*.json)
set -euo pipefail
epochs=${1:-10}; shift || true
methods=${*:-simclr byol barlow vicreg dino mae}
out=runs/bench-fmnist; mkdir -p "$out"
for m in random $methods; do
  recipe=recipes/image/fashion-mnist/${m/random/simclr}.yaml
  e=$epochs; [ "$m" = random ] && e=0
  rm -rf "$out/$m"
  start=$(date +%s)
  sslctl pretrain "$recipe" --set train.epochs=$e --out "$out/$m" --quiet >/dev/null
  wall=$(( $(date +%s) - start ))
  sslctl probe "$out/$m" --json | python -c "import json,sys; r=json.load(sys.stdin); r.update(method='$m', epochs=$e, wall_s=$wall); print(json.dumps(r))" | tee "$out/$m.json"
done
