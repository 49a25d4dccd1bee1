"""The paper's model-size numbers, recomputed from the real modules.

- Table 2: parameters of the GCN and of a single k x k conv, on res-5
  (2048 -> 21 channels), k = 3, 5, 7, 9.
- Table 4: parameters of the "Stack" of linear 3x3 convs (k = 7) for
  widths m = 2048, 1024, 210, and of the GCN (k = 7).
- Table 11: FLOPs of ResNet-50 and ResNet50-GCN at 224 x 224.

The paper's numbers come from :mod:`mmseg_gcn.paper_numbers`. The parameter
counts are the paper's exactly (weights only: the modules are built with
``bias=False``, on the meta device, so nothing is allocated).
For FLOPs the paper only says "about 3.7 G" for both nets and not how it
counts. mmengine's counter gives multiply-accumulates (MACs) of the convs and
norms; with the stride on the 3x3 conv ("pytorch" style, the project's
default) ResNet-50 has 4.11 G and ResNet50-GCN 4.21 G, with the stride on
the first 1x1 conv ("caffe" style, the original ResNet's) 3.88 G and 3.61 G.
Each is checked against the paper's within :data:`FLOPS_TOLERANCE`; the
parameter counts, not given in the paper, are printed for information.
"""
from dataclasses import dataclass
from typing import Callable, List, Optional

import torch

from ..paper_numbers import (TABLE2_CONV_PARAMS, TABLE2_GCN_PARAMS,
                             TABLE4_STACK_PARAMS, TABLE11_GFLOPS)

#: Relative tolerance of a measured FLOP count against the paper's (our
#: choice: the paper gives no counting convention).
FLOPS_TOLERANCE = 0.15
IN_CHANNELS, NUM_CLASSES = 2048, 21


@dataclass
class Row:
    """One compared number."""
    table: str
    item: str
    measured: float
    paper: Optional[float]
    unit: str = ''
    tolerance: float = 0.0  # relative; 0 = must be equal
    note: str = '-'  # shown as the difference when the paper has no number
    signed: bool = False  # print a + on positive measured values

    @property
    def ok(self) -> bool:
        """Whether the measured number matches the paper's (always True
        when the paper gives none)."""
        if self.paper is None:
            return True
        if self.tolerance == 0:
            return self.measured == self.paper
        return abs(self.measured - self.paper) <= self.tolerance * self.paper

    @property
    def difference(self) -> str:
        if self.paper is None:
            return self.note
        diff = self.measured - self.paper
        if self.tolerance == 0:
            return f'{diff:+,.0f}'
        return f'{diff:+.2f} {self.unit} ({100 * diff / self.paper:+.1f} %)'


def _num_params(build: Callable[[], torch.nn.Module]) -> int:
    with torch.device('meta'):
        module = build()
    return sum(p.numel() for p in module.parameters())


def parameter_rows() -> List[Row]:
    """Tables 2 and 4, counted from :func:`build_classifier`.

    Returns:
        list[Row]: One row per count.
    """
    from ..models import build_classifier

    def count(kind: str, k: int, **kwargs) -> int:
        return _num_params(lambda: build_classifier(
            kind, IN_CHANNELS, NUM_CLASSES, k, bias=False, **kwargs))

    rows = []
    for k, gcn in TABLE2_GCN_PARAMS.items():
        rows.append(Row('Table 2', f'GCN k={k}', count('gcn', k), gcn))
        rows.append(
            Row('Table 2', f'Conv k={k}', count('conv', k),
                TABLE2_CONV_PARAMS[k]))
    for m, stack in TABLE4_STACK_PARAMS.items():
        rows.append(
            Row('Table 4', f'Stack k=7 m={m}',
                count('stack', 7, stack_channels=m), stack))
    rows.append(
        Row('Table 4', 'GCN k=7', count('gcn', 7), TABLE2_GCN_PARAMS[7]))
    return rows


def flops_rows(styles=('pytorch', 'caffe'), size: int = 224) -> List[Row]:
    """Table 11: FLOPs (mmengine's MACs) of ResNet-50 and ResNet50-GCN.

    Args:
        styles (Sequence[str]): Where the stride-2 conv of a bottleneck
            sits: ``'pytorch'`` and/or ``'caffe'``.
        size (int): Input side. Defaults to 224.

    Returns:
        list[Row]: FLOPs (checked against the paper's) and parameters
        (for information) of each net and style.
    """
    from mmseg.models.backbones import ResNet

    from ..models import ResNetGCN
    from .flops import flop_total

    def measure(model: torch.nn.Module):
        model.eval()  # mmseg's ResNet.train() returns None
        return (flop_total(model, torch.rand(1, 3, size, size)) / 1e9,
                sum(p.numel() for p in model.parameters()) / 1e6)

    rows = []
    for style in styles:
        torch.manual_seed(0)
        ref_flops, ref_params = measure(ResNet(depth=50, style=style))
        gcn_flops, gcn_params = measure(ResNetGCN(style=style))
        for name, flops, params in (('ResNet-50', ref_flops, ref_params),
                                    ('ResNet50-GCN', gcn_flops, gcn_params)):
            rows.append(
                Row('Table 11', f'{name} ({style}) GFLOPs', flops,
                    TABLE11_GFLOPS, 'G', FLOPS_TOLERANCE))
            rows.append(
                Row('Table 11', f'{name} ({style}) params', params, None, 'M'))
        for what, gcn, ref, unit in (('GFLOPs', gcn_flops, ref_flops, 'G'),
                                     ('params', gcn_params, ref_params, 'M')):
            rows.append(
                Row('Table 11',
                    f'GCN - ResNet-50 ({style}) {what}',
                    gcn - ref,
                    None,
                    unit,
                    note=f'{100 * (gcn - ref) / ref:+.1f} %',
                    signed=True))
    return rows


def format_rows(rows: List[Row]) -> str:
    """A plain-text table of the rows, grouped by paper table.

    Args:
        rows (list[Row]): The rows.

    Returns:
        str: The table.
    """

    def fmt(value: Optional[float], unit: str) -> str:
        if value is None:
            return '-'
        if unit:
            return f'{value:,.2f} {unit}'
        return f'{value:,.0f}'

    header = ('item', 'measured', 'paper', 'difference', 'match')
    lines, table = [], None
    body = [(r.item, ('+' if r.signed and r.measured > 0 else '') +
             fmt(r.measured, r.unit), fmt(r.paper, r.unit), r.difference,
             ('yes' if r.ok else 'NO') if r.paper is not None else '-')
            for r in rows]
    widths = [max(len(x[i]) for x in body + [header]) for i in range(5)]
    for row, cells in zip(rows, body):
        if row.table != table:
            table = row.table
            lines += [
                '', table,
                '  '.join(h.ljust(w) for h, w in zip(header, widths))
            ]
        lines.append('  '.join(
            c.rjust(w) if i else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths))))
    return '\n'.join(lines).lstrip('\n')
