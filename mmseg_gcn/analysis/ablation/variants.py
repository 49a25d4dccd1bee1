"""Variants of the study, the paper's tables and the data sets."""
import os.path as osp
import re
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from ... import paper_numbers
from ...datasets.synthetic import generation_params


class AblationError(RuntimeError):
    """The study cannot run as asked: a bad variant name, earlier results
    made with other settings, or a run that produced no valid result."""


# --------------------------------------------------------------------------
# Variants and the paper's tables
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Variant:
    """One decode-head setting of the study.

    Attributes:
        classifier (str): ``'1x1'``, ``'gcn'``, ``'conv'`` or ``'stack'``
            (see :func:`mmseg_gcn.models.build_classifier`).
        kernel_size (int, optional): k; None for ``'1x1'``.
        use_br (bool): Whether the head uses Boundary Refinement.
    """

    classifier: str
    kernel_size: Optional[int]
    use_br: bool

    @property
    def name(self) -> str:
        """str: e.g. ``'gcn-k15-br'``; :func:`parse_variant` reads it."""
        name = self.classifier
        if self.kernel_size is not None:
            name += f'-k{self.kernel_size}'
        return name + ('-br' if self.use_br else '')

    @property
    def label(self) -> str:
        """str: a readable name, e.g. ``'GCN k=15 + BR'``."""
        k = self.kernel_size
        label = {
            '1x1': '1x1 (base)',
            'gcn': f'GCN k={k}',
            'conv': f'Conv {k}x{k}',
            'stack': f'Stack {((k or 3) - 1) // 2} x 3x3 (k={k})',
        }[self.classifier]
        return label + (' + BR' if self.use_br else '')

    def head_overrides(self) -> dict:
        """dict: the ``model.decode_head`` entries this variant sets."""
        overrides = dict(classifier=self.classifier, use_br=self.use_br)
        if self.kernel_size is not None:
            overrides['kernel_size'] = self.kernel_size
        return overrides


_VARIANT_NAME = re.compile(r'(?:(?P<base>1x1)|(?P<kind>gcn|conv|stack)'
                           r'-k(?P<k>\d+))(?P<br>-br)?')


def parse_variant(name: str) -> Variant:
    """Reads a variant name such as ``'1x1'``, ``'gcn-k7'`` or
    ``'stack-k11-br'``.

    Args:
        name (str): ``1x1``, or ``gcn``/``conv``/``stack`` followed by
            ``-k<odd k >= 3>``; either with an optional ``-br``.

    Returns:
        Variant: The variant.

    Raises:
        ValueError: If the name does not follow that pattern.
    """
    match = _VARIANT_NAME.fullmatch(name)
    example = "e.g. '1x1', 'gcn-k15', 'conv-k7', 'stack-k11' or 'gcn-k15-br'"
    if match is None:
        raise ValueError(f'unknown variant {name!r}: a variant is 1x1 or '
                         f'gcn|conv|stack-k<k>, optionally followed by -br; '
                         f'{example}.')
    k = None
    if match['kind']:
        k = int(match['k'])
        if k < 3 or k % 2 == 0:
            raise ValueError(f'variant {name!r}: k must be odd and >= 3 (a '
                             f"'same'-padded kernel), got {k}; {example}.")
    return Variant(match['base'] or match['kind'], k, bool(match['br']))


@dataclass(frozen=True)
class PaperTable:
    """A group of variants compared in one of the paper's tables.

    Attributes:
        key (str): What ``--tables`` selects it by.
        title (str): Heading of the group.
        variants (tuple[str]): Variant names, in table order.
        compare_regions (bool): Whether the group shows the paper's
            boundary/internal accuracy too (Table 5).
    """

    key: str
    title: str
    variants: Tuple[str, ...]
    compare_regions: bool = False


_KS = (3, 5, 7, 9, 11, 13, 15)
_TABLE3_KS = (3, 7, 11, 15)

#: The paper's tables the study reproduces, by ``--tables`` key.
PAPER_TABLES: Dict[str, PaperTable] = {
    '1': PaperTable('1', 'Table 1: GCN kernel size k (no BR)',
                    ('1x1', ) + tuple(f'gcn-k{k}' for k in _KS)),
    '3': PaperTable(
        '3', 'Table 3: GCN vs one k x k conv (the paper\'s Table 2) and a '
        'stack of linear 3x3 convs (Table 3), no BR',
        tuple(f'{kind}-k{k}' for k in _TABLE3_KS
              for kind in ('gcn', 'conv', 'stack'))),
    '5': PaperTable('5', 'Table 5: Boundary Refinement',
                    ('1x1', '1x1-br', 'gcn-k15', 'gcn-k15-br'),
                    compare_regions=True),
}

