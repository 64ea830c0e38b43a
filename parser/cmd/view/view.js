/*
 * view.js - the page `weft view` writes: reads the trace's data (the JSON
 * in #weft-data, made by view_data.c) and draws the timeline (canvas), a
 * slice's details, the tables of weft stats and the lock-order graph
 * (SVG).  With #selftest in the address it also drives itself (a click on
 * a slice, on a table's header and row) and writes what it saw into
 * <pre id="selftest"> for the tests; with #show=KIND it opens with the
 * longest wait of that kind chosen.
 */
'use strict';

const pageErrors = [];
window.addEventListener('error', (e) => pageErrors.push(String(e.message)));
window.addEventListener('unhandledrejection', (e) => pageErrors.push(String(e.reason)));
const cspViolations = [];
document.addEventListener('securitypolicyviolation',
	(e) => cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));

const D = JSON.parse(document.getElementById('weft-data').textContent);
const STR = D.strings;
const KINDS = D.kinds;
const SL = D.slices;
const FL = D.flows;
const NSLICES = SL.b.length;

const COLORS = {
	running: '#8fd19e', syscall: '#f0ad4e', sleep: '#a9c1e0', mutex: '#d9534f',
	rwlock: '#a93226', cond: '#8e6cc0', barrier: '#3a87ad', sem: '#e377c2',
	join: '#7f7f7f', once: '#bcbd22', unknown: '#d0d0d0',
};
const kindColor = (k) => COLORS[KINDS[k]] || '#999';

const LANE_H = 20;
const AXIS_H = 24;
const LABEL_W = 180;
/* Slices drawn one by one below this many in view; summaries above. */
const DETAIL_LIMIT = 40000;
const ARROW_LIMIT = 3000;

/* ---- words and numbers ---- */

function fmtNs(ns) {
	const a = Math.abs(ns);
	if (a >= 1e9) return (ns / 1e9).toPrecision(3) + ' s';
	if (a >= 1e6) return (ns / 1e6).toPrecision(3) + ' ms';
	if (a >= 1e3) return (ns / 1e3).toPrecision(3) + ' us';
	return Math.round(ns) + ' ns';
}

function el(tag, attrs, ...children) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (k === 'class') e.className = v;
		else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
		else e.setAttribute(k, v);
	}
	for (const c of children)
		if (c !== null && c !== undefined)
			e.append(c instanceof Node ? c : String(c));
	return e;
}

const several = D.processes.length > 1;

function laneLabel(l) {
	const lane = D.lanes[l];
	const t = STR[lane.label];
	return several ? D.processes[lane.p].pid + ' ' + t : t;
}

function objectName(o) {
	return o < 0 ? '' : D.objects[o].name;
}

/* What a slice was: "mutex qm", "write fd 3", "join T4". */
function sliceName(i) {
	const kind = KINDS[SL.k[i]];
	if (SL.sys[i] >= 0) {
		const call = STR[SL.sys[i]];
		return SL.arg[i] === null ? call : call + ' ' + SL.arg[i];
	}
	if (kind === 'join') return 'join T' + SL.arg[i];
	if (SL.obj[i] >= 0) {
		const mode = SL.flags[i] & 2 ? ' read' : SL.flags[i] & 4 ? ' write' : '';
		return kind + mode + ' ' + objectName(SL.obj[i]);
	}
	return kind;
}

function sliceEvent(i) {
	const kind = KINDS[SL.k[i]];
	switch (kind) {
	case 'syscall': return 'blocking system call';
	case 'sleep': return 'sleep';
	case 'unknown': return 'unknown (events were lost)';
	case 'join': return 'waiting to join a thread';
	default: return 'waiting on a ' + kind;
	}
}

/* ---- the timeline's data, by lane ---- */

const laneSlices = D.lanes.map(() => []);
for (let i = 0; i < NSLICES; i++) laneSlices[SL.lane[i]].push(i);
const laneMaxDur = laneSlices.map((list) => {
	list.sort((a, b) => SL.b[a] - SL.b[b]);
	let m = 0;
	for (const i of list) if (SL.d[i] > m) m = SL.d[i];
	return m;
});

/* The first slice of a lane that may reach past t. */
function firstFrom(list, t) {
	let lo = 0, hi = list.length;
	while (lo < hi) {
		const mid = (lo + hi) >> 1;
		if (SL.b[list[mid]] < t) lo = mid + 1;
		else hi = mid;
	}
	return lo;
}

/* ---- the timeline ---- */

const canvas = document.getElementById('timeline');
const ctx = canvas.getContext('2d');
const wrap = document.getElementById('timeline-wrap');
const space = document.getElementById('timeline-space');
const view = { t0: 0, t1: Math.max(D.span, 1) };
let chosen = -1;             /* the slice whose details are shown */
let marked = null;           /* slices a table row leads to: Set */
let markedLane = -1;
let plotW = 800;

