// Venue admin: face verification. Enrolment (is the engine there, how many registered photos have a template,
// which photos cannot be used and why) and the record of verifications with filters and a CSV export.
// Route: #face?sittingId=…&roomId=…&personId=…&decision=…&purpose=…&personKind=…
//
// data-testid hooks:
//   enrolment: face-enrolment (data-available, data-people, data-enrolled, data-pending, data-problems),
//     face-unavailable, face-enrolment-refresh, face-model, face-threshold, face-people, face-enrolled, face-pending,
//     face-problems, face-problem-{id} (data-code, data-kind), face-enrolment-error
//   verifications: face-filter, face-filter-sitting, face-filter-room, face-filter-person, face-filter-decision,
//     face-filter-purpose (checkIn|selfCheckIn|recheck|staffSignIn), face-filter-kind (candidate|staff),
//     face-search, face-clear, face-csv (href carries the filters), face-count (data-n), face-table,
//     face-row-{id} (data-decision, data-person, data-overridden, data-similarity, data-purpose, data-kind),
//     face-purpose-{id}, face-kind-{id}, face-thumb-{id},
//     face-override-{id}, face-error

import { h, replaceChildren, formatDateTime } from '../assets/dom.js';
import { t, setBilingualText } from '../assets/i18n.js';
import { field } from '../assets/ui.js';
import { roomsOf } from './accounts.js';
import { CaptureImages, DECISIONS, PERSON_KINDS, PURPOSES, formatSimilarity, verificationTable } from '../assets/face.js';

const FILTERS = ['sittingId', 'roomId', 'personId', 'decision', 'purpose', 'personKind'];
const LIMIT = 500;
const PROBLEM_CODES = [
  'face_not_found', 'face_several', 'face_too_small', 'face_too_dark', 'face_too_bright', 'face_too_blurred',
  'image_empty', 'image_too_large', 'image_too_many_pixels', 'image_not_decodable', 'image_truncated',
];
let images = null; // the captured pictures on show (freed when the page is shown again)

/** ctx: {app, call(path, options), token(), tabs(key), errorBox(error, testid), sittings()}; query: URLSearchParams. */
export async function showFace(ctx, query) {
  if (images) images.clear();
  images = new CaptureImages(ctx.token);
  const filters = Object.fromEntries(FILTERS.map((key) => [key, query.get(key) || '']));
  const enrolment = h('section', { class: 'card', testid: 'face-enrolment' }, h('p', { class: 'muted', i18n: 'common.loading' }));
  const list = h('section', { class: 'card' }, h('h1', { i18n: 'face.admin.verifications' }), h('p', { class: 'muted', i18n: 'common.loading' }));
  replaceChildren(ctx.app, ctx.tabs('face'), enrolment, list);
  await Promise.all([showEnrolment(ctx, enrolment), showVerifications(ctx, list, filters)]);
}

