// Venue admin: staff accounts, the audit log and the room documents (used by admin.js).
//
// data-testid hooks:
//   staff: staff-table, staff-add, staff-row-{username} (data-role, data-disabled, data-must-change, data-source),
//     staff-edit-{username}, staff-reset-{username}, staff-toggle-{username},
//     admin-dialog, staff-form-username, staff-form-name, staff-form-role, staff-form-room-{roomId}, staff-form-password,
//     dialog-confirm, dialog-cancel, dialog-error, admin-message (data-kind)
//   audit: audit-filter, audit-actor, audit-action, audit-sitting, audit-room, audit-admission, audit-from, audit-to,
//     audit-search, audit-clear, audit-csv (href carries the filters), audit-count (data-n), audit-table,
//     audit-row-{id} (data-action, data-actor, data-admission), audit-error
//   documents: documents-list, doc-{kind}-{sittingId}-{roomId}

import { FormError } from '../assets/api.js';
import { h, replaceChildren, formatDateTime, pad2 } from '../assets/dom.js';
import { t, tBoth } from '../assets/i18n.js';
import { openDialog, field, showMessage } from '../assets/ui.js';

const ROLES = ['admin', 'invigilator', 'examiner', 'supervisor'];
export const AUDIT_ACTIONS = [
  'staff.login', 'staff.loginFailed', 'staff.passwordChanged', 'staff.created', 'staff.updated', 'package.imported',
  'sitting.started', 'room.started', 'room.paused', 'room.resumed', 'room.ended', 'time.extended', 'candidate.checkedIn',
  'candidate.markedAbsent', 'candidate.forceSubmitted', 'move.approved', 'move.rejected', 'incident.recorded',
  'face.overridden', 'staff.faceSignIn', 'camera.created', 'camera.updated', 'camera.deleted', 'camera.tested',
  'recording.deleted', 'recording.uploaded', 'paper.unsealed', 'face.dataDeleted', 'skill.sheetSubmitted',
];
const DOCUMENTS = ['roster', 'seating', 'signin', 'record'];
const enc = encodeURIComponent;

/** Every room of every sitting the admin sees: [{id, name}] without repeats. */
/** The rooms of all sittings, once each, by id. */
export function roomsOf(sittings) {
  const rooms = new Map();
  for (const sitting of sittings) for (const room of sitting.rooms) if (!rooms.has(room.id)) rooms.set(room.id, room);
  return [...rooms.values()].sort((a, b) => a.id.localeCompare(b.id));
}

function message(pair) {
  showMessage(pair, 'ok', 'admin-message');
}

// MARK: staff accounts

