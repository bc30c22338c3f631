// Venue admin: play back a room's recordings (assets/playback.js) and watch the rooms' cameras live
// (assets/liveview.js). Pick a room (and, for playback, a day).
// Routes: #playback?roomId=…&date=YYYY-MM-DD&at=millis, #live?roomId=…
//
// An admin may also bring a recording made by other means (a camera's own card, a separate recorder): the file is
// checked by the venue, cut into segments and filed as the room's recording from the start time given.
//
// data-testid hooks: playback-room (select), playback-date, playback-show, live-room (select), upload-file,
//   upload-start, upload-camera (select), upload-submit, upload-result (data-segments), upload-error; the rest in
//   assets/playback.js and assets/liveview.js.

import { h, pad2, replaceChildren } from '../assets/dom.js';
import { errorTexts } from '../assets/api.js';
import { setBilingualText, t } from '../assets/i18n.js';
import { dayOf, showRoomPlayback, today } from '../assets/playback.js';
import { showLiveGrid } from '../assets/liveview.js';
import { field } from '../assets/ui.js';
import { roomsOf } from './accounts.js';

const enc = encodeURIComponent;

/** A select of the venue's rooms with `chosen` selected; null (and an error shown in `body`) if they cannot be read. */
async function roomSelect(ctx, testid, chosen, body) {
  const select = h('select', { class: 'input', testid, id: testid });
  let rooms;
  try {
    rooms = roomsOf(await ctx.sittings());
  } catch (error) {
    replaceChildren(body, ctx.errorBox(error, 'playback-error'));
    return null;
  }
  const selected = chosen || (rooms[0] && rooms[0].id) || '';
  replaceChildren(select, rooms.map((r) => h('option', { value: r.id, selected: r.id === selected }, `${r.name}（${r.id}）`)));
  return select;
}

/** ctx: {app, call(path, options), token(), tabs(key), errorBox(error, testid), sittings(), onLeave(fn)}; query: URLSearchParams. */
export async function showPlayback(ctx, query) {
  const body = h('div', {}, h('p', { class: 'muted', i18n: 'common.loading' }));
  const at = Number(query.get('at'));
  const date = h('input', {
    class: 'input', type: 'date', testid: 'playback-date', id: 'playback-date',
    value: query.get('date') || (at > 0 ? dayOf(at) : today()),
  });
  const show = h('button', { type: 'button', class: 'btn btn-primary', testid: 'playback-show', i18n: 'playback.show' });
  const filters = h('div', { class: 'row filters' });
  replaceChildren(ctx.app, ctx.tabs('playback'), h('section', { class: 'card' }, h('h1', { i18n: 'admin.tab.playback' }), filters, body));
  const room = await roomSelect(ctx, 'playback-room', query.get('roomId'), body);
  if (!room) return;
  replaceChildren(filters, field('admin.cameras.room', room), field('playback.date', date), show);
  show.addEventListener('click', () => {
    window.location.hash = `#playback?roomId=${enc(room.value)}&date=${enc(date.value)}`;
  });
  if (!room.value) {
    replaceChildren(body, h('p', { class: 'muted', testid: 'playback-none', i18n: 'playback.none' }));
    return;
  }
  const uploadCard = h('section', { class: 'card' });
  ctx.app.appendChild(uploadCard);
  showUploadForm(ctx, uploadCard, room.value);
  await showRoomPlayback({
    container: body, roomId: room.value, dayStart: new Date(`${date.value || today()}T00:00:00`).getTime(),
    at, call: ctx.call, errorBox: ctx.errorBox,
  });
}