/* Lanes scroll under the axis: only those in view are drawn. */
function laneY(l) { return AXIS_H + l * LANE_H - wrap.scrollTop; }
function lanesInView() {
	const first = Math.max(0, Math.floor(wrap.scrollTop / LANE_H));
	const last = Math.min(D.lanes.length - 1,
		Math.floor((wrap.scrollTop + canvas.height / (window.devicePixelRatio || 1) - AXIS_H) / LANE_H));
	return [first, last];
}

function X(t) { return LABEL_W + (t - view.t0) * plotW / (view.t1 - view.t0); }
function T(x) { return view.t0 + (x - LABEL_W) * (view.t1 - view.t0) / plotW; }

function resize() {
	const dpr = window.devicePixelRatio || 1;
	const w = Math.max(wrap.clientWidth, 400);
	const total = AXIS_H + D.lanes.length * LANE_H + 4;
	const h = Math.min(total, Math.max(240, Math.floor(window.innerHeight * 0.7)));
	space.style.height = total + 'px';
	wrap.style.height = h + 'px';
	canvas.width = Math.round(w * dpr);
	canvas.height = Math.round(h * dpr);
	canvas.style.width = w + 'px';
	canvas.style.height = h + 'px';
	ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
	plotW = w - LABEL_W - 4;
	draw();
}

function niceStep(raw) {
	const p = Math.pow(10, Math.floor(Math.log10(raw)));
	for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
	return 10 * p;
}

function drawAxis(w) {
	ctx.fillStyle = '#f3f5f7';
	ctx.fillRect(0, 0, w, AXIS_H);
	ctx.strokeStyle = '#ccc';
	ctx.beginPath();
	ctx.moveTo(0, AXIS_H - 0.5);
	ctx.lineTo(w, AXIS_H - 0.5);
	ctx.stroke();
	const step = niceStep((view.t1 - view.t0) / Math.max(plotW / 110, 1));
	ctx.fillStyle = '#333';
	ctx.font = '11px system-ui, sans-serif';
	ctx.textBaseline = 'middle';
	for (let t = Math.ceil(view.t0 / step) * step; t <= view.t1; t += step) {
		const x = Math.round(X(t)) + 0.5;
		ctx.fillRect(x, AXIS_H - 6, 1, 6);
		ctx.fillText(fmtNs(t), x + 3, AXIS_H / 2);
	}
	document.getElementById('range').textContent =
		fmtNs(view.t0) + ' \u2013 ' + fmtNs(view.t1) + ' (' + fmtNs(view.t1 - view.t0) + ')';
}

/* The level whose buckets are about a pixel wide, or null when even the
 * finest is wider than a few pixels (then only detail is drawn). */
function summaryLevel() {
	const pxPerNs = plotW / (view.t1 - view.t0);
	let best = null;
	for (const lv of D.levels)
		if (lv.width * pxPerNs >= 1 && (!best || lv.width < best.width)) best = lv;
	if (!best) best = D.levels[D.levels.length - 1];
	return best;
}

function detailInView() {
	return NSLICES * (view.t1 - view.t0) / Math.max(D.span, 1);
}

function drawSummary(lv, l, y) {
	const cells = lv.lanes[l];
	const h = LANE_H - 4;
	const first = Math.max(0, Math.floor(view.t0 / lv.width));
	const last = Math.ceil(view.t1 / lv.width);
	/* Triples [bucket, kind, permille], by bucket. */
	let lo = 0, hi = cells.length / 3;
	while (lo < hi) {
		const mid = (lo + hi) >> 1;
		if (cells[mid * 3] < first) lo = mid + 1;
		else hi = mid;
	}
	let bucket = -1, used = 0;
	for (let j = lo * 3; j < cells.length && cells[j] <= last; j += 3) {
		if (cells[j] !== bucket) {
			bucket = cells[j];
			used = 0;
		}
		const x0 = X(bucket * lv.width), x1 = X((bucket + 1) * lv.width);
		const bh = Math.max(1, h * cells[j + 2] / 1000);
		ctx.fillStyle = kindColor(cells[j + 1]);
		ctx.fillRect(x0, y + 2 + h - used - bh, Math.max(1, x1 - x0), bh);
		used += bh;
	}
}

function drawDetail(l, y, dim) {
	const list = laneSlices[l];
	let j = firstFrom(list, view.t0 - laneMaxDur[l]);
	let lastX = -1, lastK = -1;
	for (; j < list.length; j++) {
		const i = list[j];
		if (SL.b[i] > view.t1) break;
		if (SL.b[i] + SL.d[i] < view.t0) continue;
		const x0 = X(SL.b[i]), x1 = X(SL.b[i] + SL.d[i]);
		const w = Math.max(1, x1 - x0);
		if (Math.floor(x0 + w) <= lastX && SL.k[i] === lastK) continue;
		lastX = Math.floor(x0 + w);
		lastK = SL.k[i];
		ctx.globalAlpha = dim && !marked.has(i) ? 0.3 : 1;
		ctx.fillStyle = kindColor(SL.k[i]);
		ctx.fillRect(x0, y + 2, w, LANE_H - 4);
	}
	ctx.globalAlpha = 1;
}

