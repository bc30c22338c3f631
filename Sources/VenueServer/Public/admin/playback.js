// Venue admin: play back a room's recordings. Pick a room and a day: a timeline per camera shows what was recorded
// (segments) and where there is no video (gaps, each with its reason); the list below plays any segment in the page.
// Segments are fetched with the admin's token and played from memory (a segment is about a minute of video).
// Route: #playback?roomId=…&date=YYYY-MM-DD
//
// data-testid hooks: playback-room (select), playback-date, playback-show, playback-none, playback-error,
//   playback-timeline-{cameraId} (data-segments, data-gaps), playback-gap-{cameraId}-{index} (data-reason),
//   playback-segment-{cameraId}-{fileName} (row; data-recovered), playback-play-{cameraId}-{fileName},
//   playback-video (data-file once a segment is loaded), playback-now

import { fetchObjectURL } from '../assets/api.js';
import { h, replaceChildren, formatBytes, formatDateTime, formatTime, pad2 } from '../assets/dom.js';
import { t } from '../assets/i18n.js';
import { field } from '../assets/ui.js';
import { roomsOf } from './accounts.js';

const enc = encodeURIComponent;
let playing = null; // the object URL on show, freed when another segment is played or the page is left

function today() {
  const now = new Date();
  return `${now.getFullYear()}-${pad2(now.getMonth() + 1)}-${pad2(now.getDate())}`;
}

function gapWords(reason) {
  const key = `playback.reason.${reason}`;
  const text = t(key);
  return text === key ? reason : text;
}

/** A bar from `from` to `to` with the segments and gaps placed by time. */
function timelineBar(cameraId, segments, gaps, from, to) {
  const span = Math.max(1, to - from);
  const place = (start, end) => `left:${((start - from) / span) * 100}%;width:${Math.max(0.3, ((end - start) / span) * 100)}%`;
  return h('div', { class: 'timeline', testid: `playback-timeline-${cameraId}`, dataset: { segments: String(segments.length), gaps: String(gaps.length) } },
    segments.map((s) => h('span', { class: 'timeline-seg', style: place(s.startedAt, s.endedAt), title: `${formatTime(s.startedAt)}–${formatTime(s.endedAt)}` })),
    gaps.map((g, i) => h('span', {
      class: 'timeline-gap', testid: `playback-gap-${cameraId}-${i}`, dataset: { reason: g.reason }, style: place(g.from, g.to),
      title: `${formatTime(g.from)}–${formatTime(g.to)} ${gapWords(g.reason)}`,
    })));
}

