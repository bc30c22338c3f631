// Venue admin: the IP cameras of each room. Add, change, switch off and remove a camera; "测试" opens its stream
// and shows codec, picture size, frame rate and measured bitrate, or the exact reason it failed. The URL's password
// is kept sealed on the venue and never comes back: the page shows the URL as rtsp://user:***@host/…, and a change
// without a new URL keeps the old one.
// The same list shows each camera's recording: recording (since when, which stream), reconnecting (since when, the
// last error, the next try) or idle; the segments and bytes it holds; and whether it follows the timetable (自动),
// or was switched on or off by hand. The list refreshes itself every 5 s while it is shown.
// Route: #cameras
//
// data-testid hooks: cameras-add, cameras-refresh, cameras-table, camera-row-{id} (data-room, data-enabled,
//   data-test: ok|failed|none, data-recording: recording|viewing|reconnecting|idle), camera-recording-{id}, camera-disk-{id},
//   camera-mode-{id} (select auto|on|off),
//   camera-url-{id}, camera-test-{id} (button; data-busy while testing), camera-result-{id} (data-code when failed),
//   camera-edit-{id}, camera-toggle-{id}, camera-delete-{id}, cameras-error;
//   dialog (admin-dialog): camera-form-room, camera-form-name, camera-form-url, camera-form-enabled

import { FormError, errorTexts } from '../assets/api.js';
import { h, replaceChildren, formatBytes, formatDateTime } from '../assets/dom.js';
import { t, tBoth, setBilingualText } from '../assets/i18n.js';
import { openDialog, field, showMessage } from '../assets/ui.js';
import { roomsOf } from './accounts.js';

const enc = encodeURIComponent;
let refreshTimer = null;

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

/** What the camera's recorder is doing, as a cell. */
function recordingCell(camera, recording) {
  const since = recording.since ? formatDateTime(recording.since) : '';
  if (recording.state === 'recording') {
    return h('span', { class: 'small', testid: `camera-recording-${camera.id}` },
      h('span', { class: 'badge badge-ok', i18n: 'admin.cameras.rec.recording' }), ' ',
      recording.codec ? `${recording.codec.toUpperCase()} ${recording.width}×${recording.height}` : '',
      recording.bitrate ? h('span', { testid: `camera-bitrate-${camera.id}`, dataset: { bitrate: String(recording.bitrate) } }, ` · ${formatBitrate(recording.bitrate)}`) : '',
      h('br'), h('span', { class: 'muted', i18n: 'admin.cameras.rec.since', params: { time: since } }));
  }
  if (recording.state === 'viewing') {
    return h('span', { class: 'small', testid: `camera-recording-${camera.id}` },
      h('span', { class: 'badge', i18n: 'admin.cameras.rec.viewing' }));
  }
  if (recording.state === 'reconnecting') {
    const why = h('span');
    if (recording.error) setBilingualText(why, recording.error);
    return h('span', { class: 'small', testid: `camera-recording-${camera.id}`, dataset: { code: recording.errorCode || '' } },
      h('span', { class: 'badge badge-danger', i18n: 'admin.cameras.rec.reconnecting' }), ' ', why,
      h('br'), h('span', { class: 'muted', i18n: 'admin.cameras.rec.since', params: { time: since } }));
  }
  return h('span', { class: 'small muted', testid: `camera-recording-${camera.id}`, i18n: 'admin.cameras.rec.idle' });
}

