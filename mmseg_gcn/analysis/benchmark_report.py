"""The benchmarks' results (:mod:`.benchmark`, :mod:`.model_benchmark`) as
markdown tables with ratios to GCN, as plain data, and the whole-model run as
a plot of published accuracy against the cost measured."""
from dataclasses import asdict
from typing import Dict, Optional

from .benchmark import BACKBONE_DEPTHS, HEAD_NAMES, BenchmarkResult
from .flops_utilisation import TRAIN_FORWARD_EQUIVALENTS
from .model_benchmark_results import ModelResult, WholeModelResult
from .model_specs import MODEL_SPECS
from .progress import format_duration


def _ratio(value: Optional[float], ref: Optional[float]) -> str:
    if value is None or ref is None or ref != ref or value != value \
            or ref == 0:
        return ''
    return f' ({value / ref:.2f}x)'


def table_cell(value: Optional[float], ref: Optional[float], scale: float,
               fmt: str) -> str:
    """A table cell: ``value / scale`` in ``fmt``, then its ratio to ``ref``
    in brackets when there is one; 'n/a' for a missing value.

    Args:
        value (float, optional): The measured value (None or NaN: none).
        ref (float, optional): The reference value of the column (None: no
            ratio).
        scale (float): Divides the value for display (e.g. 1e6 for M).
        fmt (str): Format of the scaled value, e.g. '.1f'.

    Returns:
        str: The cell text.
    """
    if value is None or value != value:
        return 'n/a'
    return format(value / scale, fmt) + _ratio(value, ref)


def format_markdown(result: BenchmarkResult) -> str:
    """The result as a markdown table with ratios to GCNHead.

    Args:
        result (BenchmarkResult): A benchmark run.

    Returns:
        str: Markdown: a settings line, the table and notes.
    """
    mib = 2.0**20
    h, w = result.size
    lines = [
        f'ResNet-{BACKBONE_DEPTHS[result.backbone]} (output stride 32), '
        f'input {result.batch} x 3 x {h} x {w}, {result.device} '
        f'({result.machine}; torch threads: {result.threads}), torch '
        f'{result.torch_version}, median of {result.repeats} runs after '
        f'{result.warmup} warm-up runs, {result.date}.', '',
        '| Head | Head params (M) | Head GFLOPs | Total GFLOPs | '
        'Forward (ms) | Train step (ms) | Forward peak (MiB) | '
        'Train peak (MiB) |', '|' + '---|' * 8
    ]
    ref = result.heads[0]
    notes = []

    for r in result.heads:
        name = HEAD_NAMES[r.head]
        if r.note:
            notes.append(f'{name}: {r.note}.')
            name += f' [{len(notes)}]'
        lines.append('| ' + ' | '.join([
            name,
            table_cell(r.head_params, ref.head_params, 1e6, '.2f'),
            table_cell(r.head_flops, ref.head_flops, 1e9, '.2f'),
            table_cell(r.flops, ref.flops, 1e9, '.2f'),
            table_cell(r.forward_ms, ref.forward_ms, 1, '.1f'),
            table_cell(r.train_ms, ref.train_ms, 1, '.1f'),
            table_cell(r.forward_peak, ref.forward_peak, mib, '.0f'),
            table_cell(r.train_peak, ref.train_peak, mib, '.0f'),
        ]) + ' |')
    lines += [
        '', 'Ratios (in brackets) are to GCNHead. FLOPs are multiply-'
        'accumulates of one image (mmengine); times and peaks are for the '
        'whole batch; peaks are above the memory held before the pass or '
        'step.'
    ]
    lines += [f'[{i}] {n}' for i, n in enumerate(notes, 1)]
    return '\n'.join(lines)


def as_dict(result: BenchmarkResult) -> Dict[str, object]:
    """The result as plain data (e.g. for JSON)."""
    from dataclasses import asdict
    return asdict(result)


def _head_share(r: ModelResult) -> str:
    """The decode head's forward time and its share of the forward."""
    if r.head_ms is None or not r.forward_ms:
        return 'n/a'
    return f'{r.head_ms:.0f} ({100 * r.head_ms / r.forward_ms:.0f} %)'


