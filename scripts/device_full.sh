#!/usr/bin/env bash
# Record the full-profile lesson runs on a GPU machine that has Python + JAX but no Keras, TensorFlow or
# Jupyter (the lent H100 / H200 of the developers' sessions). Stage on a machine with pip and the data:
#     bash scripts/device_full.sh stage     # .whl/ (Keras + kernel stack) and .devdata/ (all the data)
# then in ONE device call (the session has 15 min of device time; the call may run 10), in the repo
# root, carrying .whl and .devdata (stage checks that they fit the 64 MiB carry limit):
#     bash scripts/device_full.sh run $OUT sim seeds 00,01,07,09 02 03 04 05 06 08
# One lane per argument, all lanes in parallel on the one GPU: `scripts/results.py --profile full` on
# the JAX backend for the lessons named (comma-separated prefixes); a lane `sim` runs
# `scripts/boxsim_record.py` (the DIoU simulation alone), a lane `seeds` `scripts/boxreg_seeds.py`
# (lesson 05's box regressors, five seeds per loss). Every lane stops by LANE_LIMIT seconds (default
# 530, inside the call's 600): cells still running then are stopped and their lesson is recorded as
# failed with what it reported. OUT gets three files (the call brings back at most eight):
# results.json and RESULTS.md (all lanes merged) and logs.tar.gz. Merge them here with
#     python scripts/results.py --merge <files>/results.json
set -euo pipefail
cd "$(git rev-parse --show-toplevel 2>/dev/null || pwd)"
case "${1:-}" in
stage)
    bash ../shared/tools/device-wheels.sh
    # not needed to execute notebooks (IPython imports jedi only to complete code)
    rm -f .whl/debugpy-*.whl .whl/widgetsnbextension-*.whl .whl/jedi-*.whl .whl/parso-*.whl
    grep -qx '/.devdata/' .git/info/exclude || echo '/.devdata/' >> .git/info/exclude
    tmp=$(mktemp -d)
    rm -rf .devdata && mkdir -p .devdata/keras/datasets
    LOSSVIZ_DATA=$tmp KERAS_HOME=$PWD/.devdata/keras python scripts/seed_data.py
    rm -rf "$tmp"/*/derived
    # BCCD and the WBC masks (BMP) as one archive: 24 MB -> 15 MB, so that everything fits one call
    python3 -c "import sys, tarfile; tarfile.open(sys.argv[1], 'w:xz').add(sys.argv[2], arcname='.')" \
        .devdata/lossviz.tar.xz "$tmp"
    rm -rf "$tmp"
    tracked=$(git ls-files -z | du -cb --files0-from=- | tail -n 1 | cut -f1)
    total=$(( tracked + $(du -sb .whl | cut -f1) + $(du -sb .devdata | cut -f1) ))
    du -sh .whl .devdata/*
    echo "to carry with the tracked files: $(( total / 1048576 )) MiB (limit 64)"
    [ "$total" -lt 67108864 ] || { echo "over the 64 MiB carry limit" >&2; exit 1; }
    ;;
run)
    out=$2; shift 2
    limit=${LANE_LIMIT:-530}
    start=$(date +%s)
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl
    mkdir -p /tmp/devdata/lossviz
    python3 -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2], filter='data')" \
        .devdata/lossviz.tar.xz /tmp/devdata/lossviz
    export PYTHONPATH=/tmp/site:$PWD KERAS_BACKEND=jax XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1 \
        LOSSVIZ_DATA=/tmp/devdata/lossviz KERAS_HOME=$PWD/.devdata/keras MPLBACKEND=Agg
    lanes=/tmp/lanes
    rm -rf "$lanes" && mkdir -p "$lanes" "$out"
    left=$(( limit - ($(date +%s) - start) ))
    echo "installed in $(( $(date +%s) - start )) s; lanes get $left s"
    lane=0
    for lessons in "$@"; do
        lane=$((lane + 1))
        if [ "$lessons" = sim ] || [ "$lessons" = seeds ]; then
            script=scripts/boxsim_record.py; [ "$lessons" = seeds ] && script=scripts/boxreg_seeds.py
            timeout "$left" python3 "$script" --out "$lanes/lane$lane" > "$lanes/lane$lane.log" 2>&1 &
            continue
        fi
        # shellcheck disable=SC2086
        python3 scripts/results.py --profile full --deadline "$left" --out "$lanes/lane$lane" ${lessons//,/ } \
            > "$lanes/lane$lane.log" 2>&1 &
    done
    wait || true
    shopt -s nullglob
    recorded=("$lanes"/lane*/results.json)
    [ ${#recorded[@]} -eq 0 ] || python3 scripts/results.py --merge "${recorded[@]}" --out "$out"
    {
        nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv || true
        lane=0
        for lessons in "$@"; do
            lane=$((lane + 1))
            [ -f "$lanes/lane$lane/results.json" ] || echo "lane $lane ($lessons): nothing recorded"
            grep -h -E ": (ok|failed) in|not started" "$lanes/lane$lane.log" || true
        done
    } > /tmp/summary.txt 2>&1
    mv /tmp/summary.txt "$lanes/summary.txt"
    tar -czf "$out/logs.tar.gz" -C "$lanes" .
    cat "$lanes/summary.txt"
    echo "done in $(( $(date +%s) - start )) s"
    ;;
*)
    sed -n 2,16p "$0"; exit 2 ;;
esac
