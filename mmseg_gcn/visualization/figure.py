"""Writing a matplotlib figure to a PNG file."""
import os
import os.path as osp


def save_figure(fig, out_file: str, dpi: int = 110) -> str:
    """Saves ``fig`` to ``out_file``, creating its folder, and closes it.

    Args:
        fig (matplotlib.figure.Figure): the figure.
        out_file (str): the PNG file to write.
        dpi (int): resolution. Defaults to 110.

    Returns:
        str: ``out_file``.
    """
    import matplotlib.pyplot as plt
    dirname = osp.dirname(out_file)
    if dirname:
        os.makedirs(dirname, exist_ok=True)
    fig.savefig(out_file, dpi=dpi)
    plt.close(fig)
    return out_file
