"""Statistics over seeds and the written report: markdown, plot, raw numbers."""
import csv
import statistics
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from ...utils import write_json_atomically
from .variants import (_KS, PAPER_MIOU, PAPER_REGIONS, PAPER_TABLES, Variant,
                       parse_variant)


# --------------------------------------------------------------------------
# Statistics over seeds
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Summary:
    """A number over seeds.

    Attributes:
        mean (float): Mean.
        std (float, optional): Sample standard deviation (n - 1 in the
            denominator); None for a single value.
        min (float): Smallest value.
        max (float): Largest value.
        n (int): Number of values.
    """

    mean: float
    std: Optional[float]
    min: float
    max: float
    n: int

    def format(self, spread: bool = True) -> str:
        """str: ``'72.0 ± 2.0'`` (``'72.0'`` for one value)."""
        if not spread or self.std is None:
            return f'{self.mean:.1f}'
        return f'{self.mean:.1f} ± {self.std:.1f}'


def summarize(values: Sequence[float]) -> Summary:
    """Mean, sample standard deviation, range and count of some values.

    Args:
        values (Sequence[float]): One value per seed; at least one.

    Returns:
        Summary: The summary.

    Raises:
        ValueError: If there are no values.
    """
    if not values:
        raise ValueError('summarize needs at least one value')
    values = [float(v) for v in values]
    std = statistics.stdev(values) if len(values) > 1 else None
    return Summary(statistics.fmean(values), std, min(values), max(values),
                   len(values))


@dataclass
class VariantSummary:
    """A variant's results over its seeds.

    Attributes:
        variant (Variant): The variant.
        seeds (list[int]): Seeds with a result.
        miou (Summary): Val mIoU.
        boundary_acc (Summary): Accuracy within 7 px of an outline.
        internal_acc (Summary): Accuracy elsewhere.
        head_params (int): Parameters of the decode head.
        classifier_params (int): Parameters of its pixel classifier.
        wall_time_s (float): Summed wall time of its runs.
    """

    variant: Variant
    seeds: List[int]
    miou: Summary
    boundary_acc: Summary
    internal_acc: Summary
    head_params: int
    classifier_params: int
    wall_time_s: float


def summarize_runs(results: Sequence[dict]) -> Dict[str, VariantSummary]:
    """Groups run results by variant and summarizes each over its seeds.

    Args:
        results (Sequence[dict]): ``result.json`` contents.

    Returns:
        dict[str, VariantSummary]: By variant name, in first-seen order.
    """
    groups: Dict[str, List[dict]] = {}
    for result in results:
        groups.setdefault(result['settings']['variant'], []).append(result)
    summaries = {}
    for name, runs in groups.items():
        runs = sorted(runs, key=lambda r: r['settings']['seed'])

        def over_seeds(key: str, runs=runs) -> Summary:
            return summarize([r['metrics'][key] for r in runs])

        summaries[name] = VariantSummary(
            variant=parse_variant(name),
            seeds=[r['settings']['seed'] for r in runs],
            miou=over_seeds('miou'),
            boundary_acc=over_seeds('boundary_acc'),
            internal_acc=over_seeds('internal_acc'),
            head_params=runs[0]['head_params'],
            classifier_params=runs[0]['classifier_params'],
            wall_time_s=sum(r['wall_time_s'] for r in runs))
    return summaries


# --------------------------------------------------------------------------
# Reports: markdown, plot, raw numbers
# --------------------------------------------------------------------------
def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]],
                    right: Sequence[bool]) -> List[str]:
    lines = ['| ' + ' | '.join(header) + ' |',
             '|' + '|'.join('---:' if r else '---' for r in right) + '|']
    lines += ['| ' + ' | '.join(row) + ' |' for row in rows]
    return lines


def _groups(variants: Sequence[Variant], tables: Sequence[str]
            ) -> List[Tuple[str, List[Variant], bool]]:
    """(title, variants, compare_regions) of each group of the report: the
    selected paper tables, then any other paper table holding a variant not
    shown yet, then the variants of no paper table."""
    names = {v.name: v for v in variants}
    order = list(tables) + [k for k in PAPER_TABLES if k not in tables]
    groups, placed = [], set()
    for key in order:
        table = PAPER_TABLES[key]
        members = [names[n] for n in table.variants
                   if n in names and (key in tables or n not in placed)]
        if members:
            groups.append((table.title, members, table.compare_regions))
            placed.update(v.name for v in members)
    rest = [v for v in variants if v.name not in placed]
    if rest:
        groups.append(('Other variants', rest, False))
    return groups