function outline(i, style, width) {
	const y = laneY(SL.lane[i]);
	const x0 = X(SL.b[i]), x1 = X(SL.b[i] + SL.d[i]);
	ctx.strokeStyle = style;
	ctx.lineWidth = width;
	ctx.strokeRect(x0 - 1, y + 1, Math.max(2, x1 - x0 + 2), LANE_H - 2);
	ctx.lineWidth = 1;
}

function arrow(x0, y0, x1, y1, style, width) {
	ctx.strokeStyle = style;
	ctx.fillStyle = style;
	ctx.lineWidth = width;
	ctx.beginPath();
	ctx.moveTo(x0, y0);
	ctx.lineTo(x1, y1);
	ctx.stroke();
	const a = Math.atan2(y1 - y0, x1 - x0);
	ctx.beginPath();
	ctx.moveTo(x1, y1);
	ctx.lineTo(x1 - 7 * Math.cos(a - 0.4), y1 - 7 * Math.sin(a - 0.4));
	ctx.lineTo(x1 - 7 * Math.cos(a + 0.4), y1 - 7 * Math.sin(a + 0.4));
	ctx.fill();
	ctx.lineWidth = 1;
}

function flowArrow(f, style, width) {
	const yc = (l) => laneY(l) + LANE_H / 2;
	arrow(X(FL.fb[f]), yc(FL.from[f]), X(FL.tb[f]), yc(FL.to[f]), style, width);
}

/* Arrows into the slices in view, when there are few enough. */
function drawArrows() {
	const inView = [];
	for (let f = 0; f < FL.tb.length; f++) {
		if (FL.tb[f] < view.t0 || FL.fb[f] > view.t1) continue;
		inView.push(f);
		if (inView.length > ARROW_LIMIT) return;
	}
	for (const f of inView) flowArrow(f, 'rgba(30,30,30,0.55)', 1);
}

function draw() {
	const w = canvas.width / (window.devicePixelRatio || 1);
	const h = canvas.height / (window.devicePixelRatio || 1);
	ctx.clearRect(0, 0, w, h);
	const detail = detailInView() <= DETAIL_LIMIT ||
		D.levels[0].width * plotW / (view.t1 - view.t0) >= 4;
	const lv = summaryLevel();
	ctx.save();
	ctx.beginPath();
	ctx.rect(LABEL_W, AXIS_H, plotW, h - AXIS_H);
	ctx.clip();
	const [first, last] = lanesInView();
	for (let l = first; l <= last; l++) {
		const y = laneY(l);
		if (l === markedLane) {
			ctx.fillStyle = '#fff3c4';
			ctx.fillRect(LABEL_W, y, plotW, LANE_H);
		}
		const lane = D.lanes[l];
		ctx.fillStyle = COLORS.running;
		ctx.fillRect(X(lane.begin), y + 2, Math.max(1, X(lane.end) - X(lane.begin)), LANE_H - 4);
		if (!detail || D.omitted > 0) drawSummary(lv, l, y);
		if (detail) drawDetail(l, y, marked !== null);
	}
	if (detail) drawArrows();
	if (marked && marked.size <= DETAIL_LIMIT)
		for (const i of marked) outline(i, '#000', 1);
	if (chosen >= 0) {
		outline(chosen, '#0050d0', 2);
		if (SL.flow[chosen] >= 0) flowArrow(SL.flow[chosen], '#0050d0', 2);
	}
	ctx.restore();
	ctx.fillStyle = '#fff';
	ctx.fillRect(0, AXIS_H, LABEL_W, h - AXIS_H);
	ctx.font = '12px system-ui, sans-serif';
	ctx.textBaseline = 'middle';
	for (let l = first; l <= last; l++) {
		const y = laneY(l);
		ctx.fillStyle = l === markedLane ? '#8a6d00' : '#222';
		ctx.fillText(laneLabel(l), 6, y + LANE_H / 2, LABEL_W - 10);
		ctx.fillStyle = '#eee';
		ctx.fillRect(0, y + LANE_H - 1, w, 1);
	}
	drawAxis(w);
}

function zoomTo(t0, t1) {
	const min = 1000;
	if (t1 - t0 < min) {
		const c = (t0 + t1) / 2;
		t0 = c - min / 2;
		t1 = c + min / 2;
	}
	view.t0 = t0;
	view.t1 = t1;
	draw();
}

function zoomAround(t, factor) {
	zoomTo(t - (t - view.t0) * factor, t + (view.t1 - t) * factor);
}

function pan(fraction) {
	const d = (view.t1 - view.t0) * fraction;
	zoomTo(view.t0 + d, view.t1 + d);
}

const fit = () => zoomTo(0, Math.max(D.span, 1));

/* The slice under a point: the shortest one there (the innermost), with
 * a few pixels of slack for slices drawn a pixel wide. */
