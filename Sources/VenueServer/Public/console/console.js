/*
 * Invigilator console (/console/): staff login → sittings with their clock → per room a roster that refreshes
 * every 5 s; start a waiting sitting; extend time for one candidate or the whole sitting.
 *
 * data-testid hooks: staff-username, staff-password, staff-login, staff-login-error, lang-switch, logout,
 *   sittings, sitting-{sittingId}, sitting-phase-{sittingId}, sitting-clock-{sittingId}, sitting-counts-{sittingId},
 *   start-{sittingId}, extend-all-{sittingId}, room-{sittingId}-{roomId}, roster-{sittingId}-{roomId},
 *   roster-row-{admissionNumber} (data-status), extend-{admissionNumber}, heartbeat-{admissionNumber} (data-stale),
 *   console-dialog, dialog-minutes, dialog-reason, dialog-error, dialog-confirm, dialog-cancel, console-message, last-update
 */

import { errorTexts } from '../assets/api.js';
import { h, replaceChildren, formatHMS, formatDateTime, formatTime, languageButton, initPage } from '../assets/dom.js';
import { t, tBoth, onLangChange, setBilingualText, applyI18n } from '../assets/i18n.js';
import { ServerClock } from '../assets/clock.js';
import { StaffSession, staffLoginForm, showStaffUser } from '../assets/staff.js';

const REFRESH_MS = 5000;
const STALE_MS = 30000;

const app = document.getElementById('app');
const session = new StaffSession('kd.console', ['invigilator', 'admin']);
const clock = new ServerClock();
const view = {
  sittings: [],
  selectedRoom: new Map(), // sittingId → roomId
  rosters: new Map(), // `${sittingId}/${roomId}` → entries
  timer: null,
  ticker: null,
  message: null,
  lastUpdate: null,
  error: null,
};

const setTitle = initPage('console.title');
onLangChange(() => {
  setTitle();
  if (session.token) render();
});
document.getElementById('lang-slot').appendChild(languageButton());

function showUser() {
  showStaffUser(session, showLogin, stopRefresh);
}

function showLogin() {
  replaceChildren(app, h('div', { class: 'page-narrow' }, staffLoginForm('console.loginTitle', async (username, password) => {
    await session.login(username, password);
    showUser();
    await startDashboard();
  }, tBoth('error.needStaff'))));
  const first = app.querySelector('input');
  if (first) first.focus();
}

function stopRefresh() {
  clearTimeout(view.timer);
  clearInterval(view.ticker);
  view.timer = null;
  view.ticker = null;
}

async function startDashboard() {
  stopRefresh();
  await refresh();
  view.ticker = setInterval(tickClocks, 1000);
}

async function refresh() {
  clearTimeout(view.timer);
  try {
    const sentAt = performance.now();
    const sittings = await session.call('/api/console/sittings');
    view.sittings = sittings;
    if (sittings.length && sittings[0].clock) clock.update({ ...sittings[0].clock }, sentAt);
    const loads = [];
    for (const sitting of sittings) {
      if (!view.selectedRoom.has(sitting.id) && sitting.rooms.length) {
        const mine = session.user && session.user.rooms && session.user.rooms.length
          ? sitting.rooms.find((room) => session.user.rooms.includes(room.id)) : null;
        view.selectedRoom.set(sitting.id, (mine || sitting.rooms[0]).id);
      }
      const roomId = view.selectedRoom.get(sitting.id);
      if (roomId) {
        loads.push(session.call(`/api/console/sittings/${encodeURIComponent(sitting.id)}/rooms/${encodeURIComponent(roomId)}/roster`)
          .then((entries) => view.rosters.set(`${sitting.id}/${roomId}`, entries))
          .catch(() => {}));
      }
    }
    await Promise.all(loads);
    view.error = null;
    view.lastUpdate = clock.now();
  } catch (error) {
    if (error.status === 401 || error.status === 403) {
      session.forget();
      showUser();
      showLogin();
      return;
    }
    view.error = errorTexts(error);
  }
  render();
  view.timer = setTimeout(refresh, REFRESH_MS);
}

