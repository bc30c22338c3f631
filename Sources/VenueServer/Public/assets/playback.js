// Playing back a room's recordings, for the admin pages and the invigilator console: a timeline per camera shows
// what was recorded (segments) and where there is no video (gaps, each with its reason); a click on the timeline
// or on a segment plays from there, and playback runs on into the next segment. `at` (milliseconds) jumps to a
// moment, e.g. an incident's. A range of one camera can be downloaded as one MP4.
// Segments stream from /api/rooms/{roomId}/recordings/{cameraId}/{fileName} (signed in by the staff cookie, with
// byte ranges for seeking).
//
// data-testid hooks: playback-none, playback-error, playback-timeline-{cameraId} (data-segments, data-gaps; click
//   to play from a moment), playback-gap-{cameraId}-{index} (data-reason), playback-segment-{cameraId}-{fileName}
//   (row; data-recovered, data-uploaded), playback-play-{cameraId}-{fileName}, playback-video (data-file, data-camera
//   once a segment is loaded), playback-now, playback-export-{cameraId} (form), playback-export-from-{cameraId},
//   playback-export-to-{cameraId}, playback-export-link-{cameraId}

import { h, replaceChildren, formatBytes, formatDateTime, formatTime, pad2 } from './dom.js';
import { t } from './i18n.js';

const enc = encodeURIComponent;

export function today() {
  const now = new Date();
  return `${now.getFullYear()}-${pad2(now.getMonth() + 1)}-${pad2(now.getDate())}`;
}

/** YYYY-MM-DD of a moment in local time. */
export function dayOf(millis) {
  const d = new Date(millis);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
}

function gapWords(reason) {
  const key = `playback.reason.${reason}`;
  const text = t(key);
  return text === key ? reason : text;
}