function sliceAt(x, y) {
	const l = Math.floor((y - AXIS_H + wrap.scrollTop) / LANE_H);
	if (y < AXIS_H || l < 0 || l >= D.lanes.length || x < LABEL_W) return -1;
	const t = T(x), slack = 3 * (view.t1 - view.t0) / plotW;
	const list = laneSlices[l];
	let best = -1;
	for (let j = firstFrom(list, t - laneMaxDur[l] - slack); j < list.length; j++) {
		const i = list[j];
		if (SL.b[i] > t + slack) break;
		if (SL.b[i] + SL.d[i] + slack < t) continue;
		if (best < 0 || SL.d[i] < SL.d[best]) best = i;
	}
	return best;
}

function row(name, ...value) {
	return el('tr', null, el('th', null, name), el('td', null, ...value));
}

function siteBlock(s) {
	return s >= 0 ? el('div', { class: 'site' }, STR[s]) : el('span', { class: 'none' }, 'no stack recorded');
}

function showDetails(i) {
	chosen = i;
	const box = document.getElementById('details');
	box.textContent = '';
	if (i < 0) {
		box.append(el('p', { class: 'none' }, 'Click a slice for its details.'));
		draw();
		return;
	}
	const t = el('table');
	t.append(row('event', sliceEvent(i)));
	if (SL.obj[i] >= 0) {
		const o = D.objects[SL.obj[i]];
		t.append(row('object', o.name + ' (' + (o.kind || KINDS[SL.k[i]]) + ' at ' + o.addr + ')'));
	}
	t.append(row('thread', laneLabel(SL.lane[i])));
	t.append(row('began', fmtNs(SL.b[i])));
	t.append(row('duration', fmtNs(SL.d[i]) + (SL.flags[i] & 1 ? ' (its end was not seen)' : '')));
	if (SL.sys[i] >= 0) t.append(row('returned', String(SL.ret[i])));
	if (SL.err[i] >= 0) t.append(row('error', STR[SL.err[i]]));
	t.append(row('stack', siteBlock(SL.site[i])));
	const f = SL.flow[i];
	if (f >= 0) {
		const what = STR[FL.what[f]];
		t.append(row('released by', laneLabel(FL.from[f]) + ': ' + what +
			(FL.obj[f] >= 0 ? ' ' + objectName(FL.obj[f]) : '') + ' at ' + fmtNs(FL.fb[f]) +
			', ' + fmtNs(FL.tb[f] - FL.fb[f]) + ' before the wake-up'));
		t.append(row(what === 'unlock' || what === 'wait' ? 'releaser took it at' : 'releaser stack',
			FL.site[f] >= 0 ? siteBlock(FL.site[f])
				: el('span', { class: 'none' }, 'not recorded (releases carry no stack)')));
	} else {
		t.append(row('released by', el('span', { class: 'none' }, 'no wake-up seen (not a wait another thread ended)')));
	}
	box.append(el('h3', null, sliceName(i)), t);
	draw();
}

function setupTimeline() {
	let drag = null;
	canvas.addEventListener('wheel', (e) => {
		e.preventDefault();
		const r = canvas.getBoundingClientRect();
		/* Over the names (or with shift) the wheel scrolls the lanes. */
		if (e.shiftKey || e.clientX - r.left < LABEL_W)
			wrap.scrollTop += e.deltaY || e.deltaX;
		else
			zoomAround(T(e.clientX - r.left), Math.exp(e.deltaY * 0.0015));
	}, { passive: false });
	canvas.addEventListener('mousedown', (e) => {
		drag = { x: e.clientX, t0: view.t0, t1: view.t1, moved: false };
		canvas.style.cursor = 'grabbing';
	});
	window.addEventListener('mousemove', (e) => {
		if (!drag) return;
		const dx = e.clientX - drag.x;
		if (Math.abs(dx) > 3) drag.moved = true;
		if (!drag.moved) return;
		const dt = dx * (drag.t1 - drag.t0) / plotW;
		view.t0 = drag.t0 - dt;
		view.t1 = drag.t1 - dt;
		draw();
	});
	window.addEventListener('mouseup', (e) => {
		if (!drag) return;
		const moved = drag.moved;
		drag = null;
		canvas.style.cursor = 'grab';
		if (moved || e.target !== canvas) return;
		const r = canvas.getBoundingClientRect();
		showDetails(sliceAt(e.clientX - r.left, e.clientY - r.top));
	});
	canvas.addEventListener('keydown', (e) => {
		const c = (view.t0 + view.t1) / 2;
		switch (e.key) {
		case '+': case '=': zoomAround(c, 0.5); break;
		case '-': case '_': zoomAround(c, 2); break;
		case '0': fit(); break;
		case 'ArrowLeft': pan(-0.2); break;
		case 'ArrowRight': pan(0.2); break;
		default: return;
		}
		e.preventDefault();
	});
	document.getElementById('zoom-in').onclick = () => zoomAround((view.t0 + view.t1) / 2, 0.5);
	document.getElementById('zoom-out').onclick = () => zoomAround((view.t0 + view.t1) / 2, 2);
	document.getElementById('zoom-fit').onclick = fit;
	window.addEventListener('resize', resize);
	wrap.addEventListener('scroll', draw);
	const legend = document.getElementById('legend');
	const used = new Set([0]);
	for (let i = 0; i < NSLICES; i++) used.add(SL.k[i]);
	for (const lv of D.levels)
		for (const cells of lv.lanes)
			for (let j = 1; j < cells.length; j += 3) used.add(cells[j]);
	for (const k of [...used].sort((a, b) => a - b))
		legend.append(el('span', null, el('i', { style: 'background:' + kindColor(k) }), KINDS[k]));
}