/** The clock of one sitting as the server gave it, moved on by the time elapsed since. */
function sittingClock(sitting) {
  const c = sitting.clock || {};
  const now = clock.now();
  return { phase: c.phase, untilStart: c.startsAt - now, remaining: typeof c.endsAt === 'number' ? c.endsAt - now : null };
}

function clockText(sitting) {
  const c = sittingClock(sitting);
  if (c.phase === 'waiting') return t('console.startsIn', { time: formatHMS(Math.max(0, c.untilStart)) });
  if (c.phase === 'running') return t('console.remaining', { time: formatHMS(Math.max(0, c.remaining)) });
  return t('console.phase.over');
}

function tickClocks() {
  for (const sitting of view.sittings) {
    const el = app.querySelector(`[data-testid="sitting-clock-${CSS.escape(sitting.id)}"]`);
    if (el) el.textContent = clockText(sitting);
  }
}

function phaseBadge(sitting) {
  const phase = sitting.clock ? sitting.clock.phase : 'waiting';
  const cls = { waiting: 'badge-warn', running: 'badge-ok', over: '' }[phase] || '';
  return h('span', { class: ['badge', cls], testid: `sitting-phase-${sitting.id}`, dataset: { phase }, i18n: `console.phase.${phase}` });
}

function render() {
  const parts = [];
  if (view.message) {
    const message = h('p', { class: 'notice notice-ok', testid: 'console-message', role: 'status' });
    setBilingualText(message, view.message);
    parts.push(message);
  }
  if (view.error) {
    const error = h('p', { class: 'notice notice-error', role: 'alert', testid: 'console-error' });
    setBilingualText(error, view.error);
    parts.push(error);
  }
  parts.push(h('div', { class: 'row console-head' },
    h('h1', { i18n: 'console.sittings' }),
    h('span', { class: 'spacer' }),
    h('span', { class: 'muted small', testid: 'last-update', i18n: 'console.lastUpdate', params: { time: view.lastUpdate ? formatTime(view.lastUpdate) : '—' } }),
    h('span', { class: 'muted small', i18n: 'console.autoRefresh' }),
    h('button', { type: 'button', class: 'btn btn-small', i18n: 'common.refresh', on: { click: refresh } })));
  if (!view.sittings.length) parts.push(h('p', { class: 'muted', i18n: 'console.noSittings' }));
  const list = h('div', { class: 'sittings', testid: 'sittings' });
  for (const sitting of view.sittings) list.appendChild(renderSitting(sitting));
  parts.push(list);
  const scroll = window.scrollY;
  replaceChildren(app, ...parts);
  window.scrollTo(0, scroll);
}

function renderSitting(sitting) {
  const phase = sitting.clock ? sitting.clock.phase : 'waiting';
  const actions = h('div', { class: 'row' });
  if (phase === 'waiting') {
    actions.appendChild(h('button', {
      type: 'button', class: 'btn btn-primary', testid: `start-${sitting.id}`, i18n: 'console.startNow',
      on: { click: () => confirmStart(sitting) },
    }));
  }
  if (phase === 'running') {
    actions.appendChild(h('button', {
      type: 'button', class: 'btn', testid: `extend-all-${sitting.id}`, i18n: 'console.extendAll',
      on: { click: () => extendDialog(sitting, null) },
    }));
  }
  const tabs = h('div', { class: 'room-tabs', role: 'tablist' });
  const selected = view.selectedRoom.get(sitting.id);
  for (const room of sitting.rooms) {
    tabs.appendChild(h('button', {
      type: 'button', role: 'tab', class: ['btn btn-small room-tab', room.id === selected ? 'is-selected' : null],
      'aria-selected': room.id === selected ? 'true' : 'false', testid: `room-${sitting.id}-${room.id}`,
      i18n: 'console.roomLabel', params: { name: room.name, n: room.candidates },
      on: {
        click: () => {
          view.selectedRoom.set(sitting.id, room.id);
          refresh();
        },
      },
    }));
  }
  const roster = view.rosters.get(`${sitting.id}/${selected}`) || [];
  return h('section', { class: 'card sitting', testid: `sitting-${sitting.id}` },
    h('div', { class: 'row sitting-head' },
      h('h2', { class: 'sitting-name' }, sitting.name),
      phaseBadge(sitting),
      h('span', { class: 'sitting-clock', testid: `sitting-clock-${sitting.id}` }, clockText(sitting))),
    h('p', { class: 'muted small' },
      `${sitting.id} · `, h('span', { i18n: 'console.scheduledStart' }), ` ${formatDateTime(sitting.scheduledStart)} · `,
      h('span', { i18n: 'console.duration' }), ' ', h('span', { i18n: 'common.minutes', params: { n: sitting.durationMinutes } }),
      sitting.startedAt ? [' · ', h('span', { i18n: 'console.startedAt', params: { time: formatDateTime(sitting.startedAt), by: sitting.startedBy || '—' } })] : null),
    h('p', { class: 'sitting-counts', testid: `sitting-counts-${sitting.id}`, i18n: 'console.counts', params: { loggedIn: sitting.loggedIn, submitted: sitting.submitted, candidates: sitting.candidates } }),
    actions,
    h('h3', { class: 'rooms-title', i18n: 'console.rooms' }),
    tabs,
    selected ? renderRoster(sitting, selected, roster) : null);
}