/** HH:MM:SS of a moment, for a time input with seconds. */
function clockValue(millis) {
  const d = new Date(millis);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** The moment of `hhmmss` on the day that starts at `dayStart`. */
function atClock(dayStart, hhmmss) {
  const [hours, minutes, seconds] = String(hhmmss).split(':').map((part) => Number.parseInt(part, 10) || 0);
  const d = new Date(dayStart);
  d.setHours(hours, minutes, seconds, 0);
  return d.getTime();
}

/** A bar from `from` to `to` with the segments and gaps placed by time; onPick(millis) on a click. */
function timelineBar(cameraId, segments, gaps, from, to, onPick) {
  const span = Math.max(1, to - from);
  const place = (start, end) => `left:${((start - from) / span) * 100}%;width:${Math.max(0.3, ((end - start) / span) * 100)}%`;
  const bar = h('div', { class: 'timeline', testid: `playback-timeline-${cameraId}`, dataset: { segments: String(segments.length), gaps: String(gaps.length), from, to } },
    segments.map((s) => h('span', { class: 'timeline-seg', style: place(s.startedAt, s.endedAt), title: `${formatTime(s.startedAt)}–${formatTime(s.endedAt)}` })),
    gaps.map((g, i) => h('span', {
      class: 'timeline-gap', testid: `playback-gap-${cameraId}-${i}`, dataset: { reason: g.reason }, style: place(g.from, g.to),
      title: `${formatTime(g.from)}–${formatTime(g.to)} ${gapWords(g.reason)}`,
    })));
  bar.addEventListener('click', (event) => {
    const box = bar.getBoundingClientRect();
    onPick(from + ((event.clientX - box.left) / Math.max(1, box.width)) * span);
  });
  return bar;
}

/**
 * The recordings of `roomId` on the day starting at local midnight `dayStart` (milliseconds), into `container`.
 * call(path) is the page's API call; errorBox(error, testid) renders an error; `at` jumps to a moment.
 */
export async function showRoomPlayback({ container, roomId, dayStart, at, call, errorBox }) {
  const video = h('video', { class: 'playback-video', testid: 'playback-video', controls: true, muted: true, playsInline: true, preload: 'metadata' });
  const now = h('p', { class: 'muted small', testid: 'playback-now', i18n: 'playback.pick' });
  const body = h('div', {}, h('p', { class: 'muted', i18n: 'common.loading' }));
  replaceChildren(container, h('div', { class: 'playback-player' }, video, now), body);
  const from = dayStart;
  const to = from + 24 * 3600 * 1000;
  let timeline;
  let cameras;
  try {
    [timeline, cameras] = await Promise.all([
      call(`/api/rooms/${enc(roomId)}/recordings?from=${from}&to=${to}`),
      call(`/api/rooms/${enc(roomId)}/cameras`),
    ]);
  } catch (error) {
    replaceChildren(body, errorBox(error, 'playback-error'));
    return;
  }
  if (!timeline.segments.length && !timeline.gaps.length) {
    replaceChildren(body, h('p', { class: 'muted', testid: 'playback-none', i18n: 'playback.none' }));
    return;
  }
  const names = new Map(cameras.map((c) => [c.camera.id, c.camera.name]));
  names.set(`upload-${roomId}`, t('playback.uploads'));
  const ids = [...new Set([...timeline.segments.map((s) => s.cameraId), ...timeline.gaps.map((g) => g.cameraId)])];
  // The bars span the recorded part of the day, not all 24 hours, so that short recordings stay visible.
  const times = [...timeline.segments.flatMap((s) => [s.startedAt, s.endedAt]), ...timeline.gaps.flatMap((g) => [g.from, g.to])];
  const first = Math.min(...times);
  const last = Math.max(...times);
  const segmentsOf = (id) => timeline.segments.filter((s) => s.cameraId === id).sort((a, b) => a.startedAt - b.startedAt);

  let current = null;
  /** Plays `segment` from `offset` seconds. */
  const play = (segment, offset = 0) => {
    current = segment;
    video.src = `/api/rooms/${enc(roomId)}/recordings/${enc(segment.cameraId)}/${enc(segment.fileName)}`;
    video.dataset.file = segment.fileName;
    video.dataset.camera = segment.cameraId;
    video.dataset.startedAt = String(segment.startedAt);
    video.addEventListener('loadedmetadata', () => {
      if (offset > 0) video.currentTime = Math.min(offset, Math.max(0, video.duration - 0.1));
      video.play().catch(() => {});
    }, { once: true });
    now.textContent = `${names.get(segment.cameraId) || segment.cameraId} · ${formatDateTime(segment.startedAt)} – ${formatTime(segment.endedAt)}`;
  };
  /** Plays camera `id` at the moment `millis`, or from the next recorded moment if there is no video then. */
  const playAt = (id, millis) => {
    const list = segmentsOf(id);
    const inside = list.find((s) => s.startedAt <= millis && millis < s.endedAt);
    if (inside) {
      play(inside, (millis - inside.startedAt) / 1000);
      return;
    }
    const next = list.find((s) => s.startedAt > millis);
    const gap = timeline.gaps.find((g) => g.cameraId === id && g.from <= millis && millis < g.to);
    if (next) play(next);
    if (gap) now.textContent = `${t('playback.gapAt', { time: formatTime(millis) })}：${gapWords(gap.reason)}`;
    else if (!next) now.textContent = t('playback.nothingAt', { time: formatTime(millis) });
  };
  // Playback runs on into the camera's next segment.
  video.addEventListener('ended', () => {
    if (!current) return;
    const list = segmentsOf(current.cameraId);
    const next = list[list.findIndex((s) => s.fileName === current.fileName) + 1];
    if (next) play(next);
  });

  replaceChildren(body, ids.map((id) => {
    const segments = segmentsOf(id);
    const gaps = timeline.gaps.filter((g) => g.cameraId === id);
    return h('section', { class: 'playback-camera' },
      h('h2', {}, names.get(id) || id),
      h('div', { class: 'timeline-scale small muted' }, h('span', {}, formatTime(first)), h('span', {}, formatTime(last))),
      timelineBar(id, segments, gaps, first, last, (millis) => playAt(id, millis)),
      gaps.length ? h('ul', { class: 'gap-list small' }, gaps.map((g) => h('li', {},
        h('span', { class: 'badge badge-danger', i18n: 'playback.gap' }), ' ',
        `${formatTime(g.from)} – ${formatTime(g.to)}：${gapWords(g.reason)}`))) : null,
      segments.length ? exportForm(roomId, id, dayStart, segments) : null,
      h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
        h('thead', {}, h('tr', {}, ['start', 'end', 'duration', 'size'].map((c) => h('th', { i18n: `playback.col.${c}` })), h('th', {}))),
        h('tbody', {}, segments.map((s) => {
          const button = h('button', { type: 'button', class: 'btn btn-small', testid: `playback-play-${id}-${s.fileName}`, i18n: 'playback.play' });
          button.addEventListener('click', () => play(s));
          return h('tr', { testid: `playback-segment-${id}-${s.fileName}`, dataset: { recovered: String(s.recovered), uploaded: String(Boolean(s.uploadedAt)) } },
            h('td', { class: 'nowrap' }, formatTime(s.startedAt)),
            h('td', { class: 'nowrap' }, formatTime(s.endedAt)),
            h('td', { class: 'num' }, `${s.duration.toFixed(1)} s`),
            h('td', { class: 'num' }, formatBytes(s.bytes), s.recovered ? [' ', h('span', { class: 'badge badge-warn', i18n: 'playback.recovered' })] : null),
            h('td', {}, button));
        })))));
  }));
  if (Number.isFinite(at) && at > 0) {
    const id = ids.find((c) => segmentsOf(c).some((s) => s.startedAt <= at && at < s.endedAt)) || ids[0];
    playAt(id, at);
  }
}

/** From/to times of the day and a link that downloads that range of one camera as one MP4. */
function exportForm(roomId, cameraId, dayStart, segments) {
  const fromInput = h('input', { class: 'input', type: 'time', step: 1, testid: `playback-export-from-${cameraId}`, value: clockValue(segments[0].startedAt) });
  const toInput = h('input', { class: 'input', type: 'time', step: 1, testid: `playback-export-to-${cameraId}`, value: clockValue(Math.ceil(segments[segments.length - 1].endedAt / 1000) * 1000) });
  const link = h('a', { class: 'btn btn-small', testid: `playback-export-link-${cameraId}`, i18n: 'playback.export', download: '' });
  const update = () => {
    const from = atClock(dayStart, fromInput.value);
    const to = atClock(dayStart, toInput.value);
    link.href = `/api/rooms/${enc(roomId)}/recordings/export?cameraId=${enc(cameraId)}&from=${from}&to=${to}`;
  };
  fromInput.addEventListener('input', update);
  toInput.addEventListener('input', update);
  update();
  return h('div', { class: 'row filters playback-export', testid: `playback-export-${cameraId}` },
    h('span', { class: 'small', i18n: 'playback.exportRange' }), fromInput, h('span', {}, '–'), toInput, link);
}
