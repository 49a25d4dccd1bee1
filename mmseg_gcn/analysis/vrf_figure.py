"""The figure of the valid receptive field tool: heat maps of several models
side by side over the image, the output unit marked."""
import os.path as osp
from typing import Dict, List

import numpy as np


def plot_vrf_figure(image_rgb: np.ndarray,
                    results: List[Dict[str, object]],
                    titles: List[str],
                    out_file: str,
                    alpha: float = 0.5) -> str:
    """Saves the heat maps of several models side by side over the image.

    Args:
        image_rgb (np.ndarray): (H, W, 3) RGB image.
        results (list[dict]): Outputs of
            :func:`.valid_receptive_field.occlusion_sensitivity`.
        titles (list[str]): One title per panel.
        out_file (str): PNG file to write (folders are created).
        alpha (float): Opacity of the heat map. Defaults to 0.5.

    Returns:
        str: ``out_file``.
    """
    import matplotlib
    matplotlib.use('Agg', force=False)
    import matplotlib.pyplot as plt
    from mmengine.utils import mkdir_or_exist

    h, w = image_rgb.shape[:2]
    n = len(results)
    fig, axes = plt.subplots(
        1, n, figsize=(4.5 * n * max(w / h, 0.5), 4.8), squeeze=False)
    for ax, result, title in zip(axes[0], results, titles):
        ax.imshow(image_rgb)
        heat = ax.imshow(
            result['map'][:h, :w], cmap='jet', alpha=alpha, vmin=0, vmax=1)
        y, x = result['pixel']
        ax.plot([x], [y],
                marker='+',
                color='white',
                markersize=14,
                markeredgewidth=2.5)
        ax.set_title(title, fontsize=10)
        ax.axis('off')
    fig.colorbar(
        heat,
        ax=list(axes[0]),
        fraction=0.025,
        pad=0.02,
        label='normalised |score change|')
    mkdir_or_exist(osp.dirname(osp.abspath(out_file)))
    fig.savefig(out_file, dpi=100, bbox_inches='tight')
    plt.close(fig)
    return out_file
