"""Plans equal to the reference's (issue 11 §1). For every across-scales sweep config of the reference, the planned
(gap, stitcher) set, each job's adapter series, frozen flags, folder names, metadata and shared runs (`same_as`)
equal a table derived here from the rule in the reference's README (§2, "The shape sequence of a recipe (exact)"),
without calling stitchbook's recipes."""
import re
from pathlib import Path
import pytest, yaml
from stitchbook.config import load_config
from stitchbook.formats import Format, parse_format
from stitchbook.sweep import plan, write_jobs
from shared import reference_configs

def _is_sweep(p): return not hasattr(p, 'read_text') or re.search(r'^(src_)?stages:', p.read_text(), re.M)
SWEEPS = [p for p in reference_configs('across-scales') if _is_sweep(p)]      # not the included gap and stitcher lists

# The README's rule, written out. Per kind: class on image-like formats, class on tokens, kernel size, nonlinearity.
KINDS = {'linear': ('SimpleAdapter', 'SimpleAdapter', 1, False),
         'linear_relu': ('SimpleAdapter', 'SimpleAdapter', 1, True),
         '3x3conv': ('SimpleAdapter', None, 3, True), 'conv3x3': ('SimpleAdapter', None, 3, True),
         'bottleneck': ('ResNetBottleneck', None, None, None),
         'block': ('ResNetBasicBlock', 'VisionTransformerBlock', None, None)}
IMAGE_LIKE = ('img', 'bhwc')

