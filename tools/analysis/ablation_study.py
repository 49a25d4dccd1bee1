"""The paper's ablation study of the pixel classifier (Fig. 4; Tables 1, 3
and 5) as one command: trains every head variant over several seeds on the
same network, data and budget, and writes a table next to the paper's
numbers, a plot of mIoU against k, and the raw results.

    # the full study on the context set (Tables 1, 3 and 5, seeds 0 1 2)
    python tools/analysis/ablation_study.py
    # the same on the local-appearance control set
    python tools/analysis/ablation_study.py --dataset control
    # some variants only; any name <1x1|gcn|conv|stack>[-k<k>][-br]
    python tools/analysis/ablation_study.py --tables 5 --variants gcn-k9
    # a CI-sized run: tiny data, 2 iterations, 2 variants x 2 seeds
    python tools/analysis/ablation_study.py --quick

Runs go to ``<work-dir>/runs/<dataset>/<variant>/seed<N>``; a rerun skips
finished ones, and a run cut off restarts cleanly. The table, plot and raw
numbers go to ``<out-dir>/ablation_<dataset>.{md,png,json,csv}``. See
:mod:`mmseg_gcn.analysis.ablation`.
"""
import argparse
import os.path as osp
import sys
import warnings
from pathlib import Path
from typing import List, Optional, Sequence

# Warnings from inside mmengine / mmseg that say nothing about the study.
for _message in ('pkg_resources is deprecated', '``build_loss`` would be',
                 'The draw is False'):
    warnings.filterwarnings('ignore', message=_message)