def format_markdown(summaries: Dict[str, VariantSummary],
                    variants: Sequence[Variant], tables: Sequence[str],
                    header: Sequence[str], num_seeds: int) -> str:
    """The study's results as markdown, one table per paper table.

    Args:
        summaries (dict[str, VariantSummary]): From :func:`summarize_runs`.
        variants (Sequence[Variant]): The variants of the study (those
            without results are listed with dashes).
        tables (Sequence[str]): The selected paper tables (keys of
            :data:`PAPER_TABLES`), shown first and in full; a variant of
            another table is shown in the first one holding it.
        header (Sequence[str]): Lines above the tables (settings).
        num_seeds (int): Seeds asked for; fewer results are flagged.

    Returns:
        str: Markdown.
    """
    lines = list(header)
    columns = ['variant', 'mIoU (mean ± std)', 'min..max', 'seeds',
               'classifier params', 'head params', 'boundary acc',
               'internal acc', 'paper mIoU']
    for title, members, regions in _groups(variants, tables):
        cols = columns + (['paper boundary', 'paper internal']
                          if regions else [])
        rows = []
        for variant in members:
            paper = PAPER_MIOU.get(variant.name)
            cells = [variant.label]
            s = summaries.get(variant.name)
            if s is None:
                cells += ['–', '–', f'0/{num_seeds}', '–', '–', '–', '–']
            else:
                cells += [
                    s.miou.format(), f'{s.miou.min:.1f}..{s.miou.max:.1f}',
                    f'{s.miou.n}/{num_seeds}', f'{s.classifier_params:,}',
                    f'{s.head_params:,}', s.boundary_acc.format(),
                    s.internal_acc.format()
                ]
            cells.append('–' if paper is None else f'{paper:.1f}')
            if regions:
                paper_regions = PAPER_REGIONS.get(variant.name)
                cells += (['–', '–'] if paper_regions is None else
                          [f'{x:.1f}' for x in paper_regions])
            rows.append(cells)
        lines += ['', f'### {title}', '']
        lines += _markdown_table(cols, rows, [False] + [True] *
                                 (len(cols) - 1))
    return '\n'.join(lines) + '\n'


def save_plot(summaries: Dict[str, VariantSummary], out_file: str,
              title: str) -> str:
    """mIoU against k for GCN, conv and stack (mean ± std over seeds), the
    1x1 baseline as a horizontal band; variants with BR dashed.

    Args:
        summaries (dict[str, VariantSummary]): From :func:`summarize_runs`.
        out_file (str): The PNG to write.
        title (str): Figure title.

    Returns:
        str: ``out_file``.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    from ...visualization.figure import save_figure

    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    colours = {'gcn': 'tab:red', 'conv': 'tab:blue', 'stack': 'tab:green',
               '1x1': 'tab:grey'}
    names = {'gcn': 'GCN', 'conv': 'Conv k x k', 'stack': 'Stack of 3x3'}
    for br in (False, True):
        suffix = ' + BR' if br else ''
        base = summaries.get('1x1-br' if br else '1x1')
        if base is not None:
            std = base.miou.std or 0.0
            ax.axhline(base.miou.mean, color=colours['1x1'],
                       linestyle='--' if br else '-',
                       label=f'1x1 baseline{suffix} (mean ± std)')
            if std:
                ax.axhspan(base.miou.mean - std, base.miou.mean + std,
                           color=colours['1x1'], alpha=0.1 if br else 0.2)
        for kind, name in names.items():
            points = sorted(
                (s.variant.kernel_size, s) for s in summaries.values()
                if s.variant.classifier == kind and s.variant.use_br == br)
            if not points:
                continue
            ks = [k for k, _ in points]
            ax.errorbar(ks, [s.miou.mean for _, s in points],
                        yerr=[s.miou.std or 0.0 for _, s in points],
                        color=colours[kind], marker='s' if br else 'o',
                        linestyle='--' if br else '-', capsize=3,
                        label=name + suffix)
    if not summaries:
        ax.text(0.5, 0.5, 'no results yet', ha='center', va='center',
                transform=ax.transAxes)
    ax.set_xlabel('kernel size k')
    ax.set_ylabel('val mIoU (%)')
    ax.set_xticks(_KS)
    ax.set_xlim(_KS[0] - 1, _KS[-1] + 1)
    ax.grid(alpha=0.3)
    if summaries:
        ax.legend(loc='best', fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, out_file)


def write_raw(results: Sequence[dict], summaries: Dict[str, VariantSummary],
              meta: dict, json_file: str, csv_file: str) -> None:
    """Writes every run's numbers (JSON and CSV) and the per-variant summary
    (JSON)."""
    summary = {}
    for name, s in summaries.items():
        summary[name] = dict(
            label=s.variant.label, seeds=s.seeds,
            head_params=s.head_params, classifier_params=s.classifier_params,
            wall_time_s=round(s.wall_time_s, 2),
            paper_miou=PAPER_MIOU.get(name),
            **{key: vars(getattr(s, key))
               for key in ('miou', 'boundary_acc', 'internal_acc')})
    write_json_atomically(json_file, dict(meta, summary=summary,
                                           runs=list(results)))
    fields = ['dataset', 'variant', 'seed', 'iters', 'miou', 'boundary_acc',
              'internal_acc', 'band_fraction', 'classifier_params',
              'head_params', 'wall_time_s']
    with open(csv_file, 'w', newline='', encoding='utf-8') as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for r in results:
            writer.writerow({
                **{k: r['settings'][k] for k in fields[:4]},
                **r['metrics'],
                **{k: r[k] for k in fields[-3:]}
            })
