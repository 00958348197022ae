#!/bin/sh
# Two students from one teacher pass against two separate distills of the same budget.
#   sh benchmarks/distill_students.sh multi    # resnet10t and a ViT-Tiny/4 together
#   sh benchmarks/distill_students.sh single   # the same two students, one run each
# Time each as a whole process (e.g. /usr/bin/time -v), alternating the two, several runs.
# TEACHER: a fashion-mnist run (benchmarks/distill_teachers.py leaves one); STEPS: budget.
set -e
TEACHER=${TEACHER:-runs/bench-distill/teacher}
STEPS=${STEPS:-20}
OUT=${OUT:-runs/bench-students}
common="--quiet --set teacher.run=$TEACHER --set train.steps=$STEPS"
case "$1" in
multi)
    rm -rf "$OUT/multi"
    sslctl distill recipes/image/fashion-mnist/distill-students.yaml --out "$OUT/multi" $common
    ;;
single)
    rm -rf "$OUT/cnn" "$OUT/vit"
    sslctl distill recipes/image/fashion-mnist/distill.yaml --out "$OUT/cnn" $common
    sslctl distill recipes/image/fashion-mnist/distill.yaml --out "$OUT/vit" $common \
        --set 'encoder={name: vit_tiny_patch16_224, kwargs: {patch_size: 4}}'
    ;;
*)
    echo "usage: sh benchmarks/distill_students.sh multi|single" >&2
    exit 2
    ;;
esac
