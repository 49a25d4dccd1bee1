"""Prints the paper's model-size numbers next to the ones computed from this
package's modules: parameters of Tables 2 and 4, FLOPs of Table 11.

    python tools/analysis/paper_tables.py

Exits with status 1 when a number differs from the paper's (parameter
counts must be equal; FLOPs within the tolerance printed below the table).
"""
import argparse
import sys

import torch

from mmseg_gcn.analysis.paper_tables import (FLOPS_TOLERANCE, TABLE11_GFLOPS,
                                             flops_rows, format_rows,
                                             parameter_rows)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Parameter counts of Tables 2 and 4 and FLOPs of Table '
        '11 of "Large Kernel Matters", computed from the real modules.')
    parser.add_argument(
        '--styles',
        nargs='+',
        default=['pytorch', 'caffe'],
        choices=['pytorch', 'caffe'],
        help='ResNet styles for Table 11 (where the stride-2 conv sits)')
    parser.add_argument(
        '--no-flops',
        action='store_true',
        help='skip Table 11 (its FLOP count takes seconds)')
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    torch.set_num_threads(1)  # small models; the count does not need more
    rows = parameter_rows()
    if not args.no_flops:
        rows += flops_rows(args.styles)
    print(format_rows(rows))
    if not args.no_flops:
        print(f'\nTable 11: the paper gives about {TABLE11_GFLOPS} GFLOPs for '
              f'both nets, without its counting convention; measured are '
              f"mmengine's multiply-accumulates at 224 x 224, accepted within "
              f'{FLOPS_TOLERANCE:.0%} of {TABLE11_GFLOPS} G. Parameters are '
              f'not in the paper and are shown for information.')
    bad = [r for r in rows if not r.ok]
    if bad:
        print(
            f'\n{len(bad)} number(s) differ from the paper: ' +
            ', '.join(r.item for r in bad),
            file=sys.stderr)
        return 1
    print('\nAll numbers match the paper.')
    return 0


if __name__ == '__main__':
    sys.exit(main())