def reference_series(stitcher:str, src:Format, dst:Format, k:int):
    "`(adapters, destination in-format)` by the README's rule; None when the recipe opts out."
    kind = re.sub(r'^downsample_then_|_no_downsample$|_with_downsample$|_post_downsample$', '', stitcher)
    keep, strided = stitcher.endswith('_no_downsample'), stitcher.endswith('_with_downsample')
    reads_start = strided or stitcher == 'linear_post_downsample'       # z = s[j]; the others resize first: z = s[j+1]
    image = src.layout in IMAGE_LIKE or dst.layout in IMAGE_LIKE
    Ci = 2 * src.C if src.layout == 'bert' and image else src.C          # a class token entering an image: channels
    Co, Si, So = dst.C, src.H, src.H if keep else dst.H                  # _no_downsample: the destination runs at Si
    n = max(k, 1)
    c = [min(Ci * 2**i, Co) if Co >= Ci else max(Ci // 2**i, Co) for i in range(n + 1)]
    s = [max(Si // 2**i, So) for i in range(n + 1)]
    c[-1], s[-1] = Co, So
    on_image, on_tokens, kernel, relu = KINDS[kind]
    cls = on_image if image else on_tokens
    strides = [s[j] // s[j + 1] if strided else 1 for j in range(n)]
    if cls is None or (not image and max(strides) > 1): return None     # the kind cannot take token formats
    simple = cls == 'SimpleAdapter'
    z = [s[j] if reads_start else s[j + 1] for j in range(n)]
    adapters = [(cls, c[j], c[j + 1], strides[j], Format('img' if image else src.layout, c[j], z[j], z[j]),
                 kernel if simple else None, relu if simple else None) for j in range(n)]
    return adapters, Format(dst.layout, Co, So, So)

def _planned_series(parts:list)->list:
    "The adapters of a job config as the same tuples (stitchbook leaves out `stride: 1`)."
    out = []
    for p in parts:
        (cls, a), = p.items()
        simple = cls == 'SimpleAdapter'
        out.append((cls, a.get('in_channels', a.get('embed_dim')), a.get('out_channels', a.get('embed_dim')),
                    a.get('stride', 1), parse_format(a['in_format']),
                    a.get('kernel_size', 1) if simple else None, a.get('nonlinearity', True) if simple else None))
    return out

def _finetune(cfg, src, dst, first, last):
    "The parts finetune keeps (the gap's downsampling blocks at positions 2, 4, 6 of one network), or None."
    fmt = lambda part, key: parse_format(part['Subnet'][key])
    kept = [i for i in range(first, last + 1) if i >= 2 and i % 2 == 0] if 'stages' in cfg else []
    chain = [fmt(src[first - 1], 'out_format')] + [fmt(dst[i], 'out_format') for i in kept]
    lines_up = (chain[-1] == fmt(dst[last + 1], 'in_format')
                and all(fmt(dst[i], 'in_format') == f for i, f in zip(kept, chain)))
    return ('finetune', (*range(first), *kept, *range(last + 1, len(dst)))) if lines_up else None

def _expected(cfg:dict)->dict:
    "`{(first, last, stitcher): (adapters or 'finetune', key of the model) or None}` for every gap x stitcher."
    src, dst = cfg.get('stages') or cfg['src_stages'], cfg.get('stages') or cfg['dest_stages']
    out = {}
    for g in cfg['gaps']:
        first, last = g['blocks_to_drop']
        s_fmt = parse_format(src[first - 1]['Subnet']['out_format'])
        d_fmt = parse_format(dst[last + 1]['Subnet']['in_format'])
        for st in cfg['stitchers']:
            if st == 'finetune': out[(first, last, st)] = _finetune(cfg, src, dst, first, last); continue
            r = reference_series(st, s_fmt, d_fmt, g['num_downsamples'])
            out[(first, last, st)] = None if r is None else (r[0], (first, last, tuple(r[0]), r[1]))
    return out

def _check_stitch(row, series, key, src, dst, first, last):
    "One planned job against its derived adapters: parts, frozen flags, the destination's formats."
    parts = row.config['assembly']
    nets, adapters = [q for q in parts if 'Subnet' in q], [q for q in parts if 'Subnet' not in q]
    assert [q['Subnet']['block_input'] for q in nets[:first]] == [q['Subnet']['block_input'] for q in src[:first]]
    if series == 'finetune':
        assert adapters == [] and all(q['Subnet']['frozen'] is False for q in nets), row.folder
        return
    assert _planned_series(adapters) == series, (row.folder, _planned_series(adapters), series)
    assert not any(next(iter(q.values())).get("frozen", False) for q in adapters)          # adapters train
    assert all(q['Subnet']['frozen'] is True for q in nets)                                  # the networks do not
    top = nets[first:]                                                                       # the destination's parts
    assert [q['Subnet']['block_input'] for q in top] == [q['Subnet']['block_input'] for q in dst[last + 1:]]
    assert parse_format(top[0]['Subnet']['in_format']) == key[-1]
    if key[-1].H != parse_format(dst[last + 1]['Subnet']['in_format']).H:   # _no_downsample: sizes stripped
        later = [q['Subnet'][f] for i, q in enumerate(top) for f in ('in_format', 'out_format')
                 if f in q['Subnet'] and (i, f) != (0, 'in_format')]
        assert all(parse_format(f).H is None for f in later), row.folder

@pytest.mark.parametrize('path', SWEEPS, ids=lambda p: getattr(p, 'name', 'none'))
def test_plan_equals_the_reference_rule(path, tmp_path):
    cfg = load_config(path)
    p = plan(path, tmp_path)
    jobs = p[p.role == 'stitch']
    want = _expected(cfg)
    planned = {(r.first_deleted_block, r.last_deleted_block, r.adapter): r for r in jobs.itertuples()}
    assert set(planned) == set(want) and len(jobs) == len(want)   # every gap x stitcher, once
    assert {k for k, v in planned.items() if v.applies} == {k for k, v in want.items() if v is not None}
    src, dst = cfg.get('stages') or cfg['src_stages'], cfg.get('stages') or cfg['dest_stages']
    first_of = {}                                                                             # model key -> first job
    for (first, last, st), w in want.items():
        if w is None: continue
        row, (series, key) = planned[(first, last, st)], w
        _check_stitch(row, series, key, src, dst, first, last)
        name = f"train-{path.stem}-gap-{first},{last}-adapter-{st}"
        assert row.folder == str(tmp_path/cfg.get('project', 'across-scales')/path.stem/name)
        assert row.same_as == first_of.get(key, ''), (name, row.same_as)   # identical jobs share a run
        first_of.setdefault(key, name)
    by_name = {Path(r.folder).name: r for r in planned.values()}
    k_of = {tuple(g['blocks_to_drop']): g['num_downsamples'] for g in cfg['gaps']}
    written = [f for f in write_jobs(p, pretrained=False) if f.name in by_name]
    assert len(written) == sum(w is not None for w in want.values())
    for f in written:
        m, r = yaml.safe_load((f/'metadata.yml').read_text()), by_name[f.name]
        assert list(m)[:5] == ['arch', 'first_deleted_block', 'last_deleted_block', 'num_downsamples', 'adapter']
        assert (m['first_deleted_block'], m['last_deleted_block'], m['adapter'], m['same_as']) == \
               (r.first_deleted_block, r.last_deleted_block, r.adapter, r.same_as)
        assert m['num_downsamples'] == k_of[(r.first_deleted_block, r.last_deleted_block)]