def _variants_table(result: WholeModelResult) -> list:
    """Markdown lines: each model's other variants (bf16, onnxruntime) over
    the same model in the first precision with torch, at every size."""
    first = result.precisions[0]
    lines = [
        '', f'**Each model\'s variants over the same model in {first} '
        f'(torch)**', '',
        '| Size | Model | Variant | Forward | Train step | Decode head '
        '(% of forward) | Labels as fp32 (%) |', '|' + '---|' * 7
    ]
    for size_result in result.sizes:
        h, w = size_result.size
        base = {
            r.model: r
            for r in size_result.models
            if r.engine == 'torch' and r.precision == first
        }
        for r in size_result.models:
            ref = base.get(r.model)
            if ref is None or r is ref:
                continue
            same = 'n/a' if r.same_labels is None else \
                f'{r.same_labels:.2f}'
            lines.append('| ' + ' | '.join([
                f'{h} x {w}', r.title, r.variant,
                _ratio(r.forward_ms, ref.forward_ms).strip(' ()') or 'n/a',
                _ratio(r.train_ms, ref.train_ms).strip(' ()') or 'n/a',
                _head_share(r), same
            ]) + ' |')
    return lines


def format_whole_model_markdown(result: WholeModelResult) -> str:
    """The result as markdown: a settings line, then one table per size
    and, with more than one precision or onnxruntime, a table of each
    model's variants over its first precision.

    Args:
        result (WholeModelResult): A benchmark run.

    Returns:
        str: Markdown.
    """
    mib = 2.0**20
    ref_title = MODEL_SPECS[result.reference].title
    several = len(result.precisions) > 1 or result.onnxruntime
    precisions = ', '.join(
        p + (' (torch.autocast)' if p == 'bf16' else '')
        for p in result.precisions)
    mode = ', '.join([precisions] +
                     (['onnxruntime fp32'] if result.onnxruntime else []) +
                     (['channels_last'] if result.channels_last else []))
    lines = [
        f'{result.device} ({result.machine}; torch threads: '
        f'{result.threads}), torch {result.torch_version}, {mode}; forward '
        f'batch {result.forward_batch}, training batch {result.batch}; '
        f'median of {result.repeats} interleaved rounds after '
        f'{result.warmup} warm-up run(s); {result.num_classes} classes; '
        f'random weights; {result.date}; whole run '
        f'{format_duration(result.seconds)}.'
    ]
    with_mfu = bool(result.peak_tflops)
    header = [
        'Model', 'Params (M)', 'GFLOPs', 'Forward (ms)',
        'Decode head (% of forward)', 'Train step (ms)',
        'Forward peak (MiB)', 'Train peak (MiB)'
    ]
    if with_mfu:
        header += ['Forward MFU', 'Train MFU']
    header.append('VOC val mIoU (published)')
    notes = []
    for size_result in result.sizes:
        h, w = size_result.size
        ref = next(r for r in size_result.models
                   if r.model == result.reference)
        lines += [
            '', f'**{h} x {w}**', '', '| ' + ' | '.join(header) + ' |',
            '|' + '---|' * len(header)
        ]
        for r in size_result.models:
            name = f'{r.title} · {r.variant}' if several else r.title
            if r.note:
                notes.append(f'{name} at {h} x {w}: {r.note}.')
                name += f' [{len(notes)}]'
            cells = [
                name,
                table_cell(r.params, ref.params, 1e6, '.1f'),
                table_cell(r.flops, ref.flops, 1e9, '.1f'),
                table_cell(r.forward_ms, ref.forward_ms, 1, '.0f'),
                _head_share(r),
                table_cell(r.train_ms, ref.train_ms, 1, '.0f'),
                table_cell(r.forward_peak, ref.forward_peak, mib, '.0f'),
                table_cell(r.train_peak, ref.train_peak, mib, '.0f'),
            ]
            if with_mfu:
                cells += [
                    table_cell(r.forward_mfu, None, 0.01, '.1f') + ' %',
                    table_cell(r.train_mfu, None, 0.01, '.1f') + ' %'
                ]
            published = result.published.get(r.model)
            cells.append('' if published is None else
                         f'{published["miou"]:.2f} ({published["source"]})')
            lines.append('| ' + ' | '.join(cells) + ' |')
    if several:
        lines += _variants_table(result)
    lines += [
        '', f'Ratios (in brackets) are to {ref_title}'
        f'{" in " + result.precisions[0] if several else ""}. FLOPs are '
        'mmengine\'s multiply-accumulates of one image\'s logits (auxiliary '
        'heads do not run at test time); times and peaks are for the whole '
        'batch; peaks are above the memory held before the pass or step '
        '(weights, SGD momentum). mIoU: "mmseg" from its metafile (VOC 2012 '
        '+ SBD, 512 x 512, 40k iterations), "paper" the GCN paper\'s own '
        'number, not a model of this package.'
    ]
    if several:
        lines.append(
            'bf16: torch.autocast (weights in fp32). onnxruntime: the model '
            'exported to ONNX (fp32, static shape) in onnxruntime\'s CPU '
            'session with as many threads as torch; forward only, no peak '
            'memory. Labels as fp32: the share of pixel labels (argmax) '
            'equal to the same model\'s fp32 torch forward on the same '
            'random input (random weights give near-ties; trained weights '
            'usually agree more).')
    if with_mfu:
        peaks = ', '.join(f'{t:g} TFLOP/s ({p})'
                          for p, t in result.peak_tflops.items())
        lines.append(
            f'MFU: 2 FLOPs per multiply-accumulate over a peak of {peaks}; '
            f'a training step counted as {TRAIN_FORWARD_EQUIVALENTS} forward '
            f'passes.')
    lines += [f'[{i}] {n}' for i, n in enumerate(notes, 1)]
    return '\n'.join(lines)