async function showEnrolment(ctx, card) {
  const refresh = h('button', {
    type: 'button', class: 'btn btn-small', testid: 'face-enrolment-refresh', i18n: 'common.refresh',
    on: { click: () => showEnrolment(ctx, card) },
  });
  const head = h('div', { class: 'row section-head' }, h('h1', { i18n: 'face.admin.enrolment' }), h('span', { class: 'spacer' }), refresh);
  let answer;
  try {
    answer = await ctx.call('/api/admin/face/enrolment');
  } catch (error) {
    replaceChildren(card, head, ctx.errorBox(error, 'face-enrolment-error'));
    return;
  }
  card.dataset.available = answer.available ? 'true' : 'false';
  if (!answer.available) {
    const notice = h('p', { class: 'notice notice-error', role: 'alert', testid: 'face-unavailable' });
    setBilingualText(notice, answer.message || { zh: t('face.admin.unavailable'), en: t('face.admin.unavailable') });
    replaceChildren(card, head, notice, h('p', { class: 'muted small', i18n: 'face.admin.unavailableHint' }));
    return;
  }
  const status = answer.status || { people: 0, enrolled: 0, pending: 0, problems: [] };
  const problems = status.problems || [];
  Object.assign(card.dataset, {
    people: status.people, enrolled: status.enrolled, pending: status.pending, problems: problems.length,
  });
  const number = (key, value, testid, cls) => h('div', { class: ['face-stat', cls] },
    h('span', { class: 'face-stat-label', i18n: key }), h('strong', { testid }, String(value ?? '—')));
  replaceChildren(card, head,
    h('div', { class: 'face-stats' },
      number('face.admin.people', status.people, 'face-people'),
      number('face.admin.enrolled', status.enrolled, 'face-enrolled', 'is-ok'),
      number('face.admin.pending', status.pending, 'face-pending', status.pending ? 'is-warn' : null),
      number('face.admin.unusable', problems.length, 'face-unusable', problems.length ? 'is-danger' : null),
      number('face.threshold', formatSimilarity(answer.threshold), 'face-threshold')),
    h('p', { class: 'muted small' }, h('span', { i18n: 'face.model' }), '：', h('span', { class: 'mono', testid: 'face-model' }, status.model || '—')),
    status.pending ? h('p', { class: 'notice notice-warn', i18n: 'face.admin.pendingHint', params: { n: status.pending } }) : null,
    problems.length ? [
      h('h2', { class: 'section-title', i18n: 'face.admin.problems', params: { n: problems.length } }),
      h('p', { class: 'muted small', i18n: 'face.admin.problemsHint' }),
      h('div', { class: 'table-wrap' }, h('table', { class: 'data face-problems', testid: 'face-problems' },
        h('thead', {}, h('tr', {}, ['photo', 'person', 'problem', 'detail', 'at'].map((c) => h('th', { i18n: `face.admin.col.${c}` })))),
        h('tbody', {}, problems.map((p) => h('tr', { testid: `face-problem-${p.id}`, dataset: { code: p.code, kind: p.kind } },
          h('td', {}, p.kind === 'candidate'
            ? h('img', { class: 'thumb', src: `/api/photos/${encodeURIComponent(p.id)}`, alt: p.name || p.id, loading: 'lazy', width: 40, height: 48 })
            : ''),
          h('td', {}, h('span', { class: 'nowrap' }, p.name || ''), ' ', h('span', { class: 'mono small' }, p.id),
            h('br'), h('span', { class: 'muted small', i18n: p.kind === 'candidate' ? 'face.admin.kind.candidate' : 'face.admin.kind.staff' })),
          h('td', {}, h('span', { class: 'badge badge-danger', title: p.code, i18n: PROBLEM_CODES.includes(p.code) ? `face.problem.${p.code}` : null },
            PROBLEM_CODES.includes(p.code) ? null : p.code)),
          h('td', { class: 'small' }, p.detail || ''),
          h('td', { class: 'nowrap small' }, p.at ? formatDateTime(p.at) : '—')))))),
    ] : h('p', { class: 'notice notice-ok', testid: 'face-problems-none', i18n: 'face.admin.noProblems' }));
}

