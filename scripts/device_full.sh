#!/usr/bin/env bash
# Record the full-profile lesson runs on a GPU machine that has Python + JAX but no Keras, TensorFlow or
# Jupyter (the lent H100 of the developers' sessions). Stage on a machine with pip and the data caches:
#     bash scripts/device_full.sh stage        # .whl/ (Keras + kernel stack) and .devdata/ (data caches)
# then, on the GPU machine, in the repo root, with .whl and .devdata carried over:
#     bash scripts/device_full.sh run OUT 03,04 05 06,07   # one lane per argument, lanes run in parallel
# Each lane is `scripts/results.py --profile full` on the JAX backend writing OUT/laneN/results.json;
# a lane named `sim` runs `scripts/boxsim_record.py` (the DIoU simulation alone) into OUT/laneN instead,
# a lane named `seeds` runs `scripts/boxreg_seeds.py` (lesson 05's box regressors, five seeds per loss).
# Merge them here with `python scripts/results.py --merge OUT/lane*/results.json`.
set -euo pipefail
cd "$(git rev-parse --show-toplevel 2>/dev/null || pwd)"
case "${1:-}" in
stage)
    bash ../shared/tools/device-wheels.sh
    rm -f .whl/debugpy-*.whl .whl/widgetsnbextension-*.whl   # not needed to execute notebooks
    grep -qx '/.devdata/' .git/info/exclude || echo '/.devdata/' >> .git/info/exclude
    rm -rf .devdata && mkdir -p .devdata/lossviz .devdata/keras/datasets
    LOSSVIZ_DATA=$PWD/.devdata/lossviz KERAS_HOME=$PWD/.devdata/keras python scripts/seed_data.py
    rm -rf .devdata/lossviz/*/derived
    du -sh .whl .devdata/*
    ;;
run)
    out=$2; shift 2
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl
    export PYTHONPATH=/tmp/site:$PWD KERAS_BACKEND=jax XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1 \
        LOSSVIZ_DATA=$PWD/.devdata/lossviz KERAS_HOME=$PWD/.devdata/keras MPLBACKEND=Agg
    mkdir -p "$out"
    lane=0
    for lessons in "$@"; do
        lane=$((lane + 1))
        if [ "$lessons" = sim ] || [ "$lessons" = seeds ]; then
            script=scripts/boxsim_record.py; [ "$lessons" = seeds ] && script=scripts/boxreg_seeds.py
            python3 "$script" --out "$out/lane$lane" > "$out/lane$lane.log" 2>&1 &
            continue
        fi
        # shellcheck disable=SC2086
        python3 scripts/results.py --profile full --out "$out/lane$lane" ${lessons//,/ } > "$out/lane$lane.log" 2>&1 &
    done
    wait
    ;;
*)
    sed -n 2,10p "$0"; exit 2 ;;
esac