#: The paper's PASCAL VOC 2012 val mIoU per variant (Tables 1, 2, 3, 5) and
#: its boundary and internal accuracy (Table 5).
PAPER_MIOU: Dict[str, float] = paper_numbers.VOC_VAL_MIOU
PAPER_REGIONS: Dict[str, Tuple[float, float]] = \
    paper_numbers.TABLE5_REGION_ACCURACY


def select_variants(tables: Sequence[str] = (),
                    names: Sequence[str] = ()) -> List[Variant]:
    """The variants of the given paper tables plus the named ones.

    Args:
        tables (Sequence[str]): Keys of :data:`PAPER_TABLES`.
        names (Sequence[str]): Variant names (see :func:`parse_variant`).

    Returns:
        list[Variant]: Each variant once, in table order, then the named
        ones in the given order.

    Raises:
        ValueError: On an unknown table key or variant name.
    """
    wanted: List[str] = []
    for key in tables:
        if key not in PAPER_TABLES:
            raise ValueError(f'unknown table {key!r}; choose from '
                             f'{", ".join(PAPER_TABLES)}.')
        wanted += PAPER_TABLES[key].variants
    wanted += names
    variants, seen = [], set()
    for name in wanted:
        variant = parse_variant(name)
        if variant.name not in seen:
            seen.add(variant.name)
            variants.append(variant)
    return variants


# --------------------------------------------------------------------------
# Data sets
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class DataSet:
    """A data set the study can run on.

    Attributes:
        name (str): ``--dataset`` value.
        config (str): The base config, relative to the repository root.
        generator (str): ``'voc_context'`` or ``'voc_aug'``.
        full (dict): Generator arguments (all but the seed) of the study.
        quick (dict): Generator arguments of ``--quick``.
    """

    name: str
    config: str
    generator: str
    full: dict
    quick: dict

    def generate(self, out: str, **kwargs):
        """Runs the data set's generator; returns its ``DatasetSummary``."""
        if self.generator == 'voc_context':
            from ...datasets.synthetic import generate_voc_context
            return generate_voc_context(out, **kwargs)
        from ...datasets.synthetic import generate_voc_aug
        return generate_voc_aug(out, **kwargs)


#: The context set (where the paper's claim should show) and its control.
DATASETS: Dict[str, DataSet] = {
    'context':
    DataSet('context',
            'configs/context/gcn_r18-s8_1xb8-1.2k_context-128x128.py',
            'voc_context',
            full=dict(num_train=400, num_aug=0, num_val=100, size=128),
            quick=dict(num_train=16, num_aug=0, num_val=8, size=128)),
    'control':
    DataSet('control',
            'configs/context/gcn_r18-s8_1xb8-1.2k_control-voc12aug-96x96.py',
            'voc_aug',
            full=dict(num_train=240, num_aug=80, num_val=60, min_side=96,
                      max_side=128),
            quick=dict(num_train=16, num_aug=4, num_val=8, min_side=96,
                       max_side=128)),
}


def prepare_data(dataset: DataSet, params: dict, out: str,
                 say: Callable[[str], None] = print) -> str:
    """Generates a data set unless ``out`` already holds exactly it.

    Args:
        dataset (DataSet): Which data set.
        params (dict): Generator arguments, seed included.
        out (str): Folder to hold ``VOCdevkit/VOC2012``.
        say (callable): Where messages go.

    Returns:
        str: The data set root, ``<out>/VOCdevkit/VOC2012``.

    Raises:
        FileExistsError: If ``out`` holds data the generator did not write.
    """
    root = osp.join(out, 'VOCdevkit', 'VOC2012')
    found = generation_params(root)
    # The generator writes the split lists last: with them, it finished.
    lists = osp.join(root, 'ImageSets', 'Segmentation')
    complete = all(
        osp.isfile(osp.join(lists, f'{split}.txt'))
        for split in ('train', 'val'))
    if (found is not None and complete
            and found.get('generator') == dataset.generator
            and all(found.get(k) == v for k, v in params.items())):
        return root
    if found is not None:
        say(f'{root}: generated with other arguments or cut off; '
            'regenerating it')
    start = time.perf_counter()
    summary = dataset.generate(out, **params)
    splits = ', '.join(f'{n} {s}' for s, n in summary.splits.items() if n)
    say(f'data: wrote {root} ({splits}) in '
        f'{time.perf_counter() - start:.1f} s')
    return root