const STATUS_BADGE = { notArrived: '', waiting: 'badge-primary', answering: 'badge-ok', submitted: 'badge-warn' };

function heartbeatCell(entry) {
  if (!entry.lastHeartbeat) return h('td', { testid: `heartbeat-${entry.admissionNumber}`, dataset: { stale: 'false' } }, t('common.never'));
  const age = Math.max(0, clock.now() - entry.lastHeartbeat);
  const active = entry.status === 'waiting' || entry.status === 'answering';
  const stale = active && age > STALE_MS;
  const seconds = Math.round(age / 1000);
  const text = seconds < 120 ? t('common.secondsAgo', { n: seconds }) : t('common.minutesAgo', { n: Math.round(seconds / 60) });
  return h('td', {
    class: ['nowrap', stale ? 'is-stale' : null], testid: `heartbeat-${entry.admissionNumber}`, dataset: { stale: stale ? 'true' : 'false' },
    title: stale ? t('console.staleHeartbeat') : formatDateTime(entry.lastHeartbeat),
  }, text);
}

function renderRoster(sitting, roomId, entries) {
  const phase = sitting.clock ? sitting.clock.phase : 'waiting';
  const rows = entries.map((entry) => h('tr', { testid: `roster-row-${entry.admissionNumber}`, dataset: { status: entry.status } },
    h('td', { class: 'num' }, entry.seat),
    h('td', {}, h('img', {
      class: 'thumb', src: `/api/photos/${encodeURIComponent(entry.admissionNumber)}`, alt: entry.name, loading: 'lazy', width: 40, height: 48,
    })),
    h('td', { class: 'nowrap' }, entry.name),
    h('td', { class: 'mono' }, entry.admissionNumber),
    h('td', {}, h('span', { class: ['badge', STATUS_BADGE[entry.status]], i18n: `console.status.${entry.status}` })),
    h('td', { class: 'num' }, String(entry.answered ?? 0)),
    h('td', { class: ['num', entry.events > 0 ? 'has-events' : null] }, String(entry.events ?? 0)),
    h('td', { class: 'mono small' }, entry.terminalId || '—'),
    heartbeatCell(entry),
    h('td', { class: 'num' }, entry.extensionSeconds ? t('common.minutes', { n: Math.round(entry.extensionSeconds / 60) }) : '—'),
    h('td', {}, entry.attemptId && entry.status !== 'submitted' && phase !== 'over'
      ? h('button', { type: 'button', class: 'btn btn-small', testid: `extend-${entry.admissionNumber}`, i18n: 'console.extend', on: { click: () => extendDialog(sitting, entry) } })
      : null)));
  const head = ['seat', 'photo', 'name', 'admission', 'status', 'answered', 'events', 'terminal', 'heartbeat', 'extension', 'actions']
    .map((key) => h('th', { class: ['answered', 'events', 'seat', 'extension'].includes(key) ? 'num' : null, i18n: `console.col.${key}` }));
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'data roster', testid: `roster-${sitting.id}-${roomId}` }, h('thead', {}, h('tr', {}, head)), h('tbody', {}, rows)));
}

