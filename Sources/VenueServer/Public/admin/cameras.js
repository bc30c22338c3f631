// Venue admin: the IP cameras of each room. Add, change, switch off and remove a camera; "测试" opens its stream
// and shows codec, picture size, frame rate and measured bitrate, or the exact reason it failed. The URL's password
// is kept sealed on the venue and never comes back: the page shows the URL as rtsp://user:***@host/…, and a change
// without a new URL keeps the old one.
// Route: #cameras
//
// data-testid hooks: cameras-add, cameras-table, camera-row-{id} (data-room, data-enabled, data-test: ok|failed|none),
//   camera-url-{id}, camera-test-{id} (button; data-busy while testing), camera-result-{id} (data-code when failed),
//   camera-edit-{id}, camera-toggle-{id}, camera-delete-{id}, cameras-error;
//   dialog (admin-dialog): camera-form-room, camera-form-name, camera-form-url, camera-form-enabled

import { FormError } from '../assets/api.js';
import { h, replaceChildren, formatDateTime } from '../assets/dom.js';
import { t, tBoth, setBilingualText } from '../assets/i18n.js';
import { openDialog, field, showMessage } from '../assets/ui.js';
import { roomsOf } from './accounts.js';

const enc = encodeURIComponent;

/** 1.85 Mb/s, 640 kb/s. */
function formatBitrate(bits) {
  if (!bits) return '—';
  return bits >= 1_000_000 ? `${(bits / 1_000_000).toFixed(2)} Mb/s` : `${Math.round(bits / 1000)} kb/s`;
}

/** What the last test found, as a cell. */
function testResult(camera) {
  const test = camera.lastTest;
  if (!test) return h('span', { class: 'muted', testid: `camera-result-${camera.id}`, i18n: 'admin.cameras.untested' });
  if (test.ok) {
    return h('span', { testid: `camera-result-${camera.id}`, class: 'small' },
      h('span', { class: 'badge badge-ok', i18n: 'admin.cameras.ok' }), ' ',
      `${test.codec.toUpperCase()} · ${test.width}×${test.height} · ${test.framesPerSecond.toFixed(2)} fps · ${formatBitrate(test.bitrate)}`,
      h('br'), h('span', { class: 'muted' }, formatDateTime(test.at)));
  }
  const reason = h('span');
  if (test.message) setBilingualText(reason, test.message);
  return h('span', { testid: `camera-result-${camera.id}`, class: 'small', dataset: { code: test.code || '' } },
    h('span', { class: 'badge badge-danger', i18n: 'admin.cameras.failed' }), ' ', reason,
    h('br'), h('span', { class: 'muted' }, formatDateTime(test.at)));
}

/** ctx: {app, call(path, options), tabs(key), errorBox(error, testid), sittings()}. */
export async function showCameras(ctx) {
  const body = h('div', {}, h('p', { class: 'muted', i18n: 'common.loading' }));
  const add = h('button', { type: 'button', class: 'btn btn-primary', testid: 'cameras-add', i18n: 'admin.cameras.add' });
  replaceChildren(ctx.app, ctx.tabs('cameras'), h('section', { class: 'card' },
    h('div', { class: 'row section-head' }, h('h1', { i18n: 'admin.tab.cameras' }), h('span', { class: 'spacer' }), add),
    h('p', { class: 'muted small', i18n: 'admin.cameras.hint' }),
    body));
  let cameras;
  let rooms = [];
  try {
    [cameras, rooms] = await Promise.all([ctx.call('/api/admin/cameras'), ctx.sittings().then(roomsOf).catch(() => [])]);
  } catch (error) {
    replaceChildren(body, ctx.errorBox(error, 'cameras-error'));
    return;
  }
  const reload = () => showCameras(ctx);
  add.addEventListener('click', () => cameraDialog(ctx, null, rooms, reload));
  if (!cameras.length) {
    replaceChildren(body, h('p', { class: 'muted', testid: 'cameras-none', i18n: 'admin.cameras.none' }));
    return;
  }
  const head = ['room', 'name', 'url', 'status', 'test'].map((c) => h('th', { i18n: `admin.cameras.${c}` }));
  head.push(h('th', { i18n: 'console.col.actions' }));
  const rows = cameras.map((camera) => {
    const result = h('td', { 'data-label-key': 'admin.cameras.test' }, testResult(camera));
    const testButton = h('button', { type: 'button', class: 'btn btn-small', testid: `camera-test-${camera.id}`, i18n: 'admin.cameras.runTest' });
    testButton.addEventListener('click', async () => {
      testButton.disabled = true;
      testButton.dataset.busy = 'true';
      replaceChildren(result, h('span', { class: 'muted', i18n: 'admin.cameras.testing' }));
      try {
        const tested = await ctx.call(`/api/admin/cameras/${enc(camera.id)}/test`, { method: 'POST' });
        replaceChildren(result, testResult(tested));
        row.dataset.test = tested.lastTest && tested.lastTest.ok ? 'ok' : 'failed';
      } catch (error) {
        replaceChildren(result, ctx.errorBox(error, `camera-error-${camera.id}`));
      } finally {
        testButton.disabled = false;
        delete testButton.dataset.busy;
      }
    });
    const row = h('tr', {
      testid: `camera-row-${camera.id}`, class: camera.enabled ? null : 'is-disabled',
      dataset: { room: camera.roomId, enabled: String(camera.enabled), test: camera.lastTest ? (camera.lastTest.ok ? 'ok' : 'failed') : 'none' },
    },
    h('td', { class: 'nowrap' }, `${camera.roomName || camera.roomId}（${camera.roomId}）`),
    h('td', {}, camera.name),
    h('td', { class: 'mono small break', testid: `camera-url-${camera.id}` }, camera.url),
    h('td', {}, h('span', { class: ['badge', camera.enabled ? 'badge-ok' : 'badge-danger'], i18n: camera.enabled ? 'admin.cameras.enabled' : 'admin.cameras.disabled' })),
    result,
    h('td', {}, h('div', { class: 'row-actions' },
      testButton,
      h('button', { type: 'button', class: 'btn btn-small', testid: `camera-edit-${camera.id}`, i18n: 'admin.staff.edit', on: { click: () => cameraDialog(ctx, camera, rooms, reload) } }),
      h('button', {
        type: 'button', class: 'btn btn-small', testid: `camera-toggle-${camera.id}`,
        i18n: camera.enabled ? 'admin.staff.disable' : 'admin.staff.enable',
        on: { click: async () => {
          await ctx.call(`/api/admin/cameras/${enc(camera.id)}`, { method: 'POST', body: { enabled: !camera.enabled } });
          reload();
        } },
      }),
      h('button', { type: 'button', class: 'btn btn-small btn-danger-outline', testid: `camera-delete-${camera.id}`, i18n: 'admin.cameras.delete', on: { click: () => deleteDialog(ctx, camera, reload) } }))));
    return row;
  });
  replaceChildren(body, h('div', { class: 'table-wrap' }, h('table', { class: 'data cameras-table', testid: 'cameras-table' },
    h('thead', {}, h('tr', {}, head)), h('tbody', {}, rows))));
}

