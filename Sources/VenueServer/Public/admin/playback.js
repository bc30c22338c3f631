// Venue admin: play back a room's recordings (assets/playback.js) and watch the rooms' cameras live
// (assets/liveview.js). Pick a room (and, for playback, a day).
// Routes: #playback?roomId=…&date=YYYY-MM-DD&at=millis, #live?roomId=…
//
// data-testid hooks: playback-room (select), playback-date, playback-show, live-room (select), live-show; the rest in
//   assets/playback.js and assets/liveview.js.

import { h, replaceChildren } from '../assets/dom.js';
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
  await showRoomPlayback({
    container: body, roomId: room.value, dayStart: new Date(`${date.value || today()}T00:00:00`).getTime(),
    at, call: ctx.call, errorBox: ctx.errorBox,
  });
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
