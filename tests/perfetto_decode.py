# perfetto_decode.py - reads `weft export --format=perfetto` output with an
# independent decoder (protoc --decode against format/perfetto_trace.proto),
# rebuilds the slices per track as Perfetto would (names through each
# sequence's interned data and default track, begin and end paired in time
# order) and prints
# what the test asks for:
#   known PFTRACE PROTO_DIR MUTEX   (known_costs: tracks, the 50 ms wait, flows,
#                                    the lock's track, the blocked counter)
#   sessions PFTRACE PROTO_DIR      (two sessions: T2's waits, its sequence's clears)
#   processes PFTRACE PROTO_DIR     (several traces: a process track each, its
#                                    threads under it)
import ast, subprocess, sys


def decode(path, proto_dir):
    text = subprocess.run(['protoc', '-I', proto_dir, '--decode=perfetto.protos.Trace',
                           'perfetto_trace.proto'], stdin=open(path, 'rb'),
                          capture_output=True, check=True).stdout.decode('utf-8')
    root = {}
    stack = [root]
    for line in text.splitlines():
        line = line.strip()
        if line.endswith('{'):
            d = {}
            stack[-1].setdefault(line[:-1].strip(), []).append(d)
            stack.append(d)
        elif line == '}':
            stack.pop()
        elif line:
            k, v = line.split(': ', 1)
            v = ast.literal_eval(v) if v[0] == '"' else int(v) if v.lstrip('-').isdigit() else v
            stack[-1].setdefault(k, []).append(v)
    return root.get('packet', [])


def one(d, k, default=None):
    return d.get(k, [default])[0]


mode, path, proto_dir = sys.argv[1:4]
packets = decode(path, proto_dir)
tracks = {}
names = {}
events = []
cleared = {}
default_track = {}
descriptors = []
for i, p in enumerate(packets):
    seq = one(p, 'trusted_packet_sequence_id')
    if one(p, 'sequence_flags', 0) & 1:  # SEQ_INCREMENTAL_STATE_CLEARED
        names[seq] = {}
        cleared[seq] = cleared.get(seq, 0) + 1
    for d in p.get('trace_packet_defaults', []):
        default_track[seq] = one(one(d, 'track_event_defaults'), 'track_uuid')
    for idata in p.get('interned_data', []):
        for n in idata.get('event_names', []):
            names[seq][('e', one(n, 'iid'))] = one(n, 'name')
        for n in idata.get('debug_annotation_names', []):
            names[seq][('a', one(n, 'iid'))] = one(n, 'name')
    for td in p.get('track_descriptor', []):
        descriptors.append(td)
        th = one(td, 'thread')
        tracks[one(td, 'uuid')] = (one(th, 'thread_name') if th else one(td, 'name')) or ''
    for te in p.get('track_event', []):
        ev = {'ts': one(p, 'timestamp'), 'i': i, 'seq': seq, 'type': one(te, 'type'),
              'track': one(te, 'track_uuid', default_track.get(seq)), 'out': te.get('flow_ids', []),
              'in': te.get('terminating_flow_ids', []), 'args': {},
              'counter_value': one(te, 'counter_value')}
        if 'name_iid' in te:
            ev['name'] = names[seq][('e', one(te, 'name_iid'))]
        for a in te.get('debug_annotations', []):
            key = names[seq][('a', one(a, 'name_iid'))]
            ev['args'][key] = [v[0] for k, v in a.items() if k != 'name_iid'][0]
        events.append(ev)

# Slices per track in time order (file order among equal times).
slices = []
open_slices = {}
nesting = 1
for ev in sorted(events, key=lambda e: (e['ts'], e['i'])):
    st = open_slices.setdefault(ev['track'], [])
    if ev['type'] == 'TYPE_SLICE_BEGIN':
        s = dict(ev, end=None)
        st.append(s)
        slices.append(s)
    elif ev['type'] == 'TYPE_SLICE_END':
        if st:
            st.pop()['end'] = ev['ts']
        else:
            nesting = 0
    elif ev['type'] == 'TYPE_INSTANT':
        slices.append(dict(ev, end=ev['ts']))
nesting &= all(not st for st in open_slices.values())

# Every flow id: one start and one end, each on a slice; the end on the
# wait it ended (a slice that lasts until after the release).
starts, ends = {}, {}
for s in slices:
    for f in s['out']:
        starts.setdefault(f, []).append(s)
    for f in s['in']:
        ends.setdefault(f, []).append(s)
flows = int(len(starts) > 0 and set(starts) == set(ends) and
            all(len(v) == 1 for v in list(starts.values()) + list(ends.values())) and
            not any(e['out'] or e['in'] for e in events
                    if e['type'] not in ('TYPE_SLICE_BEGIN', 'TYPE_INSTANT')) and
            all(ends[f][0]['type'] == 'TYPE_SLICE_BEGIN' and
                starts[f][0]['ts'] <= ends[f][0]['end'] for f in starts if f in ends))

# One sequence per thread, no two threads on one.
seq_of = {}
for ev in events:
    if tracks.get(ev['track'], '').startswith('T'):
        seq_of.setdefault(ev['track'], set()).add(ev['seq'])
sequences = int(all(len(v) == 1 for v in seq_of.values()) and
                len(set(min(v) for v in seq_of.values())) == len(seq_of))
by_name = {v: k for k, v in tracks.items()}


def on(track_name, prefix):
    return [s for s in slices if tracks.get(s['track']) == track_name and
            s.get('name', '').startswith(prefix)]


if mode == 'known':
    waits = [s for s in on('T3 waiter', 'mutex ')
             if s['args'].get('address') == int(sys.argv[4], 16)]
    w = waits[0] if waits else None
    handoff = [f for f in starts if tracks[starts[f][0]['track']] == 'T2 holder' and
               f in ends and ends[f][0] is w]
    holds = [s for s in slices if tracks.get(s['track'], '').startswith('lock ') and
             s.get('name') == 'held by T2 (holder)' and s['end'] - s['ts'] >= 40000000]
    blocked = [e['counter_value'] for e in events if e['type'] == 'TYPE_COUNTER' and
               tracks.get(e['track']) == 'threads blocked']
    print(sorted(v for v in tracks.values() if v.startswith('T')), len(waits),
          int(bool(w) and w['end'] - w['ts'] >= 40000000), flows, len(handoff),
          sequences, nesting, len(holds), int(max(blocked, default=0) >= 1))
elif mode == 'sessions':
    t2 = [(s['name'], s['ts'], s['end'], s['args'].get('began_ns', 0)) for s in on('T2', 'mutex ')]
    print(t2, cleared.get(min(seq_of[by_name['T2']])), flows, sequences, nesting)
elif mode == 'processes':
    pids = {one(td, 'uuid'): one(one(td, 'process'), 'pid')
            for td in descriptors if 'process' in td}
    threads = [td for td in descriptors if 'thread' in td]
    under = all(pids.get(one(td, 'parent_uuid')) == one(one(td, 'thread'), 'pid')
                for td in threads)
    print(len(pids), int(len(threads) >= len(pids) and under), flows, sequences, nesting)