/** ctx: {app, call(path, options), tabs(key), errorBox(error, testid), sittings()} */
export async function showStaff(ctx) {
  const body = h('div', {}, h('p', { class: 'muted', i18n: 'common.loading' }));
  const add = h('button', { type: 'button', class: 'btn btn-primary', testid: 'staff-add', i18n: 'admin.staff.add' });
  replaceChildren(ctx.app, ctx.tabs('staff'), h('section', { class: 'card' },
    h('div', { class: 'row section-head' }, h('h1', { i18n: 'admin.tab.staff' }), h('span', { class: 'spacer' }), add),
    body));
  let accounts;
  let rooms = [];
  try {
    [accounts, rooms] = await Promise.all([ctx.call('/api/admin/staff'), ctx.sittings().then(roomsOf).catch(() => [])]);
  } catch (error) {
    replaceChildren(body, ctx.errorBox(error, 'staff-error'));
    return;
  }
  const reload = () => showStaff(ctx);
  add.addEventListener('click', () => staffDialog(ctx, null, rooms, reload));
  if (!accounts.length) {
    replaceChildren(body, h('p', { class: 'muted', i18n: 'admin.staff.none' }));
    return;
  }
  const roomName = new Map(rooms.map((r) => [r.id, r.name]));
  const head = ['username', 'name', 'role', 'rooms', 'source', 'status'].map((c) => h('th', { i18n: `admin.staff.${c}` }));
  head.push(h('th', { i18n: 'console.col.actions' }));
  replaceChildren(body, h('div', { class: 'table-wrap' }, h('table', { class: 'data staff-table', testid: 'staff-table' },
    h('thead', {}, h('tr', {}, head)),
    h('tbody', {}, accounts.map((account) => h('tr', {
      testid: `staff-row-${account.username}`, class: account.disabled ? 'is-disabled' : null,
      dataset: { role: account.role, disabled: account.disabled ? 'true' : 'false', mustChange: account.mustChangePassword ? 'true' : 'false', source: account.source },
    },
    h('td', { class: 'mono' }, account.username),
    h('td', { class: 'nowrap' }, account.name),
    h('td', {}, h('span', { i18n: `role.${account.role}` })),
    h('td', { class: 'small' }, account.rooms.length ? account.rooms.map((id) => (roomName.has(id) ? `${roomName.get(id)}（${id}）` : id)).join('、') : t('admin.staff.noRooms')),
    h('td', {}, h('span', { class: 'badge', i18n: `admin.staff.source.${account.source}` })),
    h('td', {},
      h('span', { class: ['badge', account.disabled ? 'badge-danger' : 'badge-ok'], i18n: account.disabled ? 'admin.staff.disabled' : 'admin.staff.enabled' }),
      account.mustChangePassword ? [' ', h('span', { class: 'badge badge-warn', i18n: 'admin.staff.mustChange' })] : null),
    h('td', {}, h('div', { class: 'row-actions' },
      h('button', { type: 'button', class: 'btn btn-small', testid: `staff-edit-${account.username}`, i18n: 'admin.staff.edit', on: { click: () => staffDialog(ctx, account, rooms, reload) } }),
      h('button', { type: 'button', class: 'btn btn-small', testid: `staff-reset-${account.username}`, i18n: 'admin.staff.reset', on: { click: () => resetDialog(ctx, account, reload) } }),
      h('button', {
        type: 'button', class: ['btn btn-small', account.disabled ? null : 'btn-danger-outline'], testid: `staff-toggle-${account.username}`,
        i18n: account.disabled ? 'admin.staff.enable' : 'admin.staff.disable', on: { click: () => toggleDialog(ctx, account, reload) },
      })))))))));
}

function roomChecks(rooms, chosen) {
  return h('div', { class: 'checks', role: 'group' }, rooms.map((room) => h('label', { class: 'check' },
    h('input', { type: 'checkbox', value: room.id, testid: `staff-form-room-${room.id}`, checked: chosen.includes(room.id) }),
    h('span', {}, `${room.name}（${room.id}）`))));
}

function passwordInput() {
  return h('input', { class: 'input', type: 'text', id: 'staff-form-password', testid: 'staff-form-password', autocomplete: 'new-password', spellcheck: false });
}

function checkPassword(password, username) {
  if (password.length < 10 || !/\p{L}/u.test(password) || !/\p{N}/u.test(password) || password.toLowerCase() === username.toLowerCase()) {
    throw new FormError(tBoth('pw.rule'));
  }
}

