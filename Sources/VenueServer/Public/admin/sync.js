// Venue admin: reporting to the central office (同步). What is still queued (items and bytes, by kind), when the
// last batch reached central, what the agent is doing now (sending, waiting for the link, refused), the error in
// plain words, the video upload in progress with its speed, and the items central refused; "立即同步" wakes the
// agent. The page refreshes itself every 3 s while it is shown.
// Route: #sync
//
// data-testid hooks: sync-now, sync-state (data-state: notEnrolled|idle|sending|offline|refused), sync-central,
//   sync-queued (data-items, data-bytes), sync-last-success (data-at), sync-error (data-code), sync-upload,
//   sync-kinds, sync-kind-{kind} (data-items), sync-refused, sync-refused-{id}, sync-page-error

import { h, replaceChildren, formatBytes, formatDateTime } from '../assets/dom.js';
import { t, setBilingualText } from '../assets/i18n.js';

let refreshTimer = null;

const STATE_BADGE = { idle: 'badge-ok', sending: 'badge-primary', offline: 'badge-warn', refused: 'badge-danger', notEnrolled: 'badge-warn' };

export async function showSync(ctx, { quiet = false } = {}) {
  clearTimeout(refreshTimer);
  const existing = quiet ? ctx.app.querySelector('[data-testid="sync-body"]') : null;
  const body = existing || h('div', { testid: 'sync-body' }, h('p', { class: 'muted', i18n: 'common.loading' }));
  if (!existing) {
    const now = h('button', { type: 'button', class: 'btn btn-primary', testid: 'sync-now', i18n: 'admin.sync.now' });
    now.addEventListener('click', async () => {
      now.disabled = true;
      try {
        await ctx.call('/api/admin/sync/now', { method: 'POST' });
      } finally {
        setTimeout(() => { now.disabled = false; showSync(ctx, { quiet: true }); }, 800);
      }
    });
    replaceChildren(ctx.app, ctx.tabs('sync'), h('section', { class: 'card' },
      h('div', { class: 'row section-head' }, h('h1', { i18n: 'admin.tab.sync' }), h('span', { class: 'spacer' }), now),
      h('p', { class: 'muted small', i18n: 'admin.sync.hint' }),
      body));
    ctx.onLeave(() => clearTimeout(refreshTimer));
  }
  let view;
  try {
    view = await ctx.call('/api/admin/sync');
  } catch (error) {
    replaceChildren(body, ctx.errorBox(error, 'sync-page-error'));
    refreshTimer = setTimeout(() => showSync(ctx, { quiet: true }), 3000);
    return;
  }
  const { status, outbox, refused } = view;
  const rows = [];
  const row = (labelKey, value) => rows.push(h('dt', { i18n: labelKey }), h('dd', {}, value));
  row('admin.sync.state', h('span', { class: ['badge', STATE_BADGE[status.state] || ''], testid: 'sync-state', dataset: { state: status.state }, i18n: `admin.sync.state.${status.state}` }));
  row('admin.sync.central', h('span', { testid: 'sync-central' }, status.enrolled ? `${status.centralUrl} · ${status.venueId}` : t('admin.sync.notEnrolledHint')));
  row('admin.sync.queued', h('span', { testid: 'sync-queued', dataset: { items: String(outbox.queuedItems), bytes: String(outbox.queuedBytes) } },
    t('admin.sync.queuedValue', { items: outbox.queuedItems, bytes: formatBytes(outbox.queuedBytes) }),
    outbox.oldestQueuedAt ? h('span', { class: 'muted' }, ' · ', t('admin.sync.oldest', { time: formatDateTime(outbox.oldestQueuedAt) })) : ''));
  row('admin.sync.acknowledged', String(outbox.acknowledgedItems));
  row('admin.sync.lastSuccess', h('span', { testid: 'sync-last-success', dataset: { at: String(status.lastSuccessAt || '') } },
    status.lastSuccessAt ? formatDateTime(status.lastSuccessAt) : t('admin.sync.never')));
  if (status.nextAttemptAt && status.state !== 'idle') row('admin.sync.nextAttempt', formatDateTime(status.nextAttemptAt));
  if (status.upload) {
    const u = status.upload;
    const percent = u.bytesTotal ? Math.floor((u.bytesSent / u.bytesTotal) * 100) : 0;
    row('admin.sync.upload', h('span', { testid: 'sync-upload' },
      `${u.cameraId} · ${u.fileName} · ${formatBytes(u.bytesSent)} / ${formatBytes(u.bytesTotal)} (${percent}%) · ${formatBytes(u.bytesPerSecond)}/s`));
  }
  const errorCell = status.lastError
    ? (() => {
      const text = h('span');
      setBilingualText(text, { zh: status.lastError.messageZh, en: status.lastError.message });
      return h('span', { class: 'sync-error', testid: 'sync-error', dataset: { code: status.lastError.code } }, text,
        h('span', { class: 'muted small' }, ' · ', formatDateTime(status.lastError.at)));
    })()
    : h('span', { class: 'muted', testid: 'sync-error', dataset: { code: '' }, i18n: 'admin.sync.noError' });
  row('admin.sync.lastError', errorCell);

  const kinds = outbox.queuedByKind.length
    ? h('div', { class: 'table-wrap' }, h('table', { class: 'data', testid: 'sync-kinds' },
      h('thead', {}, h('tr', {}, h('th', { i18n: 'admin.sync.kind' }), h('th', { i18n: 'admin.sync.items' }), h('th', { i18n: 'admin.sync.bytes' }))),
      h('tbody', {}, outbox.queuedByKind.map((k) => h('tr', { testid: `sync-kind-${k.kind}`, dataset: { items: String(k.items) } },
        h('td', {}, t(`admin.sync.kind.${k.kind}`)), h('td', {}, String(k.items)), h('td', {}, formatBytes(k.bytes)))))))
    : h('p', { class: 'muted', testid: 'sync-kinds', i18n: 'admin.sync.allSent' });

  const refusedBox = refused.length
    ? h('div', { class: 'notice notice-danger', testid: 'sync-refused' },
      h('strong', { i18n: 'admin.sync.refused' }),
      h('ul', {}, refused.map((r) => h('li', { testid: `sync-refused-${r.id}` },
        formatDateTime(r.refusedAt), ' · ', t(`admin.sync.kind.${r.kind}`), ' · ', h('code', {}, r.id), ' — ', r.refusal))))
    : null;

  replaceChildren(body,
    h('dl', { class: 'kv' }, rows),
    h('h2', { i18n: 'admin.sync.queuedByKind' }), kinds, refusedBox);
  refreshTimer = setTimeout(() => {
    if (ctx.app.querySelector('[data-testid="sync-body"]')) showSync(ctx, { quiet: true });
  }, 3000);
}