/* ---- tables ---- */

/* The slices a table row leads to: marks them, zooms to them. */
function lead(test, lane) {
	marked = new Set();
	let lo = Infinity, hi = -Infinity;
	for (let i = 0; i < NSLICES; i++)
		if (test(i)) {
			marked.add(i);
			lo = Math.min(lo, SL.b[i]);
			hi = Math.max(hi, SL.b[i] + SL.d[i]);
		}
	markedLane = lane;
	if (lane >= 0 && !marked.size) {
		lo = D.lanes[lane].begin;
		hi = D.lanes[lane].end;
	}
	if (lo <= hi) {
		const pad = Math.max((hi - lo) * 0.05, 1000);
		zoomTo(lo - pad, hi + pad);
	} else {
		draw();
	}
	if (lane >= 0) wrap.scrollTop = Math.max(0, lane * LANE_H - wrap.clientHeight / 2);
	document.getElementById('timeline-section').scrollIntoView();
	return marked.size;
}

const TABLE_ROWS = 500;

const numCell = (v, f) => el('td', { class: 'num' }, v === null || v === undefined ? '-' : f ? f(v) : v);

/* A sortable table: columns [title, value(row), format or null]. */
function table(title, columns, rows, onRow) {
	const box = el('div', { class: 'table-box' }, el('h2', null, title));
	if (!rows.length) {
		box.append(el('p', { class: 'none' }, 'none'));
		return box;
	}
	const t = el('table', { class: 'stats' });
	const head = el('tr');
	const body = el('tbody');
	let sortCol = -1, up = false;
	const more = el('p', { class: 'more' });
	function fill() {
		body.textContent = '';
		more.textContent = rows.length > TABLE_ROWS ? 'the first ' + TABLE_ROWS + ' of ' +
			rows.length + ' rows (sort by a column to see others)' : '';
		for (const r of rows.slice(0, TABLE_ROWS)) {
			const tr = el('tr');
			for (const [, value, f] of columns) {
				const v = value(r);
				tr.append(typeof v === 'number' || v === null ? numCell(v, f) : el('td', null, v));
			}
			tr.addEventListener('click', () => {
				for (const c of t.querySelectorAll('tr.chosen')) c.classList.remove('chosen');
				tr.classList.add('chosen');
				onRow(r);
			});
			body.append(tr);
		}
	}
	columns.forEach(([name, value], c) => {
		const th = el('th', null, name);
		th.addEventListener('click', () => {
			up = sortCol === c ? !up : false;
			sortCol = c;
			const cmp = (a, b) => {
				const x = value(a), y = value(b);
				if (x === y) return 0;
				if (x === null) return 1;
				if (y === null) return -1;
				return (x < y ? -1 : 1) * (up ? 1 : -1);
			};
			rows.sort(cmp);
			for (const h of head.children) h.className = '';
			th.className = up ? 'sorted-up' : 'sorted-down';
			fill();
		});
		head.append(th);
	});
	t.append(el('thead', null, head), body);
	fill();
	box.append(t, more);
	return box;
}