/** ctx: {app, call(path, options), token(), tabs(key), errorBox(error, testid), sittings()}; query: URLSearchParams. */
export async function showPlayback(ctx, query) {
  if (playing) URL.revokeObjectURL(playing);
  playing = null;
  const body = h('div', {}, h('p', { class: 'muted', i18n: 'common.loading' }));
  const room = h('select', { class: 'input', testid: 'playback-room', id: 'playback-room' });
  const date = h('input', { class: 'input', type: 'date', testid: 'playback-date', id: 'playback-date', value: query.get('date') || today() });
  const show = h('button', { type: 'button', class: 'btn btn-primary', testid: 'playback-show', i18n: 'playback.show' });
  const video = h('video', { class: 'playback-video', testid: 'playback-video', controls: true, muted: true, playsInline: true });
  const now = h('p', { class: 'muted small', testid: 'playback-now', i18n: 'playback.pick' });
  replaceChildren(ctx.app, ctx.tabs('playback'), h('section', { class: 'card' },
    h('h1', { i18n: 'admin.tab.playback' }),
    h('div', { class: 'row filters' }, field('admin.cameras.room', room), field('playback.date', date), show),
    h('div', { class: 'playback-player' }, video, now),
    body));
  let rooms;
  try {
    rooms = roomsOf(await ctx.sittings());
  } catch (error) {
    replaceChildren(body, ctx.errorBox(error, 'playback-error'));
    return;
  }
  const chosen = query.get('roomId') || (rooms[0] && rooms[0].id) || '';
  replaceChildren(room, rooms.map((r) => h('option', { value: r.id, selected: r.id === chosen }, `${r.name}（${r.id}）`)));
  show.addEventListener('click', () => {
    window.location.hash = `#playback?roomId=${enc(room.value)}&date=${enc(date.value)}`;
  });
  if (!chosen) {
    replaceChildren(body, h('p', { class: 'muted', testid: 'playback-none', i18n: 'playback.none' }));
    return;
  }
  const day = new Date(`${date.value || today()}T00:00:00`);
  const from = day.getTime();
  const to = from + 24 * 3600 * 1000;
  let timeline;
  let cameras;
  try {
    [timeline, cameras] = await Promise.all([
      ctx.call(`/api/admin/rooms/${enc(chosen)}/recordings?from=${from}&to=${to}`),
      ctx.call('/api/admin/cameras'),
    ]);
  } catch (error) {
    replaceChildren(body, ctx.errorBox(error, 'playback-error'));
    return;
  }
  if (!timeline.segments.length && !timeline.gaps.length) {
    replaceChildren(body, h('p', { class: 'muted', testid: 'playback-none', i18n: 'playback.none' }));
    return;
  }
  const names = new Map(cameras.map((c) => [c.id, c.name]));
  const ids = [...new Set([...timeline.segments.map((s) => s.cameraId), ...timeline.gaps.map((g) => g.cameraId)])];
  // The bars span the recorded part of the day, not all 24 hours, so that short recordings stay visible.
  const times = [...timeline.segments.flatMap((s) => [s.startedAt, s.endedAt]), ...timeline.gaps.flatMap((g) => [g.from, g.to])];
  const first = Math.min(...times);
  const last = Math.max(...times);

  const play = async (segment, button) => {
    button.disabled = true;
    try {
      const url = await fetchObjectURL(`/api/admin/recordings/${enc(segment.cameraId)}/${enc(segment.fileName)}`, { token: ctx.token(), timeoutMs: 120000 });
      if (playing) URL.revokeObjectURL(playing);
      playing = url;
      video.src = url;
      video.dataset.file = segment.fileName;
      now.textContent = `${names.get(segment.cameraId) || segment.cameraId} · ${formatDateTime(segment.startedAt)} – ${formatTime(segment.endedAt)}`;
      await video.play().catch(() => {});
    } catch (error) {
      replaceChildren(now, ctx.errorBox(error, 'playback-error'));
    } finally {
      button.disabled = false;
    }
  };

  replaceChildren(body, ids.map((id) => {
    const segments = timeline.segments.filter((s) => s.cameraId === id);
    const gaps = timeline.gaps.filter((g) => g.cameraId === id);
    return h('section', { class: 'playback-camera' },
      h('h2', {}, names.get(id) || id),
      h('div', { class: 'timeline-scale small muted' }, h('span', {}, formatTime(first)), h('span', {}, formatTime(last))),
      timelineBar(id, segments, gaps, first, last),
      gaps.length ? h('ul', { class: 'gap-list small' }, gaps.map((g) => h('li', {},
        h('span', { class: 'badge badge-danger', i18n: 'playback.gap' }), ' ',
        `${formatTime(g.from)} – ${formatTime(g.to)}：${gapWords(g.reason)}`))) : null,
      h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
        h('thead', {}, h('tr', {}, ['start', 'end', 'duration', 'size'].map((c) => h('th', { i18n: `playback.col.${c}` })), h('th', {}))),
        h('tbody', {}, segments.map((s) => {
          const button = h('button', { type: 'button', class: 'btn btn-small', testid: `playback-play-${id}-${s.fileName}`, i18n: 'playback.play' });
          button.addEventListener('click', () => play(s, button));
          return h('tr', { testid: `playback-segment-${id}-${s.fileName}`, dataset: { recovered: String(s.recovered) } },
            h('td', { class: 'nowrap' }, formatTime(s.startedAt)),
            h('td', { class: 'nowrap' }, formatTime(s.endedAt)),
            h('td', { class: 'num' }, `${s.duration.toFixed(1)} s`),
            h('td', { class: 'num' }, formatBytes(s.bytes), s.recovered ? [' ', h('span', { class: 'badge badge-warn', i18n: 'playback.recovered' })] : null),
            h('td', {}, button));
        })))));
  }));
}