def whole_model_as_dict(result: WholeModelResult) -> Dict[str, object]:
    """The result as plain data (e.g. for JSON)."""
    return asdict(result)


def plot_accuracy_vs_cost(result: WholeModelResult, path: str) -> None:
    """A PNG of published VOC val mIoU against the cost measured here:
    GFLOPs and forward latency at 512 x 512 (or the first size measured).

    mmseg's models are plotted with its metafile's mIoU; GCN with the
    paper's, marked as such. Models without a published mIoU are left out.

    Args:
        result (WholeModelResult): A benchmark run.
        path (str): Where to write the PNG.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    size_result = next(
        (s for s in result.sizes if tuple(s.size) == (512, 512)),
        result.sizes[0])
    h, w = size_result.size
    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    axes_spec = ((axes[0], 'flops', 1e9, f'GFLOPs (one {h} x {w} image)'),
                 (axes[1], 'forward_ms', 1.0,
                  f'forward latency (ms, batch {result.forward_batch}, '
                  f'{h} x {w}, {result.device})'))
    styles = dict(mmseg=dict(marker='o',
                             color='tab:blue',
                             label='mmseg (metafile mIoU)'),
                  paper=dict(marker='*',
                             color='tab:red',
                             s=160,
                             label="GCN (the paper's mIoU, not ours)"))
    points = [(r, result.published[r.model]) for r in size_result.models
              if r.model in result.published and r.engine == 'torch'
              and r.precision == result.precisions[0]]
    # alternate labels above and below, in order of mIoU, so that models
    # of about the same accuracy do not print over each other
    points.sort(key=lambda p: -p[1]['miou'])
    for ax, key, scale, xlabel in axes_spec:
        labelled = set()
        for i, (r, published) in enumerate(points):
            x = getattr(r, key)
            if x is None:
                continue
            style = dict(styles[published['source']])
            if published['source'] in labelled:
                style.pop('label')
            labelled.add(published['source'])
            ax.scatter(x / scale, published['miou'], **style)
            title = r.title + (" (paper's mIoU)"
                               if published['source'] == 'paper' else '')
            ax.annotate(title, (x / scale, published['miou']),
                        textcoords='offset points',
                        xytext=(5, 4 if i % 2 == 0 else -11),
                        fontsize=8)
        ax.set_xlabel(xlabel)
        ax.set_ylabel('PASCAL VOC 2012 val mIoU (%), published')
        ax.grid(alpha=0.3)
        ax.margins(x=0.25, y=0.15)  # room for the labels
        if labelled:
            ax.legend(loc='best', fontsize=8)
    fig.suptitle('Published accuracy vs cost measured here (random weights, '
                 f'{result.machine}, {result.date})')
    fig.text(
        0.5,
        0.005,
        'mmseg: metafile.yaml, VOC 2012 + SBD, 512x512, 40k iterations, '
        'single scale. GCN: the paper (Table 5 R152, Table 6 R50), trained '
        'by its authors.',
        ha='center',
        fontsize=8)
    fig.tight_layout(rect=(0, 0.03, 1, 0.95))
    fig.savefig(path, dpi=120)
    plt.close(fig)