function cameraDialog(ctx, camera, rooms, reload) {
  const room = h('select', { class: 'input', id: 'camera-form-room', testid: 'camera-form-room' },
    rooms.map((r) => h('option', { value: r.id, selected: camera ? camera.roomId === r.id : false }, `${r.name}（${r.id}）`)));
  const name = h('input', { class: 'input', id: 'camera-form-name', testid: 'camera-form-name', autocomplete: 'off', maxLength: 64, value: camera ? camera.name : '' });
  const url = h('input', {
    class: 'input mono', id: 'camera-form-url', testid: 'camera-form-url', autocomplete: 'off', spellcheck: false,
    placeholder: camera ? camera.url : 'rtsp://user:password@192.168.1.64:554/Streaming/Channels/101',
  });
  const enabled = h('input', { type: 'checkbox', testid: 'camera-form-enabled', checked: camera ? camera.enabled : true });
  openDialog({
    testid: 'admin-dialog',
    title: h('h2', camera ? { i18n: 'admin.cameras.editTitle', params: { name: camera.name } } : { i18n: 'admin.cameras.addTitle' }),
    body: [
      field('admin.cameras.room', room),
      field('admin.cameras.name', name),
      field('admin.cameras.url', url, camera ? 'admin.cameras.urlKeep' : 'admin.cameras.urlHint'),
      h('label', { class: 'check' }, enabled, h('span', { i18n: 'admin.cameras.enabled' })),
    ],
    confirmKey: camera ? 'common.save' : 'admin.cameras.add',
    onConfirm: async () => {
      if (!name.value.trim() || !room.value || (!camera && !url.value.trim())) throw new FormError(tBoth('error.required'));
      const body = { roomId: room.value, name: name.value.trim(), enabled: enabled.checked };
      if (url.value.trim()) body.url = url.value.trim();
      if (camera) await ctx.call(`/api/admin/cameras/${enc(camera.id)}`, { method: 'POST', body });
      else await ctx.call('/api/admin/cameras', { method: 'POST', body });
      showMessage(tBoth('admin.cameras.saved', { name: body.name }), 'ok', 'admin-message');
      reload();
    },
  });
}

function deleteDialog(ctx, camera, reload) {
  openDialog({
    testid: 'admin-dialog',
    title: h('h2', { i18n: 'admin.cameras.deleteTitle', params: { name: camera.name } }),
    body: h('p', { class: 'notice notice-warn', i18n: 'admin.cameras.deleteHint' }),
    confirmKey: 'admin.cameras.delete',
    danger: true,
    onConfirm: async () => {
      await ctx.call(`/api/admin/cameras/${enc(camera.id)}`, { method: 'DELETE' });
      reload();
    },
  });
}