/** A small modal form. fields: the inputs; onConfirm() may throw to show its error. */
function dialog({ title, body = [], confirmKey = 'common.confirm', danger = false, onConfirm }) {
  const error = h('p', { class: 'form-error', testid: 'dialog-error', role: 'alert', hidden: true });
  const confirm = h('button', { type: 'button', class: ['btn', danger ? 'btn-danger' : 'btn-primary'], testid: 'dialog-confirm', i18n: confirmKey });
  const cancel = h('button', { type: 'button', class: 'btn', testid: 'dialog-cancel', i18n: 'common.cancel' });
  const el = h('dialog', { class: 'dialog', testid: 'console-dialog' },
    h('div', { class: 'dialog-body' }, title, body, error),
    h('div', { class: 'dialog-actions' }, cancel, confirm));
  cancel.addEventListener('click', () => el.close());
  el.addEventListener('close', () => el.remove());
  confirm.addEventListener('click', async () => {
    confirm.disabled = true;
    error.hidden = true;
    try {
      await onConfirm();
      el.close();
    } catch (err) {
      error.hidden = false;
      setBilingualText(error, err && err.texts ? err.texts : errorTexts(err));
    } finally {
      confirm.disabled = false;
    }
  });
  document.body.appendChild(el);
  applyI18n(el);
  el.showModal();
  return el;
}

function confirmStart(sitting) {
  dialog({
    title: h('h2', { i18n: 'console.startNow' }),
    body: h('p', { i18n: 'console.startConfirm', params: { name: sitting.name } }),
    confirmKey: 'console.startNow',
    danger: true,
    onConfirm: async () => {
      await session.call(`/api/console/sittings/${encodeURIComponent(sitting.id)}/start`, { method: 'POST' });
      view.message = null;
      await refresh();
    },
  });
}

function extendDialog(sitting, entry) {
  const minutes = h('input', { class: 'input', type: 'number', min: 1, max: 600, step: 1, value: '10', testid: 'dialog-minutes', id: 'dialog-minutes', inputMode: 'numeric' });
  const reason = h('textarea', { class: 'input', rows: 3, testid: 'dialog-reason', id: 'dialog-reason', i18nPlaceholder: 'console.extendReasonPlaceholder', maxLength: 500 });
  dialog({
    title: entry
      ? h('h2', { i18n: 'console.extendTitle', params: { name: `${entry.name}（${entry.seat}）` } })
      : h('h2', { i18n: 'console.extendAllTitle', params: { name: sitting.name } }),
    body: [
      h('label', { class: 'field', for: 'dialog-minutes' }, h('span', { class: 'field-label', i18n: 'console.extendMinutes' }), minutes),
      h('label', { class: 'field', for: 'dialog-reason' }, h('span', { class: 'field-label', i18n: 'console.extendReason' }), reason),
    ],
    confirmKey: 'console.extend',
    onConfirm: async () => {
      const n = Number.parseInt(minutes.value, 10);
      if (!Number.isFinite(n) || n < 1 || n > 600) {
        throw { texts: { zh: '请输入 1 到 600 之间的分钟数', en: 'Enter between 1 and 600 minutes' } };
      }
      if (!reason.value.trim()) throw { texts: { zh: '请填写延时原因', en: 'Please give a reason' } };
      const body = { seconds: n * 60, reason: reason.value.trim() };
      if (entry) body.attemptId = entry.attemptId;
      await session.call(`/api/console/sittings/${encodeURIComponent(sitting.id)}/extensions`, { method: 'POST', body });
      view.message = tBoth('console.extendDone', { n });
      clearTimeout(view.messageTimer);
      view.messageTimer = setTimeout(() => {
        view.message = null;
        render();
      }, 10000);
      await refresh();
    },
  });
}

(async () => {
  try {
    if (await session.verify()) {
      showUser();
      await startDashboard();
      return;
    }
  } catch (error) {
    const message = h('p', { class: 'notice notice-error' });
    setBilingualText(message, errorTexts(error));
    replaceChildren(app, message);
    setTimeout(() => window.location.reload(), 5000);
    return;
  }
  showLogin();
})();