/** The value of a datetime-local input for a moment, to the second. */
function localInputValue(millis) {
  const d = new Date(millis);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}T${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** Upload of a recording made by other means into room `roomId`. */
async function showUploadForm(ctx, card, roomId) {
  const file = h('input', { class: 'input', type: 'file', testid: 'upload-file', id: 'upload-file', accept: 'video/*,.mp4,.mov,.mkv,.ts,.avi,.flv' });
  const start = h('input', { class: 'input', type: 'datetime-local', step: 1, testid: 'upload-start', id: 'upload-start', value: localInputValue(Date.now() - 3600 * 1000) });
  const camera = h('select', { class: 'input', testid: 'upload-camera', id: 'upload-camera' },
    h('option', { value: '', i18n: 'upload.noCamera' }));
  const submit = h('button', { type: 'button', class: 'btn btn-primary', testid: 'upload-submit', i18n: 'upload.submit' });
  const result = h('div', { role: 'status' });
  replaceChildren(card, h('h2', { i18n: 'upload.title' }), h('p', { class: 'muted small', i18n: 'upload.hint' }),
    h('div', { class: 'row filters' }, field('upload.file', file), field('upload.start', start), field('upload.camera', camera), submit),
    result);
  submit.addEventListener('click', async () => {
    const chosen = file.files && file.files[0];
    const startedAt = new Date(start.value).getTime();
    if (!chosen || !Number.isFinite(startedAt)) {
      const box = h('p', { class: 'notice notice-error', testid: 'upload-error', role: 'alert', i18n: 'upload.missing' });
      replaceChildren(result, box);
      return;
    }
    submit.disabled = true;
    replaceChildren(result, h('p', { class: 'muted', i18n: 'upload.sending', params: { name: chosen.name } }));
    try {
      const params = new URLSearchParams({ startedAt: String(startedAt) });
      if (camera.value) params.set('cameraId', camera.value);
      const stored = await ctx.call(`/api/rooms/${enc(roomId)}/recordings/upload?${params}`, {
        method: 'POST', raw: chosen, contentType: chosen.type || 'application/octet-stream', timeoutMs: 30 * 60 * 1000,
      });
      replaceChildren(result, h('p', {
        class: 'notice notice-ok', testid: 'upload-result', dataset: { segments: String(stored.segments.length) },
        i18n: 'upload.done', params: {
          name: chosen.name, codec: stored.video.codec.toUpperCase(), size: `${stored.video.width}×${stored.video.height}`,
          seconds: stored.video.duration.toFixed(1), segments: stored.segments.length,
        },
      }));
      file.value = '';
    } catch (error) {
      const box = h('p', { class: 'notice notice-error', testid: 'upload-error', role: 'alert', dataset: { code: error.code || '' } });
      setBilingualText(box, errorTexts(error));
      replaceChildren(result, box);
    } finally {
      submit.disabled = false;
    }
  });
  // The cameras fill the list when they arrive; the form works before that (an upload need not name a camera).
  try {
    const cameras = await ctx.call(`/api/rooms/${enc(roomId)}/cameras`);
    for (const entry of cameras) camera.appendChild(h('option', { value: entry.camera.id }, entry.camera.name));
  } catch {
    /* uploads without a camera still work */
  }
}

/** Every camera of a room, live. */
export async function showLive(ctx, query) {
  const body = h('div', {}, h('p', { class: 'muted', i18n: 'common.loading' }));
  const filters = h('div', { class: 'row filters' });
  replaceChildren(ctx.app, ctx.tabs('live'), h('section', { class: 'card' }, h('h1', { i18n: 'admin.tab.live' }), filters, body));
  const room = await roomSelect(ctx, 'live-room', query.get('roomId'), body);
  if (!room) return;
  replaceChildren(filters, field('admin.cameras.room', room));
  room.addEventListener('change', () => {
    window.location.hash = `#live?roomId=${enc(room.value)}`;
  });
  if (!room.value) {
    replaceChildren(body, h('p', { class: 'muted', testid: 'live-none', i18n: 'live.none' }));
    return;
  }
  try {
    const grid = await showLiveGrid(body, room.value, ctx.call);
    ctx.onLeave(() => grid.close());
  } catch (error) {
    replaceChildren(body, ctx.errorBox(error, 'live-error'));
  }
}