async function showVerifications(ctx, card, filters) {
  let sittings = [];
  try {
    sittings = await ctx.sittings();
  } catch {
    /* the filter lists stay short */
  }
  const rooms = roomsOf(sittings);
  const sitting = h('select', { class: 'input', id: 'face-filter-sitting', testid: 'face-filter-sitting' },
    h('option', { value: '', i18n: 'common.all' }),
    sittings.map((s) => h('option', { value: s.id, selected: filters.sittingId === s.id }, `${s.name}（${s.id}）`)));
  const room = h('select', { class: 'input', id: 'face-filter-room', testid: 'face-filter-room' },
    h('option', { value: '', i18n: 'common.all' }),
    rooms.map((r) => h('option', { value: r.id, selected: filters.roomId === r.id }, `${r.name}（${r.id}）`)));
  const person = h('input', {
    class: 'input', id: 'face-filter-person', testid: 'face-filter-person', value: filters.personId, autocomplete: 'off', spellcheck: false,
    i18nPlaceholder: 'term.admissionPlaceholder',
  });
  const decision = h('select', { class: 'input', id: 'face-filter-decision', testid: 'face-filter-decision' },
    h('option', { value: '', i18n: 'common.all' }),
    DECISIONS.map((d) => h('option', { value: d, selected: filters.decision === d, i18n: `face.decision.${d}` })));
  const purpose = h('select', { class: 'input', id: 'face-filter-purpose', testid: 'face-filter-purpose' },
    h('option', { value: '', i18n: 'common.all' }),
    PURPOSES.map((p) => h('option', { value: p, selected: filters.purpose === p, i18n: `face.purposeFull.${p}` })));
  const personKind = h('select', { class: 'input', id: 'face-filter-kind', testid: 'face-filter-kind' },
    h('option', { value: '', i18n: 'common.all' }),
    PERSON_KINDS.map((k) => h('option', { value: k, selected: filters.personKind === k, i18n: `face.admin.kind.${k}` })));
  const csv = h('a', { class: 'btn', testid: 'face-csv', i18n: 'face.admin.csv', download: 'face-verifications.csv' });
  const form = h('form', { class: 'audit-filter', testid: 'face-filter', novalidate: true },
    h('div', { class: 'filter-grid' },
      field('admin.audit.sitting', sitting), field('admin.audit.room', room), field('admin.audit.admission', person),
      field('face.col.decision', decision), field('face.col.purpose', purpose), field('face.col.kind', personKind)),
    h('div', { class: 'row' },
      h('button', { type: 'submit', class: 'btn btn-primary', testid: 'face-search', i18n: 'common.search' }),
      h('button', { type: 'button', class: 'btn', testid: 'face-clear', i18n: 'common.clear', on: { click: () => { window.location.hash = '#face'; } } }),
      h('span', { class: 'spacer' }), csv));
  const body = h('div', {}, h('p', { class: 'muted', i18n: 'common.loading' }));
  replaceChildren(card, h('h1', { i18n: 'face.admin.verifications' }), form, body);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    const put = (key, value) => {
      if (value) next.set(key, value);
    };
    put('sittingId', sitting.value);
    put('roomId', room.value);
    put('personId', person.value.trim());
    put('decision', decision.value);
    put('purpose', purpose.value);
    put('personKind', personKind.value);
    const hash = next.toString() ? `#face?${next}` : '#face';
    if (window.location.hash === hash) showVerifications(ctx, card, Object.fromEntries(FILTERS.map((k) => [k, next.get(k) || ''])));
    else window.location.hash = hash;
  });
  const apiQuery = new URLSearchParams();
  for (const key of FILTERS) if (filters[key]) apiQuery.set(key, filters[key]);
  csv.href = `/api/admin/face/verifications.csv${apiQuery.toString() ? `?${apiQuery}` : ''}`;
  apiQuery.set('limit', String(LIMIT));
  let rows;
  try {
    rows = await ctx.call(`/api/admin/face/verifications?${apiQuery}`);
  } catch (error) {
    replaceChildren(body, ctx.errorBox(error, 'face-error'));
    return;
  }
  const count = h('p', {
    class: 'muted small', testid: 'face-count', dataset: { n: rows.length },
    i18n: rows.length >= LIMIT ? 'admin.audit.countLimited' : 'admin.audit.count', params: { n: rows.length },
  });
  if (!rows.length) {
    replaceChildren(body, count, h('p', { class: 'muted', i18n: 'face.admin.none' }));
    return;
  }
  replaceChildren(body, count, verificationTable(rows, { images, showPlace: true, showKind: true, prefix: 'face' }));
}
