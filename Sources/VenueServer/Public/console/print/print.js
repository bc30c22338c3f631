/*
 * Printable room documents (A4, from the browser): /console/print/{roster|seating|signin|record}.html?sitting=S&room=R
 *   roster  考生花名册  seat, photo, name, admission number, ID number (masked), organisation, signature
 *   seating 考场座位表  the seats in order, five to a row, with number, photo, name and admission number
 *   signin  签到表      seat, name, admission number, ID number, check-in time, signature, remarks (blank to fill in)
 *   record  考场记录    start and end, pauses, extensions, incidents, absences, submissions, signature lines
 * The documents are official paper: Chinese only. The toolbar (screen only) follows the page language.
 *
 * Data: GET …/rooms/{r} (RoomView: roster with organisation and masked ID) and GET …/rooms/{r}/record (venue,
 * occupation, level, schedule, invigilators, and the record itself). Auth: the console's (or admin's) bearer
 * token from localStorage, else the kd_staff cookie.
 *
 * Test hooks: document (data-doc), print-button, doc-title, doc-room, doc-rows (data-count), doc-row-{admissionNumber},
 *   seat-{admissionNumber}, doc-error. body[data-ready="true"] once the data and every photo have loaded.
 */

import { api, ApiError, loadJSON } from '../../assets/api.js';
import { h, replaceChildren, formatDateTime, formatTime, pad2, languageButton } from '../../assets/dom.js';
import { t, applyI18n } from '../../assets/i18n.js';

const TITLES = { roster: '考生花名册', seating: '考场座位表', signin: '签到表', record: '考场记录' };
const SUBMITTED_BY = { candidate: '考生交卷', timeUp: '时间到自动交卷', invigilator: '监考员收卷' };
const INCIDENTS = {
  cheating: '作弊', disturbance: '扰乱考场秩序', deviceFailure: '设备故障', identityMismatch: '身份不符', lateArrival: '迟到',
  illness: '身体不适', other: '其他',
};
const STATUS = { notArrived: '未到', checkedIn: '已签到', waiting: '已登录待考', answering: '答题中', submitted: '已交卷', absent: '缺考' };

const kind = document.body.dataset.doc;
const params = new URLSearchParams(window.location.search);
const sittingId = params.get('sitting');
const roomId = params.get('room');
const sheet = document.getElementById('doc');
const enc = encodeURIComponent;

function tokens() {
  const list = [];
  for (const key of ['kd.console', 'kd.admin']) {
    const saved = loadJSON(key, null);
    if (saved && saved.token && !list.includes(saved.token)) list.push(saved.token);
  }
  list.push(null); // the cookie
  return list;
}

/** GET with the first credentials that work. */
async function get(path) {
  let last = null;
  for (const token of tokens()) {
    try {
      return await api(path, { token: token || undefined });
    } catch (error) {
      last = error;
      if (!(error instanceof ApiError) || error.status !== 401) throw error;
    }
  }
  throw last;
}

function toolbar() {
  const back = h('a', { class: 'tb-btn', href: sittingId && roomId ? `/console/#room/${enc(sittingId)}/${enc(roomId)}` : '/console/', i18n: 'print.back' });
  const print = h('button', { type: 'button', class: 'tb-btn tb-primary', testid: 'print-button', i18n: 'print.button', on: { click: () => window.print() } });
  replaceChildren(document.getElementById('toolbar'),
    back, h('span', { class: 'tb-title' }, TITLES[kind] || ''), h('span', { class: 'tb-hint', i18n: 'print.hint' }), h('span', { class: 'tb-space' }),
    languageButton(), print);
  applyI18n(document.getElementById('toolbar'));
}

function fail(key, detail) {
  const box = h('div', { class: 'doc-error', testid: 'doc-error', role: 'alert' },
    h('p', { i18n: key, params: { detail: detail || '' } }),
    key === 'print.needLogin' ? h('p', {}, h('a', { href: '/console/', i18n: 'print.loginLink' })) : null);
  replaceChildren(sheet, box);
  document.body.dataset.ready = 'error';
}

// MARK: pieces