function setupTables() {
	const box = document.getElementById('tables');
	const threads = [], locks = [], waits = [], calls = [];
	D.processes.forEach((p, pi) => {
		for (const t of p.threads) threads.push(Object.assign({ p: pi }, t));
		for (const o of p.objects) (o.lock ? locks : waits).push(Object.assign({ p: pi }, o));
		for (const s of p.syscalls) calls.push(Object.assign({ p: pi }, s));
	});
	const pid = several ? [['pid', (r) => D.processes[r.p].pid, null]] : [];
	const kindCols = [];
	KINDS.forEach((k, i) => {
		if (threads.some((t) => t.in[i] > 0) || i === 0) kindCols.push([k, (r) => r.in[i], fmtNs]);
	});
	box.append(table('Threads, by time off CPU', pid.concat([
		['thread', (r) => laneLabel(r.lane), null],
		['alive', (r) => r.alive, fmtNs],
	], kindCols, [
		['on cpu', (r) => r.cpu, fmtNs],
		['off cpu', (r) => r.off_cpu, fmtNs],
	]), threads, (r) => lead((i) => SL.lane[i] === r.lane, r.lane)));
	box.append(table('Locks, by time threads waited for them', pid.concat([
		['lock', (r) => objectName(r.obj), null],
		['kind', (r) => r.kind, null],
		['acquired', (r) => r.acquisitions, null],
		['contended', (r) => r.contended, null],
		['wait', (r) => r.wait, fmtNs],
		['max wait', (r) => r.max_wait, fmtNs],
		['held', (r) => r.held, fmtNs],
		['max held', (r) => r.max_held, fmtNs],
		['blocked most at', (r) => r.site || '', null],
	]), locks, (r) => lead((i) => SL.obj[i] === r.obj, -1)));
	box.append(table('Other waits (condvars, semaphores, barriers)', pid.concat([
		['object', (r) => objectName(r.obj), null],
		['kind', (r) => r.kind, null],
		['waits', (r) => r.waits, null],
		['total', (r) => r.wait, fmtNs],
		['max', (r) => r.max_wait, fmtNs],
		['waited most at', (r) => r.site || '', null],
	]), waits, (r) => lead((i) => SL.obj[i] === r.obj, -1)));
	box.append(table('System calls, by total time blocked', pid.concat([
		['call', (r) => r.call, null],
		['fd', (r) => r.fd, null],
		['calls', (r) => r.calls, null],
		['errors', (r) => r.errors, null],
		['total', (r) => r.total, fmtNs],
		['p50', (r) => r.p50, fmtNs],
		['p99', (r) => r.p99, fmtNs],
		['max', (r) => r.max, fmtNs],
	]), calls, (r) => lead((i) => SL.sys[i] >= 0 && STR[SL.sys[i]] === r.call &&
		D.lanes[SL.lane[i]].p === r.p && (r.fd === null || SL.arg[i] === r.fd), -1)));
}

/* ---- the lock-order graph ---- */

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, text) {
	const e = document.createElementNS(SVG, tag);
	for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
	if (text !== undefined) e.textContent = text;
	return e;
}

const MAX_NODES = 150;

function lockGraph(p, pi) {
	const g = p.lockorder;
	const box = el('div', { class: 'graph' });
	if (several) box.append(el('h3', null, D.processes[pi].title));
	if (!g.edges.length) {
		box.append(el('p', { class: 'none' }, 'No thread took a lock while holding another.'));
		return box;
	}
	const onCycle = new Map();   /* "from>to" -> guarded? */
	const cycleNodes = new Set();
	for (const c of g.cycles)
		c.locks.forEach((a, i) => {
			const b = c.locks[(i + 1) % c.locks.length];
			const key = a + '>' + b;
			onCycle.set(key, (onCycle.get(key) ?? true) && c.guarded);
			cycleNodes.add(a);
		});
	let nodes = [...new Set(g.edges.flatMap((e) => [e.from, e.to]))];
	let edges = g.edges;
	if (nodes.length > MAX_NODES) {
		nodes = nodes.filter((n) => cycleNodes.has(n));
		edges = edges.filter((e) => cycleNodes.has(e.from) && cycleNodes.has(e.to));
		box.append(el('p', { class: 'none' }, g.edges.length + ' edges between too many locks to draw: only those on cycles are.'));
	}
	const W = 640, H = Math.max(260, Math.min(640, 120 + nodes.length * 30));
	const R = Math.min(W, H) / 2 - 80;
	const pos = new Map();
	nodes.forEach((n, i) => {
		const a = 2 * Math.PI * i / Math.max(nodes.length, 1) - Math.PI / 2;
		pos.set(n, [W / 2 + R * Math.cos(a), H / 2 + R * Math.sin(a)]);
	});
	const s = svg('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: 'lockgraph' });
	const defs = svg('defs');
	for (const [id, color] of [['arrow', '#888'], ['arrow-cycle', '#c0392b'], ['arrow-guarded', '#e08e0b']]) {
		const m = svg('marker', { id, viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7,
			markerHeight: 7, orient: 'auto-start-reverse' });
		m.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: color }));
		defs.append(m);
	}
	s.append(defs);
	const NODE_R = 14;
	for (const e of edges) {
		const [x0, y0] = pos.get(e.from), [x1, y1] = pos.get(e.to);
		const key = e.from + '>' + e.to;
		const cls = !onCycle.has(key) ? '' : onCycle.get(key) ? ' guarded' : ' cycle';
		/* Curved, so A->B and B->A are two lines. */
		const dx = x1 - x0, dy = y1 - y0, len = Math.hypot(dx, dy) || 1;
		const ux = dx / len, uy = dy / len;
		const mx = (x0 + x1) / 2 - uy * 30, my = (y0 + y1) / 2 + ux * 30;
		const sx = x0 + ux * NODE_R, sy = y0 + uy * NODE_R;
		const ex = x1 - ux * NODE_R, ey = y1 - uy * NODE_R;
		const path = svg('path', { class: 'edge' + cls, d: `M${sx},${sy} Q${mx},${my} ${ex},${ey}`,
			'marker-end': 'url(#' + (cls === ' cycle' ? 'arrow-cycle' : cls ? 'arrow-guarded' : 'arrow') + ')' });
		path.append(svg('title', null, objectName(e.from) + ' \u2192 ' + objectName(e.to) +
			': ' + e.count + ' time' + (e.count === 1 ? '' : 's') + ', threads ' +
			e.threads.map((t) => 'T' + t).join(' ')));
		s.append(path);
	}
	for (const n of nodes) {
		const [x, y] = pos.get(n);
		const gn = svg('g', { class: 'node' + (cycleNodes.has(n) ? ' in-cycle' : '') });
		gn.append(svg('circle', { cx: x, cy: y, r: NODE_R }));
		const right = x >= W / 2;
		gn.append(svg('text', { x: x + (right ? 18 : -18), y: y + 4, 'text-anchor': right ? 'start' : 'end' },
			objectName(n)));
		s.append(gn);
	}
	box.append(s);
	const list = el('ol', { class: 'cycle-list' });
	for (const c of g.cycles) {
		const names = c.locks.concat([c.locks[0]]).map(objectName).join(' \u2192 ');
		const li = el('li', { class: 'cycle' + (c.guarded ? ' guarded' : '') },
			c.guarded ? 'guarded cycle ' : el('span', { class: 'deadlock' }, 'potential deadlock '), names);
		const steps = el('ul');
		c.edges.forEach((e, i) => steps.append(el('li', null,
			'T' + e.thread + ' took ' + objectName(c.locks[(i + 1) % c.locks.length]) +
			' while holding ' + objectName(c.locks[i]) + ' (holding since ',
			el('span', { class: 'site' }, e.held_at), '; taken at ',
			el('span', { class: 'site' }, e.taken_at), ')')));
		li.append(steps);
		list.append(li);
	}
	box.append(g.cycles.length ? list : el('p', { class: 'none' }, 'No cycle: the locks are always taken in one order.'));
	if (g.cycles_stopped) box.append(el('p', { class: 'none' }, 'The search for cycles stopped early: there may be more.'));
	return box;
}

