"""The COCO -> VOC label converter on a hand-made COCO file with known
masks."""
import importlib.util
import os

import numpy as np
import pytest
from PIL import Image
from stages_helpers import REPO, uncompressed_rle, write_coco_json

from mmseg_gcn.datasets.coco_to_voc import (VOC_CLASSES, category_to_label,
                                            convert_split)
from mmseg_gcn.datasets.palette import voc_palette

H, W = 6, 8
L = {name: VOC_CLASSES.index(name) for name in VOC_CLASSES}


def rect(x0, y0, x1, y1):
    """A polygon covering pixels x0..x1-1 and y0..y1-1 (pycocotools'
    rasterisation of integer corners)."""
    return [[x0, y0, x1, y0, x1, y1, x0, y1]]


def box_mask(x0, y0, x1, y1):
    mask = np.zeros((H, W), bool)
    mask[y0:y1, x0:x1] = True
    return mask


def ann(ann_id, image_id, category_id, segmentation, iscrowd=0):
    return dict(id=ann_id, image_id=image_id, category_id=category_id,
                segmentation=segmentation, iscrowd=iscrowd, area=0.0,
                bbox=[0, 0, 1, 1])


def image(image_id):
    return dict(id=image_id, file_name=f'{image_id:012d}.jpg', height=H,
                width=W)


@pytest.fixture
def coco_root(tmp_path):
    """Image 1: a person (polygon) in front of a couch (RLE), a person crowd,
    and a laptop (not VOC). Image 2: only a truck and a laptop. Image 3: an
    airplane, a tv, a dining table, a potted plant and a motorcycle, with
    the same area for the last two (tie: the lower id is painted first).
    Image 4: only a crowd of people."""
    annotations = [
        # image 1
        ann(1, 1, 63, uncompressed_rle(box_mask(0, 2, 6, 6))),  # couch 24 px
        ann(2, 1, 1, rect(1, 1, 3, 4)),  # person 6 px, overlaps the couch
        ann(3, 1, 1, uncompressed_rle(box_mask(5, 0, 8, 2)), iscrowd=1),
        ann(4, 1, 73, rect(6, 3, 8, 6)),  # laptop: background
        ann(5, 1, 63, uncompressed_rle(box_mask(6, 1, 8, 2))),  # in crowd
        # image 2
        ann(6, 2, 8, rect(0, 0, 4, 4)),
        ann(7, 2, 73, rect(4, 0, 8, 4)),
        # image 3
        ann(8, 3, 5, rect(0, 0, 2, 2)),  # airplane
        ann(9, 3, 72, rect(2, 0, 4, 2)),  # tv
        ann(10, 3, 67, rect(4, 0, 8, 3)),  # dining table
        ann(12, 3, 64, rect(0, 3, 3, 5)),  # potted plant, 6 px, id 12
        ann(11, 3, 4, rect(1, 4, 4, 6)),  # motorcycle, 6 px, id 11
        # image 4
        ann(13, 4, 1, uncompressed_rle(box_mask(0, 0, 4, 4)), iscrowd=1),
    ]
    root = tmp_path / 'coco'
    write_coco_json(root / 'annotations' / 'instances_train2017.json',
                    [image(i) for i in (1, 2, 3, 4)], annotations)
    return root


def expected_labels():
    one = np.zeros((H, W), np.uint8)
    one[2:6, 0:6] = L['sofa']
    one[0:2, 5:8] = 255  # crowd
    one[1:2, 6:8] = L['sofa']  # a non-crowd object on the crowd
    one[1:4, 1:3] = L['person']  # smaller, on top of the sofa
    three = np.zeros((H, W), np.uint8)
    three[0:2, 0:2] = L['aeroplane']
    three[0:2, 2:4] = L['tvmonitor']
    three[0:3, 4:8] = L['diningtable']
    three[4:6, 1:4] = L['motorbike']  # id 11, painted first
    three[3:5, 0:3] = L['pottedplant']  # id 12, on top where they overlap
    return {'000000000001': one, '000000000003': three}


def read(path):
    with Image.open(path) as label:
        assert label.mode == 'P'
        assert label.getpalette()[:63] == voc_palette()[:63]
        return np.array(label)


def test_labels_and_list(coco_root):
    summary = convert_split(str(coco_root), 'train2017', show_progress=False)
    out = coco_root / 'voc_labels'
    assert (summary.num_images, summary.num_kept, summary.num_written,
            summary.num_existing) == (4, 2, 2, 0)
    assert (out / 'train2017.txt').read_text().split() == [
        '000000000001', '000000000003']
    assert sorted(p.name for p in (out / 'train2017').iterdir()) == [
        '000000000001.png', '000000000003.png']
    for stem, label in expected_labels().items():
        np.testing.assert_array_equal(
            read(out / 'train2017' / f'{stem}.png'), label)


def test_rerun_keeps_finished_labels_and_redoes_missing(coco_root):
    convert_split(str(coco_root), 'train2017', show_progress=False)
    out = coco_root / 'voc_labels' / 'train2017'
    kept = out / '000000000001.png'
    os.utime(kept, ns=(0, 0))
    (out / '000000000003.png').unlink()
    (out / '000000000003.png.123.tmp').write_bytes(b'partial')  # a crash
    summary = convert_split(str(coco_root), 'train2017', show_progress=False)
    assert (summary.num_kept, summary.num_written,
            summary.num_existing) == (2, 1, 1)
    assert kept.stat().st_mtime_ns == 0  # not written again
    assert sorted(p.name for p in out.iterdir()) == [
        '000000000001.png', '000000000003.png']
    np.testing.assert_array_equal(read(out / '000000000003.png'),
                                  expected_labels()['000000000003'])


def test_category_names_map_to_voc():
    from stages_helpers import COCO_CATEGORIES
    mapping = category_to_label(COCO_CATEGORIES)
    assert len(mapping) == 20 and sorted(mapping.values()) == list(
        range(1, 21))
    assert mapping[5] == L['aeroplane'] and mapping[72] == L['tvmonitor']
    assert 8 not in mapping and 73 not in mapping  # truck, laptop
    with pytest.raises(ValueError, match='couch'):
        category_to_label([c for c in COCO_CATEGORIES if c['name'] != 'couch'])


def test_tool(coco_root, tmp_path, capsys):
    spec = importlib.util.spec_from_file_location(
        'coco_to_voc_tool',
        REPO / 'tools' / 'dataset_converters' / 'coco_to_voc.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = tmp_path / 'labels'
    assert tool.main([str(coco_root), '--splits', 'train2017', '--out-dir',
                      str(out), '--nproc', '2']) == 0
    assert '2 of 4 images have VOC classes' in capsys.readouterr().out
    for stem, label in expected_labels().items():
        np.testing.assert_array_equal(
            read(out / 'train2017' / f'{stem}.png'), label)
    # as from the command line: through the tools' one error entry
    assert tool.run_reporting_errors(
        lambda: tool.main([str(coco_root), '--splits', 'val2017'])) == 1
    err = capsys.readouterr().err
    assert err.startswith('error: ') and 'Traceback' not in err
    assert 'instances_val2017.json does not exist' in err