/** Adds an account (account null) or edits name, role and rooms. */
function staffDialog(ctx, account, rooms, reload) {
  const username = h('input', { class: 'input', id: 'staff-form-username', testid: 'staff-form-username', autocomplete: 'off', maxLength: 64, spellcheck: false });
  const name = h('input', { class: 'input', id: 'staff-form-name', testid: 'staff-form-name', autocomplete: 'off', maxLength: 100, value: account ? account.name : '' });
  const role = h('select', { class: 'input', id: 'staff-form-role', testid: 'staff-form-role' },
    ROLES.map((r) => h('option', { value: r, i18n: `role.${r}`, selected: account ? account.role === r : r === 'invigilator' })));
  const checks = roomChecks(rooms, account ? account.rooms : []);
  const password = passwordInput();
  openDialog({
    testid: 'admin-dialog',
    title: h('h2', account ? { i18n: 'admin.staff.editTitle', params: { name: `${account.name}（${account.username}）` } } : { i18n: 'admin.staff.addTitle' }),
    body: [
      account ? null : field('admin.staff.username', username, 'admin.staff.usernameHint'),
      field('admin.staff.name', name),
      field('admin.staff.role', role),
      h('div', { class: 'field' }, h('p', { class: 'field-label', i18n: 'admin.staff.rooms' }), checks, h('p', { class: 'field-hint muted small', i18n: 'admin.staff.roomsHint' })),
      account ? null : field('admin.staff.password', password, 'admin.staff.passwordHint'),
    ],
    confirmKey: account ? 'common.save' : 'admin.staff.add',
    onConfirm: async () => {
      const chosen = [...checks.querySelectorAll('input:checked')].map((input) => input.value);
      if (!name.value.trim()) throw new FormError(tBoth('error.required'));
      if (account) {
        await ctx.call(`/api/admin/staff/${enc(account.username)}`, { method: 'POST', body: { name: name.value.trim(), role: role.value, rooms: chosen } });
        message(tBoth('admin.staff.saved', { username: account.username }));
      } else {
        const user = username.value.trim();
        if (!/^[A-Za-z0-9._-]{1,64}$/.test(user)) throw new FormError(tBoth('admin.staff.usernameHint'));
        checkPassword(password.value, user);
        await ctx.call('/api/admin/staff', { method: 'POST', body: { username: user, name: name.value.trim(), role: role.value, rooms: chosen, password: password.value } });
        message(tBoth('admin.staff.created', { username: user }));
      }
      reload();
    },
  });
}

function resetDialog(ctx, account, reload) {
  const password = passwordInput();
  openDialog({
    testid: 'admin-dialog',
    title: h('h2', { i18n: 'admin.staff.resetTitle', params: { name: `${account.name}（${account.username}）` } }),
    body: [h('p', { class: 'notice notice-warn', i18n: 'admin.staff.resetHint' }), field('admin.staff.newPassword', password, 'admin.staff.passwordHint')],
    confirmKey: 'admin.staff.reset',
    danger: true,
    onConfirm: async () => {
      checkPassword(password.value, account.username);
      await ctx.call(`/api/admin/staff/${enc(account.username)}`, { method: 'POST', body: { password: password.value } });
      message(tBoth('admin.staff.resetDone', { username: account.username }));
      reload();
    },
  });
}

function toggleDialog(ctx, account, reload) {
  const disable = !account.disabled;
  openDialog({
    testid: 'admin-dialog',
    title: h('h2', { i18n: disable ? 'admin.staff.disableTitle' : 'admin.staff.enableTitle', params: { name: `${account.name}（${account.username}）` } }),
    body: disable ? h('p', { class: 'notice notice-warn', i18n: 'admin.staff.disableHint' }) : null,
    confirmKey: disable ? 'admin.staff.disable' : 'admin.staff.enable',
    danger: disable,
    onConfirm: async () => {
      await ctx.call(`/api/admin/staff/${enc(account.username)}`, { method: 'POST', body: { disabled: disable } });
      message(tBoth(disable ? 'admin.staff.disabledDone' : 'admin.staff.enabledDone', { username: account.username }));
      reload();
    },
  });
}

// MARK: audit log

const FILTERS = ['actor', 'action', 'sittingId', 'roomId', 'admissionNumber', 'from', 'to'];