from mmseg_gcn.engine.errors import ToolError, run_reporting_errors  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DEFAULT_TABLES = ['1', '3', '5']
DEFAULT_SEEDS = [0, 1, 2]
#: --quick: two variants, two seeds, a few iterations on tiny data.
QUICK_VARIANTS = ['1x1', 'gcn-k15']
QUICK_SEEDS = [0, 1]
QUICK_ITERS = 2


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parses and checks the command line.

    Args:
        argv (Sequence[str], optional): Arguments without the program name;
            defaults to ``sys.argv[1:]``.

    Returns:
        argparse.Namespace: The arguments, with ``variants`` as
        :class:`~mmseg_gcn.analysis.ablation.Variant` objects.
    """
    from mmseg_gcn.analysis.ablation import (DATASETS, PAPER_TABLES,
                                             select_variants)

    parser = argparse.ArgumentParser(
        description='Train the paper\'s ablation heads (1x1, GCN, k x k conv, '
        'stack of 3x3, with/without BR) over several seeds and tabulate them '
        'next to Tables 1, 3 and 5 of "Large Kernel Matters".',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='Tables: ' + '; '.join(
            f'{t.key} = {", ".join(t.variants)}'
            for t in PAPER_TABLES.values()))
    parser.add_argument('--dataset', choices=sorted(DATASETS),
                        default='context',
                        help='data set (default: context; control is the '
                        'local-appearance demo set)')
    parser.add_argument('--tables', nargs='+', choices=list(PAPER_TABLES),
                        help='the paper tables whose variants to run '
                        '(default: 1 3 5 unless --variants is given)')
    parser.add_argument('--variants', nargs='+', default=[],
                        metavar='NAME',
                        help='more variants: 1x1 or gcn|conv|stack-k<odd k>, '
                        'each optionally with -br (e.g. gcn-k9 stack-k5-br)')
    parser.add_argument('--seeds', nargs='+', type=int, metavar='N',
                        help='seeds, each the data and the training seed '
                        f'(default: {" ".join(map(str, DEFAULT_SEEDS))}; '
                        f'--quick: {" ".join(map(str, QUICK_SEEDS))})')
    parser.add_argument('--iters', type=int,
                        help="training iterations per run (default: the "
                        f"config's; --quick: {QUICK_ITERS})")
    parser.add_argument('--quick', action='store_true',
                        help='CI-sized: tiny data, few iterations, variants '
                        f'{" ".join(QUICK_VARIANTS)} x seeds '
                        f'{" ".join(map(str, QUICK_SEEDS))} unless given')
    parser.add_argument('--work-dir',
                        help='data and runs (default: work_dirs/ablation, '
                        'or work_dirs/ablation-quick with --quick)')
    parser.add_argument('--out-dir',
                        help='table, plot and raw results (default: the '
                        'work dir)')
    parser.add_argument('--keep-checkpoints', action='store_true',
                        help="keep each run's final checkpoint")
    parser.add_argument('--amp', action='store_true',
                        help='train and validate under automatic mixed '
                        'precision (bf16 on CPU); recorded in each result')
    parser.add_argument('--verbose', action='store_true',
                        help="show the Runner's output (default: in each "
                        "run's console.log)")
    parser.add_argument('--report-only', action='store_true',
                        help='train nothing: write the report of the '
                        'finished runs')
    args = parser.parse_args(argv)

    if args.tables is None:
        args.tables = [] if (args.variants or args.quick) else DEFAULT_TABLES
    if args.quick and not args.variants and not args.tables:
        args.variants = QUICK_VARIANTS
    try:
        args.variants = select_variants(args.tables, args.variants)
    except ValueError as error:
        parser.error(f'--variants: {error}')
    if args.seeds is None:
        args.seeds = QUICK_SEEDS if args.quick else DEFAULT_SEEDS
    bad = [s for s in args.seeds if s < 0]
    if bad:
        parser.error(f'--seeds must be >= 0 (data generator seeds), got '
                     f'{bad}')
    if len(set(args.seeds)) != len(args.seeds):
        parser.error(f'--seeds lists a seed twice: {args.seeds}')
    if args.iters is None and args.quick:
        args.iters = QUICK_ITERS
    if args.iters is not None and args.iters < 1:
        parser.error(f'--iters must be >= 1, got {args.iters}')
    if args.work_dir is None:
        args.work_dir = ('work_dirs/ablation-quick'
                         if args.quick else 'work_dirs/ablation')
    if args.out_dir is None:
        args.out_dir = args.work_dir
    for name in ('work_dir', 'out_dir'):
        path = getattr(args, name)
        if osp.exists(path) and not osp.isdir(path):
            parser.error(f'--{name.replace("_", "-")} {path} exists and is '
                         'not a folder')
    return args


def main(argv: Optional[List[str]] = None) -> int:
    """Runs the study; returns the exit status
    (``argv``: the arguments without the program name)."""
    args = parse_args(argv)
    from mmseg_gcn.analysis.ablation import (AblationError, StudyOptions,
                                             run_study)
    from mmseg_gcn.analysis.progress import format_duration

    options = StudyOptions(
        dataset=args.dataset, variants=args.variants, seeds=args.seeds,
        work_dir=args.work_dir, out_dir=args.out_dir, repo_root=str(REPO),
        iters=args.iters, quick=args.quick,
        keep_checkpoints=args.keep_checkpoints, amp=args.amp,
        verbose=args.verbose,
        report_only=args.report_only, tables=args.tables)
    try:
        report = run_study(options)
    except (AblationError, FileNotFoundError, FileExistsError) as error:
        raise ToolError(str(error)) from error
    except KeyboardInterrupt:
        print('\n[ablation] interrupted: finished runs are kept; run the '
              'same command again to continue.', file=sys.stderr)
        return 130
    print()
    print(report.markdown)
    print(f'[ablation] trained now: {report.trained}, finished earlier '
          f'(skipped): {report.skipped}' +
          (f', without a result: {report.missing}' if report.missing else '')
          +
          f'; this call took {format_duration(report.wall_time_s)}, the runs '
          f'in the table {format_duration(report.compute_time_s)} in all')
    print('[ablation] wrote ' + ', '.join(report.files.values()))
    return 0


if __name__ == '__main__':
    sys.exit(run_reporting_errors(main))