function setupLockOrder() {
	const box = document.getElementById('lockorder');
	box.append(el('h2', null, 'Lock order (an edge A \u2192 B: a thread took B while holding A)'));
	D.processes.forEach((p, i) => box.append(lockGraph(p, i)));
}

/* ---- the page ---- */

function setupHeader() {
	const p = D.processes;
	document.getElementById('title').textContent = 'weft view: ' +
		(p.length === 1 ? p[0].title : p.length + ' processes');
	document.title = 'weft view: ' + (p.length === 1 ? p[0].file : p.length + ' traces');
	const notes = [fmtNs(D.span), D.lanes.length + ' threads',
		NSLICES + ' of ' + D.slices_total + ' slices in detail'];
	if (D.omitted) notes.push('the ' + D.omitted + ' shortest are in the summaries only');
	for (const q of p) {
		if (q.verdict !== 'complete') notes.push(q.file + ': ' + q.verdict);
		if (q.lost) notes.push(q.file + ': ' + q.lost + ' events lost');
	}
	document.getElementById('summary').textContent = notes.join(' \u00b7 ') + ' \u00b7 weft ' + D.version;
}

/* ---- #selftest: the page drives itself and says what it saw ---- */

function clickAt(x, y) {
	const r = canvas.getBoundingClientRect();
	const opts = { bubbles: true, clientX: r.left + x, clientY: r.top + y, button: 0 };
	canvas.dispatchEvent(new MouseEvent('mousedown', opts));
	canvas.dispatchEvent(new MouseEvent('mouseup', opts));
}

/* Clicks, in its middle, the longest wait another thread ended (of the
 * kind named, when one is), zoomed so that it fills a third of the view. */
function showLongest(kindName) {
	const kind = KINDS.indexOf(kindName);
	let pick = -1;
	for (let i = 0; i < NSLICES; i++)
		if (SL.flow[i] >= 0 && (kind < 0 || SL.k[i] === kind) && (pick < 0 || SL.d[i] > SL.d[pick])) pick = i;
	if (pick < 0 && NSLICES) pick = 0;
	if (pick < 0) return -1;
	zoomTo(SL.b[pick] - SL.d[pick], SL.b[pick] + 2 * SL.d[pick]);
	wrap.scrollTop = Math.max(0, SL.lane[pick] * LANE_H - LANE_H);
	draw();
	clickAt(X(SL.b[pick] + SL.d[pick] / 2), laneY(SL.lane[pick]) + LANE_H / 2);
	return pick;
}

