"""Published PASCAL VOC 2012 val mIoU of the benchmarked models.

- mmseg's models: read from the ``metafile.yaml`` files shipped in the
  installed mmseg (``mmseg/.mim/configs/<algorithm>/metafile.yaml``), the
  entry named like the config the benchmark builds (trained on VOC 2012 +
  SBD, "voc12aug", 512 x 512 crops, single-scale mIoU).
- GCN: the numbers *the paper* reports (Peng et al., CVPR 2017), not
  numbers of this package's models. Table 5 gives ResNet-152 with GCN + BR
  74.7, Table 6 ResNet-50 with GCN + BR 72.3 (both VOC 2012 val, single
  scale); the paper has no ResNet-101 GCN.

YAML is parsed with ``yaml.safe_load``: data only, nothing is executed.
"""
import os.path as osp
from dataclasses import dataclass
from typing import Dict, Optional

VOC_AUG_DATASET = 'Pascal VOC 2012 + Aug'


@dataclass(frozen=True)
class PublishedMIoU:
    """One published accuracy and where it comes from."""
    miou: float
    source: str  # 'mmseg' or 'paper'
    reference: str  # the metafile entry, or the paper's table


# The GCN paper's own numbers (see the module docstring); keys are the
# benchmark's model names.
PAPER_MIOU: Dict[str, PublishedMIoU] = {
    'gcn-r152-d32':
    PublishedMIoU(74.7, 'paper', 'GCN paper, Table 5 (GCN + BR)'),
    'gcn-r50-d32':
    PublishedMIoU(72.3, 'paper', 'GCN paper, Table 6 (ResNet50, GCN + BR)'),
}


def mmseg_configs_dir() -> str:
    """The ``configs`` folder shipped inside the installed mmseg."""
    import mmseg
    return osp.join(osp.dirname(mmseg.__file__), '.mim', 'configs')


def metafile_miou(metafile: str,
                  entry: str,
                  dataset: str = VOC_AUG_DATASET) -> float:
    """The single-scale mIoU of one entry of an mmseg ``metafile.yaml``.

    Args:
        metafile (str): Path of the metafile.
        entry (str): The model's ``Name`` (its config's file name without
            ``.py``), e.g. ``'pspnet_r101-d8_4xb4-40k_voc12aug-512x512'``.
        dataset (str): The ``Results`` dataset to read. Defaults to
            ``'Pascal VOC 2012 + Aug'``.

    Returns:
        float: The mIoU.

    Raises:
        FileNotFoundError: No such metafile.
        ValueError: The metafile is not an mmseg metafile, or has no such
            entry, or the entry no mIoU on that dataset.
    """
    import yaml
    if not osp.isfile(metafile):
        raise FileNotFoundError(f'metafile {metafile!r} does not exist; is '
                                f'mmseg installed with its configs?')
    with open(metafile) as f:
        try:
            data = yaml.safe_load(f)
        except yaml.YAMLError as e:  # also refuses python/object tags
            raise ValueError(f'{metafile!r} is not plain YAML data: {e}')
    models = data.get('Models') if isinstance(data, dict) else None
    if not isinstance(models, list):
        raise ValueError(f'{metafile!r} has no "Models" list: not an mmseg '
                         f'metafile.')
    for model in models:
        if not isinstance(model, dict) or model.get('Name') != entry:
            continue
        results = model.get('Results')
        results = results if isinstance(results, list) else [results]
        for result in results:
            if isinstance(result, dict) and result.get('Dataset') == dataset:
                miou = (result.get('Metrics') or {}).get('mIoU')
                if isinstance(miou, (int, float)):
                    return float(miou)
        raise ValueError(f'entry {entry!r} of {metafile!r} gives no mIoU on '
                         f'{dataset!r}.')
    raise ValueError(f'{metafile!r} has no entry named {entry!r}.')


def published_miou(
        model: str,
        mmseg_config: Optional[str],
        configs_dir: Optional[str] = None) -> Optional[PublishedMIoU]:
    """The published VOC val mIoU of a benchmarked model, if any.

    Args:
        model (str): The benchmark's model name (e.g. ``'gcn-r152-d32'``).
        mmseg_config (str, optional): For mmseg's models, the config path
            relative to mmseg's configs folder, e.g.
            ``'pspnet/pspnet_r101-d8_4xb4-40k_voc12aug-512x512.py'``.
        configs_dir (str, optional): mmseg's configs folder. Defaults to
            the installed one.

    Returns:
        PublishedMIoU | None: None when nothing is published (a GCN the
        paper did not train, or an mmseg entry without VOC results).
    """
    if model in PAPER_MIOU:
        return PAPER_MIOU[model]
    if mmseg_config is None:
        return None
    folder, name = osp.split(mmseg_config)
    entry = osp.splitext(name)[0]
    metafile = osp.join(configs_dir or mmseg_configs_dir(), folder,
                        'metafile.yaml')
    try:
        miou = metafile_miou(metafile, entry)
    except (FileNotFoundError, ValueError):
        return None
    return PublishedMIoU(miou, 'mmseg', f'{folder}/metafile.yaml: {entry}')