/** ctx: {app, call(path, options), tabs(key), errorBox(error, testid), sittings()}. */
export async function showCameras(ctx, { quiet = false } = {}) {
  clearTimeout(refreshTimer);
  const existing = quiet ? ctx.app.querySelector('[data-testid="cameras-body"]') : null;
  const body = existing || h('div', { testid: 'cameras-body' }, h('p', { class: 'muted', i18n: 'common.loading' }));
  const add = h('button', { type: 'button', class: 'btn btn-primary', testid: 'cameras-add', i18n: 'admin.cameras.add' });
  const refresh = h('button', { type: 'button', class: 'btn', testid: 'cameras-refresh', i18n: 'common.refresh' });
  if (!existing) {
    replaceChildren(ctx.app, ctx.tabs('cameras'), h('section', { class: 'card' },
      h('div', { class: 'row section-head' }, h('h1', { i18n: 'admin.tab.cameras' }), h('span', { class: 'spacer' }), refresh, add),
      h('p', { class: 'muted small', i18n: 'admin.cameras.hint' }),
      body));
  }
  let list;
  let rooms = [];
  let alerts = [];
  try {
    [list, rooms, alerts] = await Promise.all([
      ctx.call('/api/admin/recording'), ctx.sittings().then(roomsOf).catch(() => []), ctx.call('/api/admin/recording/alerts'),
    ]);
  } catch (error) {
    replaceChildren(body, ctx.errorBox(error, 'cameras-error'));
    return;
  }
  const open = alerts.filter((a) => !a.clearedAt);
  const alertBox = h('div', { class: ['notice', open.length ? 'notice-danger' : 'notice-ok'], testid: 'recording-alerts', dataset: { count: String(open.length) } },
    open.length
      ? [h('strong', { i18n: 'admin.cameras.alerts' }), h('ul', {}, open.map((alert) => {
        const text = h('span');
        setBilingualText(text, alert.message);
        return h('li', { testid: `recording-alert-${alert.id}`, dataset: { kind: alert.kind } }, formatDateTime(alert.raisedAt), ' ', text);
      }))]
      : h('span', { i18n: 'admin.cameras.alertsNone' }));
  const reload = () => showCameras(ctx);
  if (!existing) {
    add.addEventListener('click', () => cameraDialog(ctx, null, rooms, reload));
    refresh.addEventListener('click', reload);
  }
  // While the list is on screen (and no dialog or test is open), it follows the recorders.
  refreshTimer = setTimeout(() => {
    if (window.location.hash.startsWith('#cameras') && !document.querySelector('dialog[open]')
      && !document.querySelector('[data-testid^="camera-test-"][data-busy]') && body.isConnected) showCameras(ctx, { quiet: true });
  }, 5000);
  if (!list.length) {
    replaceChildren(body, alertBox, h('p', { class: 'muted', testid: 'cameras-none', i18n: 'admin.cameras.none' }));
    return;
  }
  const head = ['room', 'name', 'url', 'status', 'recording', 'disk', 'mode', 'test'].map((c) => h('th', { i18n: `admin.cameras.${c}` }));
  head.push(h('th', { i18n: 'console.col.actions' }));
  const rows = list.map(({ camera, recording, disk }) => {
    const mode = h('select', { class: 'input', testid: `camera-mode-${camera.id}` },
      ['auto', 'on', 'off'].map((m) => h('option', { value: m, selected: camera.recordingMode === m, i18n: `admin.cameras.mode.${m}` })));
    mode.addEventListener('change', async () => {
      try {
        await ctx.call(`/api/admin/cameras/${enc(camera.id)}/recording`, { method: 'POST', body: { mode: mode.value } });
      } catch (error) {
        showMessage(errorTexts(error), 'error', 'admin-message');
      }
      reload();
    });
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
      dataset: {
        room: camera.roomId, enabled: String(camera.enabled), test: camera.lastTest ? (camera.lastTest.ok ? 'ok' : 'failed') : 'none',
        recording: recording.state,
      },
    },
    h('td', { class: 'nowrap' }, `${camera.roomName || camera.roomId}（${camera.roomId}）`),
    h('td', {}, camera.name),
    h('td', { class: 'mono small break', testid: `camera-url-${camera.id}` }, camera.url),
    h('td', {}, h('span', { class: ['badge', camera.enabled ? 'badge-ok' : 'badge-danger'], i18n: camera.enabled ? 'admin.cameras.enabled' : 'admin.cameras.disabled' })),
    h('td', {}, recordingCell(camera, recording)),
    h('td', { class: 'small nowrap', testid: `camera-disk-${camera.id}`, dataset: { segments: String(disk.segments) } },
      t('admin.cameras.segments', { n: disk.segments }), h('br'), formatBytes(disk.bytes),
      disk.lastSegmentEndedAt ? [h('br'), h('span', { class: 'muted', i18n: 'admin.cameras.lastSegment', params: { time: formatDateTime(disk.lastSegmentEndedAt) } })] : null),
    h('td', {}, mode),
    result,
    h('td', {}, h('div', { class: 'row-actions' },
      testButton,
      camera.enabled ? h('a', { class: 'btn btn-small', href: `#live?roomId=${enc(camera.roomId)}`, testid: `camera-live-${camera.id}`, i18n: 'admin.tab.live' }) : null,
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
  // On a phone each camera is a card: every cell says what it is.
  const labels = [...head.map((th) => th.textContent)];
  for (const row of rows) [...row.children].forEach((td, i) => { td.dataset.label = labels[i] || ''; });
  replaceChildren(body, alertBox, h('div', { class: 'table-wrap' }, h('table', { class: 'data cameras-table', testid: 'cameras-table' },
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