function selftest() {
	const out = { errors: pageErrors, csp: cspViolations, ready_ms: readyMs };
	out.resources = performance.getEntriesByType('resource').map((e) => e.name);
	out.lanes = D.lanes.map((l, i) => laneLabel(i));
	out.slices = NSLICES;
	out.slices_total = D.slices_total;
	out.kinds = {};
	for (let i = 0; i < NSLICES; i++) out.kinds[KINDS[SL.k[i]]] = (out.kinds[KINDS[SL.k[i]]] || 0) + 1;
	out.names = {};
	for (let i = 0; i < NSLICES; i++) out.names[sliceName(i)] = (out.names[sliceName(i)] || 0) + 1;
	out.shortest_shown = SL.d.reduce((a, b) => Math.min(a, b), Infinity);
	out.flows = FL.tb.length;
	out.title = document.title;
	out.summary = document.getElementById('summary').textContent;
	const pick = showLongest(location.hash.split('=')[1]);
	if (pick >= 0)
		out.clicked = { slice: pick, name: sliceName(pick), chosen: chosen,
			details: document.getElementById('details').innerText };
	fit();
	/* Zoom and pan: keys, the wheel, a drag. */
	const span = () => [view.t0, view.t1];
	const key = (k) => canvas.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true }));
	const r = canvas.getBoundingClientRect();
	const mid = { clientX: r.left + LABEL_W + plotW / 2, clientY: r.top + AXIS_H + 5, bubbles: true };
	out.moves = { fit: span() };
	key('+');
	out.moves.plus = span();
	key('ArrowRight');
	out.moves.right = span();
	key('-');
	out.moves.minus = span();
	canvas.dispatchEvent(new WheelEvent('wheel', Object.assign({ deltaY: -200, cancelable: true }, mid)));
	out.moves.wheel = span();
	canvas.dispatchEvent(new MouseEvent('mousedown', mid));
	window.dispatchEvent(new MouseEvent('mousemove', Object.assign({}, mid, { clientX: mid.clientX + 100 })));
	window.dispatchEvent(new MouseEvent('mouseup', Object.assign({}, mid, { clientX: mid.clientX + 100 })));
	out.moves.drag = span();
	out.moves.plot_width = plotW;
	key('0');
	out.moves.zero = span();
	const tables = [...document.querySelectorAll('#tables .table-box')];
	out.tables = tables.map((b) => ({ title: b.querySelector('h2').textContent,
		rows: b.querySelectorAll('tbody tr').length,
		columns: [...b.querySelectorAll('th')].map((th) => th.textContent) }));
	/* Sort the locks by contention, then lead from the first lock row. */
	const locks = tables.find((b) => b.querySelector('h2').textContent.startsWith('Locks'));
	if (locks && locks.querySelector('tbody tr')) {
		const th = [...locks.querySelectorAll('th')].find((h) => h.textContent === 'wait');
		th.click();
		out.lock_sort = [...locks.querySelectorAll('tbody tr')].map((tr) => tr.children[0].textContent);
		locks.querySelector('tbody tr').click();
		out.lock_row_marked = marked ? marked.size : 0;
		out.lock_row_view = [view.t0, view.t1];
	}
	/* Every row of every table (up to 50): its cells, and what it leads to. */
	out.rows = {};
	for (const b of tables) {
		const title = b.querySelector('h2').textContent;
		out.rows[title] = [...b.querySelectorAll('tbody tr')].slice(0, 50).map((tr) => {
			tr.click();
			return { cells: [...tr.children].map((td) => td.textContent),
				marked: marked.size, lane: markedLane };
		});
	}
	/* The threads sorted by time alive, longest first, then shortest. */
	const threadsBox = tables.find((b) => b.querySelector('h2').textContent.startsWith('Threads'));
	const alive = [...threadsBox.querySelectorAll('th')].find((h) => h.textContent === 'alive');
	const firstColumn = () => [...threadsBox.querySelectorAll('tbody tr')].map((tr) => tr.children[0].textContent);
	alive.click();
	out.alive_down = firstColumn();
	alive.click();
	out.alive_up = firstColumn();
	out.graph = [...document.querySelectorAll('#lockorder svg')].map((s) => ({
		nodes: s.querySelectorAll('.node').length,
		edges: s.querySelectorAll('.edge').length,
		cycle_edges: s.querySelectorAll('.edge.cycle').length,
		cycle_nodes: [...s.querySelectorAll('.node.in-cycle text')].map((t) => t.textContent),
	}));
	out.cycles = [...document.querySelectorAll('#lockorder li.cycle')].map((li) => li.firstChild.textContent + li.childNodes[1].textContent);
	fit();
	document.body.append(el('pre', { id: 'selftest' }, JSON.stringify(out)));
}

setupHeader();
setupTimeline();
setupTables();
setupLockOrder();
resize();
/* From the start of loading to a drawn page, for the tests. */
const readyMs = performance.now();
/* #show=KIND opens with the longest such wait chosen. */
if (location.hash.startsWith('#show')) showLongest(location.hash.split('=')[1]);
if (location.hash.startsWith('#selftest')) {
	try {
		selftest();
	} catch (e) {
		pageErrors.push('selftest: ' + e);
		document.body.append(el('pre', { id: 'selftest' }, JSON.stringify({ errors: pageErrors })));
	}
}
