"""The paper's ablation study of the pixel classifier as one command
(Fig. 4; Tables 1, 3 and 5 of "Large Kernel Matters").

Every *variant* is one decode-head setting of the same network (a ResNet-18
cut after res-3, the single-level head of Fig. 4, see
``configs/_base_/models/gcn_r18-s8_res3.py``), trained with the same data and
budget, over several seeds:

- Table 1: the 1x1 baseline (``1x1``) and GCN with k = 3 ... 15
  (``gcn-k3`` ... ``gcn-k15``), without Boundary Refinement;
- Table 3 (the paper's Tables 2 and 3): one k x k conv (``conv-k<k>``) and a
  stack of linear 3x3 convs (``stack-k<k>``) next to the GCN of the same k,
  for k = 3, 7, 11, 15, without BR;
- Table 5: the baseline and GCN k = 15, each with and without BR
  (``1x1-br``, ``gcn-k15-br``).

Any ``<classifier>[-k<k>][-br]`` name is a variant (e.g. ``gcn-k9-br``).

A *seed* is both the data generator's seed and the training seed, so the
spread over seeds covers both the data and the initialisation. The data of
each seed is generated into ``<work_dir>/data/<dataset>-seed<N>`` (kept when
it was already generated with the same arguments). Each run trains with
mmengine's Runner, in this process, in
``<work_dir>/runs/<dataset>/<variant>/seed<N>``, and ends by writing
``result.json`` (final val mIoU, boundary and internal accuracy of
``BoundaryAccuracyMetric``, head parameters, wall time). A rerun skips the
runs whose ``result.json`` is valid and made with the same settings; a run
interrupted before writing it restarts from the beginning.

The results are written as a markdown table next to the paper's numbers, a
plot of mIoU against k, and the raw numbers as JSON and CSV. The paper's
numbers are for PASCAL VOC 2012 val with a ResNet-152: compare directions
(does mIoU rise with k, does BR raise boundary accuracy), not values.
"""
from .report import (Summary, VariantSummary, format_markdown, save_plot,
                     summarize, summarize_runs, write_raw)
from .runs import (METRICS, RESULT_FILE, RESULT_FORMAT, RunSpec,
                   build_run_config, check_evaluator, config_digest,
                   load_result, record_run, run_settings)
from .study import StudyOptions, StudyProgress, StudyReport, run_study
from .variants import (DATASETS, PAPER_MIOU, PAPER_REGIONS, PAPER_TABLES,
                       AblationError, DataSet, PaperTable, Variant,
                       parse_variant, prepare_data, select_variants)

__all__ = [
    'AblationError', 'DATASETS', 'DataSet', 'METRICS', 'PAPER_MIOU',
    'PAPER_REGIONS', 'PAPER_TABLES', 'PaperTable', 'RESULT_FILE',
    'RESULT_FORMAT', 'RunSpec', 'StudyOptions', 'StudyProgress',
    'StudyReport', 'Summary', 'Variant', 'VariantSummary', 'build_run_config',
    'check_evaluator', 'config_digest', 'format_markdown', 'load_result',
    'parse_variant', 'prepare_data', 'record_run', 'run_settings',
    'run_study', 'save_plot', 'select_variants', 'summarize',
    'summarize_runs', 'write_raw'
]