function dateText(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}年${d.getMonth() + 1}月${d.getDate()}日`;
}

function clockText(ms) {
  const d = new Date(ms);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

function staffName(record, username) {
  if (!username) return '';
  if (username === 'scheduled') return '按计划时间';
  if (username === 'timeUp') return '时间到';
  const person = (record.invigilators || []).find((p) => p.username === username);
  return person ? `${person.name}（${username}）` : username;
}

function minutesText(seconds) {
  const minutes = Math.round(seconds / 60);
  return minutes >= 60 && minutes % 60 === 0 ? `${minutes / 60} 小时` : `${minutes} 分钟`;
}

/** Title block: venue, document title, and the sitting / room facts in a grid. */
function header(record, view, extra = []) {
  const start = record.scheduledStart;
  const end = start + record.durationMinutes * 60 * 1000;
  const cells = [
    ['考试名称', record.sittingName],
    ['职业及等级', [record.occupation, record.level].filter(Boolean).join(' / ') || '—'],
    ['考场', `${record.roomName}（${record.roomId}）`, 'doc-room'],
    ['考试时间', `${dateText(start)} ${clockText(start)}–${clockText(end)}（${record.durationMinutes} 分钟）`],
    ['应考人数', `${record.candidates} 人`],
    ['监考员', (record.invigilators || []).map((p) => p.name).join('、') || '________________'],
    ...extra,
  ];
  const rows = [];
  for (let i = 0; i < cells.length; i += 2) {
    rows.push(h('tr', {}, cells.slice(i, i + 2).map(([label, value, testid]) => [
      h('th', {}, label), h('td', { testid: testid || null, colSpan: cells.slice(i, i + 2).length === 1 ? 3 : 1 }, value)])));
  }
  return h('header', { class: 'doc-head' },
    h('p', { class: 'doc-venue' }, record.venueName || ''),
    h('h1', { class: 'doc-title', testid: 'doc-title' }, TITLES[kind]),
    metaTable(rows));
}

/** The label / value grid of the header (and of the record's summary): four columns of fixed width. */
function metaTable(rows, testid) {
  return h('table', { class: 'doc-meta', testid: testid || null },
    h('colgroup', {}, ['w-label', 'w-value', 'w-label', 'w-value'].map((c) => h('col', { class: c }))),
    h('tbody', {}, rows));
}

function photo(admissionNumber, name, cls) {
  return h('img', { class: cls, src: `/api/photos/${enc(admissionNumber)}`, alt: name, decoding: 'sync' });
}

function signatures(lines) {
  return h('div', { class: 'signatures' }, lines.map((label) => [
    h('span', { class: 'sign-label' }, label), h('span', { class: 'blank' }), h('span', { class: 'sign-label' }, '日期'), h('span', { class: 'blank' })]));
}

function printedAt() {
  return h('p', { class: 'printed-at' }, `打印时间：${formatDateTime(Date.now())}　Kaodian 考点系统`);
}

// MARK: documents

function rosterDoc(record, view) {
  const rows = view.roster.map((entry, index) => h('tr', { testid: `doc-row-${entry.admissionNumber}` },
    h('td', { class: 'c' }, String(index + 1)),
    h('td', { class: 'c seat' }, entry.seat),
    h('td', { class: 'c' }, photo(entry.admissionNumber, entry.name, 'photo')),
    h('td', { class: 'name' }, entry.name),
    h('td', { class: 'mono' }, entry.admissionNumber),
    h('td', { class: 'mono small' }, entry.idNumberMasked || ''),
    h('td', { class: 'small' }, entry.organisation || ''),
    h('td', { class: 'sign' })));
  return [
    header(record, view),
    h('table', { class: 'grid roster-table', testid: 'doc-rows', dataset: { count: view.roster.length } },
      h('colgroup', {}, ['w-no', 'w-seat', 'w-photo', 'w-name', 'w-adm', 'w-id', 'w-org', 'w-sign'].map((c) => h('col', { class: c }))),
      h('thead', {}, h('tr', {}, ['序号', '座位号', '照片', '姓名', '准考证号', '身份证号', '工作单位', '考生签名'].map((x) => h('th', {}, x)))),
      h('tbody', {}, rows)),
    h('p', { class: 'note' }, '说明：考生入场时核对本人、照片与身份证件，无误后在“考生签名”栏签名。身份证号已部分隐去。'),
    signatures(['监考员（签名）', '监考员（签名）']),
    printedAt(),
  ];
}

function seatingDoc(record, view) {
  const seats = [...view.roster].sort((a, b) => a.seat.localeCompare(b.seat, 'zh-CN', { numeric: true }));
  return [
    header(record, view),
    h('div', { class: 'podium' }, '讲　台（考场前方）'),
    h('div', { class: 'seat-grid', testid: 'doc-rows', dataset: { count: seats.length } }, seats.map((entry) => h('div', {
      class: 'seat-cell', testid: `seat-${entry.admissionNumber}`,
    },
    photo(entry.admissionNumber, entry.name, 'seat-photo'),
    h('div', { class: 'seat-text' },
      h('div', { class: 'seat-number' }, entry.seat),
      h('div', { class: 'seat-name' }, entry.name),
      h('div', { class: 'seat-adm mono' }, entry.admissionNumber))))),
    h('p', { class: 'note' }, '说明：座位按座位号顺序排列，每排 5 个座位，第一排靠近讲台。'),
    printedAt(),
  ];
}

function signinDoc(record, view) {
  const rows = view.roster.map((entry) => h('tr', { testid: `doc-row-${entry.admissionNumber}` },
    h('td', { class: 'c seat' }, entry.seat),
    h('td', { class: 'name' }, entry.name),
    h('td', { class: 'mono' }, entry.admissionNumber),
    h('td', { class: 'mono small' }, entry.idNumberMasked || ''),
    h('td', { class: 'time' }, '　　:　　'),
    h('td', { class: 'sign' }),
    h('td', { class: 'remark' })));
  return [
    header(record, view),
    h('table', { class: 'grid signin-table', testid: 'doc-rows', dataset: { count: view.roster.length } },
      h('colgroup', {}, ['w-seat', 'w-name', 'w-adm', 'w-id', 'w-time', 'w-sign', 'w-remark'].map((c) => h('col', { class: c }))),
      h('thead', {}, h('tr', {}, ['座位号', '姓名', '准考证号', '身份证号', '签到时间', '考生签名', '备注'].map((x) => h('th', {}, x)))),
      h('tbody', {}, rows)),
    h('p', { class: 'note' }, '说明：考生本人签名，不得代签；缺考考生在备注栏由监考员注明“缺考”。'),
    signatures(['监考员（签名）', '监考员（签名）']),
    printedAt(),
  ];
}

function section(title, count, table, empty) {
  return h('section', { class: 'rec-section' },
    h('h2', {}, title, count !== null ? h('span', { class: 'rec-count' }, `（${count}）`) : null),
    table || h('p', { class: 'rec-empty' }, empty || '无'));
}

/** A record table; widths in mm (they add up to 180). */
function simpleTable(headings, rows, widths) {
  if (!rows.length) return null;
  return h('table', { class: 'grid rec-table' },
    h('colgroup', {}, widths.map((w) => h('col', { class: `mm${w}` }))),
    h('thead', {}, h('tr', {}, headings.map((x) => h('th', {}, x)))),
    h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((c) => h('td', {}, c ?? ''))))));
}

function recordDoc(record, view) {
  const pauses = record.pauses || [];
  const extensions = record.extensions || [];
  const incidents = record.incidents || [];
  const absences = record.absences || [];
  const submissions = record.submissions || [];
  const checkIns = record.checkIns || [];
  const phase = view && view.clock ? view.clock.phase : null;
  const summary = [
    ['实际开考', record.startedAt ? `${formatDateTime(record.startedAt)}　${staffName(record, record.startedBy)}` : '尚未开考'],
    ['考试结束', record.endedAt
      ? `${formatDateTime(record.endedAt)}　${staffName(record, record.endedBy)}${record.endReason ? `（${record.endReason}）` : ''}`
      : (phase === 'over' ? '已结束' : '尚未结束')],
    ['应考人数', `${record.candidates} 人`],
    ['人工签到', `${checkIns.length} 人`],
    ['缺考人数', `${absences.length} 人`],
    ['交卷人数', `${submissions.length} 人`],
    ['暂停次数', `${pauses.length} 次`],
    ['违纪/异常', `${incidents.length} 起`],
  ];
  const summaryRows = [];
  for (let i = 0; i < summary.length; i += 2) {
    summaryRows.push(h('tr', {}, summary.slice(i, i + 2).map(([label, value]) => [h('th', {}, label), h('td', {}, value)])));
  }
  return [
    header(record, view),
    section('一、考试概况', null, metaTable(summaryRows, 'record-summary')),
    section('二、暂停与继续', pauses.length, simpleTable(['暂停时间', '继续时间', '暂停人', '继续人', '原因'],
      pauses.map((p) => [formatDateTime(p.from), p.to ? formatDateTime(p.to) : '未继续', staffName(record, p.by), p.resumedBy ? staffName(record, p.resumedBy) : '', p.reason]),
      [34, 34, 32, 32, 47])),
    section('三、延长考试时间', extensions.length, simpleTable(['时间', '对象', '延长', '原因', '操作人'],
      extensions.map((x) => [formatTime(x.at), x.admissionNumber ? `${x.name || ''} ${x.admissionNumber}` : '全场考生', minutesText(x.seconds), x.reason, staffName(record, x.by)]),
      [18, 36, 18, 67, 40])),
    section('四、违纪及异常情况', incidents.length, simpleTable(['发生时间', '考生', '类别', '情况说明', '记录人'],
      incidents.map((i) => [formatTime(i.occurredAt), i.admissionNumber ? `${i.name || ''} ${i.admissionNumber}` : '全场', INCIDENTS[i.category] || i.category, i.note, staffName(record, i.recordedBy)]),
      [18, 36, 22, 63, 40])),
    section('五、缺考考生', absences.length, simpleTable(['座位号', '姓名', '准考证号', '登记人', '登记时间'],
      absences.map((p) => [p.seat, p.name, p.admissionNumber, p.by ? staffName(record, p.by) : '未到考', p.at ? formatTime(p.at) : '']), [18, 30, 36, 63, 32])),
    section('六、交卷情况', submissions.length, simpleTable(['座位号', '姓名', '准考证号', '交卷时间', '交卷方式'],
      submissions.map((s) => [s.seat, s.name, s.admissionNumber, formatDateTime(s.submittedAt), SUBMITTED_BY[s.submittedBy] || s.submittedBy]), [18, 30, 36, 44, 51])),
    view ? section('七、考场现状（打印时）', null, h('p', { class: 'rec-status' },
      Object.entries(STATUS).map(([key, label]) => `${label} ${(view.counts || {})[key] ?? 0} 人`).join('；'))) : null,
    h('section', { class: 'rec-section rec-sign' },
      h('h2', {}, '八、签字确认'),
      h('p', { class: 'note' }, '监考员对以上记录的真实性负责。'),
      signatures([...(record.invigilators || []).map((p) => `监考员 ${p.name}（签名）`), '监考员（签名）', '考点主考（签名）'])),
    printedAt(),
  ];
}

// MARK: start

async function waitForImages() {
  const images = [...sheet.querySelectorAll('img')];
  await Promise.all(images.map((img) => (img.complete ? Promise.resolve() : new Promise((resolve) => {
    img.addEventListener('load', resolve, { once: true });
    img.addEventListener('error', () => {
      img.classList.add('missing');
      resolve();
    }, { once: true });
  }))));
}

(async () => {
  toolbar();
  document.title = `${TITLES[kind] || ''} · ${t('app.short')}`;
  if (!sittingId || !roomId || !TITLES[kind]) {
    fail('print.missing');
    return;
  }
  sheet.dataset.doc = kind;
  const base = `/api/console/sittings/${enc(sittingId)}/rooms/${enc(roomId)}`;
  let record;
  let view;
  try {
    [record, view] = await Promise.all([get(`${base}/record`), get(base)]);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.code === 'password_change_required')) fail('print.needLogin');
    else fail('error.unexpected', error instanceof ApiError ? `${error.messageZh || ''} ${error.messageEn || ''}` : String(error));
    return;
  }
  const builders = { roster: rosterDoc, seating: seatingDoc, signin: signinDoc, record: recordDoc };
  replaceChildren(sheet, builders[kind](record, view));
  document.title = `${TITLES[kind]} · ${record.roomName} · ${record.sittingName}`;
  await waitForImages();
  document.body.dataset.ready = 'true';
})();
