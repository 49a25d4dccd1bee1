#!/usr/bin/env bash
# Training under Slurm: bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [train.py options]
# Settings: GPUS (total, default 4), GPUS_PER_NODE (4), CPUS_PER_TASK (5), SRUN_ARGS.
#
# Preemption: slurm sends every process SIGUSR1 SIGNAL_SECONDS (default 300)
# before the job's time limit (srun --signal=USR1@SIGNAL_SECONDS); the run then
# stops after its current iteration with a checkpoint, and exits with status 75.
# Inside a batch job (sbatch, SLURM_JOB_ID set) the script then requeues the job
# (scontrol requeue; REQUEUE=0 turns it off); the requeued job resumes from that
# checkpoint by itself (SLURM_RESTART_COUNT > 0). Choose SIGNAL_SECONDS longer
# than an iteration, a validation and a checkpoint write together.
set -uo pipefail
if [ $# -lt 3 ]; then
    echo "usage: bash $0 PARTITION JOB_NAME CONFIG [tools/train.py options]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
GPUS=${GPUS:-4}
GPUS_PER_NODE=${GPUS_PER_NODE:-4}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
PYTHON=${PYTHON:-python}
SIGNAL_SECONDS=${SIGNAL_SECONDS:-300}
REQUEUE=${REQUEUE:-1}
PREEMPTED=75  # mmseg_gcn.engine.preemption.PREEMPTED_EXIT_CODE

# shellcheck disable=SC2086  # SRUN_ARGS holds several options
PYTHONPATH="$(dirname "$0")/..${PYTHONPATH:+:$PYTHONPATH}" \
srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    --signal=USR1@"$SIGNAL_SECONDS" \
    $SRUN_ARGS \
    "$PYTHON" -u "$(dirname "$0")/train.py" "$CONFIG" --launcher=slurm "${@:4}"
status=$?
if [ "$status" -eq "$PREEMPTED" ]; then
    if [ "$REQUEUE" = 1 ] && [ -n "${SLURM_JOB_ID:-}" ]; then
        echo "slurm_train.sh: preempted with a checkpoint; requeueing job $SLURM_JOB_ID" >&2
        scontrol requeue "$SLURM_JOB_ID"
    else
        echo "slurm_train.sh: preempted with a checkpoint; run the same command with --resume to continue" >&2
    fi
fi
exit "$status"