function localInputValue(ms) {
  const d = new Date(Number(ms));
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}T${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

/** query: URLSearchParams from the address (#audit?actor=…&from=ms…). */
export async function showAudit(ctx, query) {
  const filters = Object.fromEntries(FILTERS.map((key) => [key, query.get(key) || '']));
  let sittings = [];
  try {
    sittings = await ctx.sittings();
  } catch {
    /* the filter lists stay short */
  }
  const rooms = roomsOf(sittings);
  const input = (key, testid, props = {}) => h('input', { class: 'input', id: testid, testid, value: filters[key], autocomplete: 'off', ...props });
  const actor = input('actor', 'audit-actor', { spellcheck: false });
  const admission = input('admissionNumber', 'audit-admission', { spellcheck: false });
  const action = h('select', { class: 'input', id: 'audit-action', testid: 'audit-action' },
    h('option', { value: '', i18n: 'common.all' }),
    AUDIT_ACTIONS.map((a) => h('option', { value: a, selected: filters.action === a }, `${t(`audit.${a}`)}（${a}）`)));
  const sitting = h('select', { class: 'input', id: 'audit-sitting', testid: 'audit-sitting' },
    h('option', { value: '', i18n: 'common.all' }),
    sittings.map((s) => h('option', { value: s.id, selected: filters.sittingId === s.id }, `${s.name}（${s.id}）`)));
  const room = h('select', { class: 'input', id: 'audit-room', testid: 'audit-room' },
    h('option', { value: '', i18n: 'common.all' }),
    rooms.map((r) => h('option', { value: r.id, selected: filters.roomId === r.id }, `${r.name}（${r.id}）`)));
  const from = h('input', { class: 'input', type: 'datetime-local', id: 'audit-from', testid: 'audit-from', value: filters.from ? localInputValue(filters.from) : '' });
  const to = h('input', { class: 'input', type: 'datetime-local', id: 'audit-to', testid: 'audit-to', value: filters.to ? localInputValue(filters.to) : '' });
  const csv = h('a', { class: 'btn', testid: 'audit-csv', i18n: 'admin.audit.csv', download: 'audit-log.csv' });
  const form = h('form', { class: 'audit-filter', testid: 'audit-filter', novalidate: true },
    h('div', { class: 'filter-grid' },
      field('admin.audit.actor', actor), field('admin.audit.action', action), field('admin.audit.sitting', sitting),
      field('admin.audit.room', room), field('admin.audit.admission', admission), field('admin.audit.from', from), field('admin.audit.to', to)),
    h('div', { class: 'row' },
      h('button', { type: 'submit', class: 'btn btn-primary', testid: 'audit-search', i18n: 'common.search' }),
      h('button', { type: 'button', class: 'btn', testid: 'audit-clear', i18n: 'common.clear', on: { click: () => { window.location.hash = '#audit'; } } }),
      h('span', { class: 'spacer' }), csv));
  const body = h('div', {}, h('p', { class: 'muted', i18n: 'common.loading' }));
  replaceChildren(ctx.app, ctx.tabs('audit'), h('section', { class: 'card' }, h('h1', { i18n: 'admin.tab.audit' }), form, body));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    const put = (key, value) => {
      if (value) next.set(key, value);
    };
    put('actor', actor.value.trim());
    put('action', action.value);
    put('sittingId', sitting.value);
    put('roomId', room.value);
    put('admissionNumber', admission.value.trim());
    if (from.value) put('from', String(new Date(from.value).getTime()));
    if (to.value) put('to', String(new Date(to.value).getTime() + 59999)); // to the end of that minute
    const hash = next.toString() ? `#audit?${next}` : '#audit';
    if (window.location.hash === hash) showAudit(ctx, next);
    else window.location.hash = hash;
  });
  const apiQuery = new URLSearchParams();
  for (const key of FILTERS) if (filters[key]) apiQuery.set(key, filters[key]);
  csv.href = `/api/admin/audit.csv${apiQuery.toString() ? `?${apiQuery}` : ''}`;
  const limit = 500;
  apiQuery.set('limit', String(limit));
  let entries;
  try {
    entries = await ctx.call(`/api/admin/audit?${apiQuery}`);
  } catch (error) {
    replaceChildren(body, ctx.errorBox(error, 'audit-error'));
    return;
  }
  const count = h('p', {
    class: 'muted small', testid: 'audit-count', dataset: { n: entries.length },
    i18n: entries.length >= limit ? 'admin.audit.countLimited' : 'admin.audit.count', params: { n: entries.length },
  });
  if (!entries.length) {
    replaceChildren(body, count, h('p', { class: 'muted', i18n: 'admin.audit.none' }));
    return;
  }
  const head = ['at', 'actor', 'action', 'where', 'candidate', 'reason', 'detail'].map((c) => h('th', { i18n: `admin.audit.col.${c}` }));
  replaceChildren(body, count, h('div', { class: 'table-wrap' }, h('table', { class: 'data audit-table', testid: 'audit-table' },
    h('thead', {}, h('tr', {}, head)),
    h('tbody', {}, entries.map((entry) => h('tr', {
      testid: `audit-row-${entry.id}`, dataset: { action: entry.action, actor: entry.actor, admission: entry.admissionNumber || '' },
    },
    h('td', { class: 'nowrap' }, formatDateTime(entry.at)),
    h('td', {}, h('span', { class: 'mono' }, entry.actor), h('br'), h('span', { class: 'muted small', i18n: ROLES.includes(entry.actorRole) ? `role.${entry.actorRole}` : null }, ROLES.includes(entry.actorRole) ? null : entry.actorRole)),
    h('td', {}, h('span', { class: ['badge', actionBadge(entry.action)], title: entry.action, i18n: AUDIT_ACTIONS.includes(entry.action) ? `audit.${entry.action}` : null },
      AUDIT_ACTIONS.includes(entry.action) ? null : entry.action)),
    h('td', { class: 'small' }, [entry.sittingId, entry.roomId].filter(Boolean).join(' / ') || '—'),
    h('td', { class: 'mono small' }, entry.admissionNumber || '—'),
    h('td', { class: 'pre-wrap' }, entry.reason || ''),
    h('td', { class: 'small detail' }, entry.detail ? Object.entries(entry.detail).map(([k, v]) => `${k}=${v}`).join('  ') : '')))))));
}

function actionBadge(action) {
  if (action === 'staff.loginFailed' || action === 'candidate.forceSubmitted' || action === 'room.ended' || action === 'incident.recorded'
    || action === 'move.rejected') return 'badge-danger';
  if (action.startsWith('room.') || action === 'time.extended' || action.startsWith('move.') || action.startsWith('face.')) return 'badge-warn';
  if (action.startsWith('candidate.')) return 'badge-primary';
  return '';
}

// MARK: documents

export async function showDocuments(ctx) {
  const body = h('div', {}, h('p', { class: 'muted', i18n: 'common.loading' }));
  replaceChildren(ctx.app, ctx.tabs('documents'), h('section', { class: 'card' },
    h('h1', { i18n: 'admin.tab.documents' }), h('p', { class: 'muted', i18n: 'admin.docs.hint' }), body));
  let sittings;
  try {
    sittings = await ctx.sittings();
  } catch (error) {
    replaceChildren(body, ctx.errorBox(error, 'documents-error'));
    return;
  }
  replaceChildren(body, h('div', { testid: 'documents-list' }, sittings.map((sitting) => h('section', { class: 'doc-sitting' },
    h('h2', {}, sitting.name, ' ', h('span', { class: 'muted small' }, sitting.id)),
    h('ul', { class: 'doc-rooms' }, sitting.rooms.map((room) => h('li', { class: 'doc-room' },
      h('span', { class: 'doc-room-name', i18n: 'admin.docs.room', params: { room: `${room.name}（${room.id}）`, n: room.candidates } }),
      h('span', { class: 'row' }, DOCUMENTS.map((kind) => h('a', {
        class: 'btn btn-small', target: '_blank', rel: 'noopener', testid: `doc-${kind}-${sitting.id}-${room.id}`, i18n: `doc.${kind}`,
        href: `/console/print/${kind}.html?sitting=${enc(sitting.id)}&room=${enc(room.id)}`,
      }))))))))));
}
