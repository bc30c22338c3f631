/*
 * What every office page module shares: the language and its texts (t, addTexts, bilingual), the element helper
 * h(), calls to the office API (call for JSON, upload for raw bytes), error boxes that list every problem the server
 * names, a modal dialog, the tab bar, form fields, and the question types with their names.
 *
 * data-testid hooks made here: page-error (an error box; its problems are problem-{n}), dialog, dialog-ok,
 *   dialog-cancel, dialog-input, tab-{completeness|alerts|venues|reports|banks|papers|plans}
 */

const texts = { zh: {}, en: {} };
export let lang = localStorage.getItem('kd-office-lang') === 'en' ? 'en' : 'zh';

export function setLang(value) {
  lang = value;
  localStorage.setItem('kd-office-lang', value);
}

/** Adds a module's texts; a key missing in English falls back to Chinese, a missing key to the key itself. */
export function addTexts(zh, en) {
  Object.assign(texts.zh, zh);
  Object.assign(texts.en, en);
}

export const t = (key, params = {}) =>
  String(texts[lang][key] ?? texts.zh[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => params[k] ?? '');

/** A {zh, en} message from the server in the current language. */
export const bilingual = (message) => (message ? (lang === 'en' ? message.en ?? message.zh : message.zh ?? message.en) ?? '' : '');

export function h(tag, props = {}, ...children) {
  const svg = ['svg', 'rect', 'text', 'g', 'line', 'title'].includes(tag);
  const el = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    else if (key === 'testid') el.dataset.testid = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'value' && !svg) el.value = value;
    else if (key === 'checked' && !svg) el.checked = Boolean(value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat(Infinity)) if (child !== null && child !== undefined && child !== false) el.append(child);
  return el;
}

export const when = (iso) => (iso ? new Date(iso).toLocaleString(lang === 'en' ? 'en-GB' : 'zh-CN', { hour12: false }) : '—');
export const points = (value) => (value === null || value === undefined ? '—' : String(Math.round(Number(value) * 100) / 100));
export const enc = encodeURIComponent;

function failure(response, body) {
  const message = body?.error ? (lang === 'en' ? body.error.message : body.error.messageZh) : `HTTP ${response.status}`;
  const error = new Error(message);
  error.status = response.status;
  error.code = body?.error?.code;
  error.problems = body?.error?.problems || [];
  error.body = body;
  return error;
}

/** A JSON call to the office API; an error carries status, code, problems and the whole body. */
export async function call(path, options = {}) {
  const init = { credentials: 'same-origin', ...options, headers: { 'Content-Type': 'application/json', ...(options.headers || {}) } };
  if (init.body !== undefined && typeof init.body !== 'string') init.body = JSON.stringify(init.body);
  const response = await fetch(path, init);
  if (response.status === 204) return null;
  const body = await response.json().catch(() => null);
  if (!response.ok) throw failure(response, body);
  return body;
}

/** Sends raw bytes (a file) and reads JSON back. */
export async function upload(path, bytes, method = 'POST', type = 'application/octet-stream') {
  const response = await fetch(path, { method, credentials: 'same-origin', headers: { 'Content-Type': type }, body: bytes });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw failure(response, body);
  return body;
}

/** The list of problems an error names, each in the current language (strings, {zh, en}, or {message: {zh, en}}). */
export function problemList(problems, testid = 'problem') {
  if (!problems || !problems.length) return null;
  return h('ul', { class: 'problems' }, problems.map((p, i) => h('li', { testid: `${testid}-${i}` },
    typeof p === 'string' ? p : p.message ? bilingual(p.message) : p.zh || p.en ? bilingual(p) : JSON.stringify(p))));
}

export function errorBox(error, testid = 'page-error') {
  return h('div', { class: 'notice notice-danger', testid, dataset: { code: error.code || '' }, role: 'alert' },
    h('p', { class: 'notice-title' }, error.message), problemList(error.problems));
}

export function okBox(message, testid) {
  return h('p', { class: 'notice notice-ok', testid, role: 'status' }, message);
}

/** Replaces an element's children, leaving out null, undefined and false (replaceChildren would write "null"). */
export function put(el, ...children) {
  if (!el) return;
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}

/** Replaces the content of `slot` with the error (or clears it when error is null). */
export function showIn(slot, content) {
  slot.replaceChildren(...(content ? [content] : []));
}

/** Runs an action, showing its error (with problems) in `slot`; returns the result or undefined. */
export async function attempt(slot, action) {
  showIn(slot, null);
  try {
    return await action();
  } catch (error) {
    if (error.status === 401) { location.reload(); return undefined; }
    showIn(slot, errorBox(error, slot.dataset.errorTestid || 'page-error'));
    return undefined;
  }
}

/** An error slot with its own testid for the boxes it shows. */
export function errorSlot(testid) {
  return h('div', { class: 'error-slot', dataset: { errorTestid: testid } });
}

/** A modal dialog; resolves with true/false, or with the text typed when `input` is given (null when cancelled). */
export function dialog({ title, body = null, input = null, ok = t('ok'), cancel = t('cancel') }) {
  return new Promise((resolve) => {
    const field = input ? h('textarea', { class: 'input', rows: 3, testid: 'dialog-input', placeholder: input.placeholder || '' }) : null;
    const box = h('dialog', { class: 'dialog', testid: 'dialog' },
      h('h2', {}, title), body, field,
      h('div', { class: 'actions' },
        cancel ? h('button', { type: 'button', class: 'btn', testid: 'dialog-cancel', onclick: () => close(false) }, cancel) : null,
        h('button', { type: 'button', class: 'btn btn-primary', testid: 'dialog-ok', onclick: () => close(true) }, ok)));
    function close(confirmed) {
      box.close();
      box.remove();
      resolve(input ? (confirmed ? field.value : null) : confirmed);
    }
    box.addEventListener('cancel', (event) => { event.preventDefault(); close(false); });
    document.body.append(box);
    box.showModal();
    (field || box.querySelector('[data-testid="dialog-ok"]')).focus();
  });
}

/** A labelled field: label above, control below. */
export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('span', { class: 'muted small' }, hint) : null);
}

export const input = (testid, props = {}) => h('input', { class: 'input', testid, ...props });
export const textarea = (testid, props = {}) => h('textarea', { class: 'input', rows: 3, testid, ...props });
export function select(testid, options, selected, props = {}) {
  return h('select', { class: 'input', testid, ...props },
    options.map(([value, label]) => h('option', { value, selected: String(value) === String(selected ?? '') }, label)));
}
export const button = (testid, label, onclick, kind = '') => h('button', { type: 'button', class: ['btn', kind], testid, onclick }, label);

export function table(testid, headers, rows, empty) {
  if (!rows.length && empty) return h('p', { class: 'muted', testid }, empty);
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data', testid },
    h('thead', {}, h('tr', {}, headers.map((x) => h('th', {}, x)))), h('tbody', {}, rows)));
}

export const TABS = ['completeness', 'alerts', 'venues', 'reports', 'banks', 'papers', 'plans'];

export function tabs(active) {
  const tab = (key) => h('a', { class: ['btn tab', active === key ? 'is-active' : null], href: `#${key}`, testid: `tab-${key}` }, t(`tab.${key}`));
  return h('nav', { class: 'tabs' }, TABS.map(tab));
}

export function card(title, ...children) {
  return h('section', { class: 'card' }, title ? h('h2', {}, title) : null, ...children);
}

export const QUESTION_TYPES = ['singleChoice', 'multipleChoice', 'trueFalse', 'fillBlank', 'shortAnswer', 'essay',
  'calculation', 'flowchart', 'caseAnalysis', 'thesis'];
export const typeName = (type) => t(`type.${type}`);
export const STATES = ['draft', 'requested', 'approved', 'rejected', 'issued'];

addTexts({
  ok: '确定', cancel: '取消', save: '保存', add: '添加', remove: '删除', edit: '编辑', back: '返回', close: '关闭', all: '全部',
  'tab.completeness': '上报完整性', 'tab.alerts': '告警', 'tab.venues': '考点', 'tab.reports': '拒收记录',
  'tab.banks': '题库', 'tab.papers': '试卷', 'tab.plans': '考试计划',
  'type.singleChoice': '单选题', 'type.multipleChoice': '多选题', 'type.trueFalse': '判断题', 'type.fillBlank': '填空题',
  'type.shortAnswer': '简答题', 'type.essay': '论述题', 'type.calculation': '计算题', 'type.flowchart': '流程图题',
  'type.caseAnalysis': '案例分析题', 'type.thesis': '论文',
  'state.draft': '草稿', 'state.requested': '待审批', 'state.approved': '已批准', 'state.rejected': '已退回', 'state.issued': '已下发',
  'status.active': '在用', 'status.retired': '已停用', saved: '已保存。', yes: '是', no: '否',
}, {
  ok: 'OK', cancel: 'Cancel', save: 'Save', add: 'Add', remove: 'Remove', edit: 'Edit', back: 'Back', close: 'Close', all: 'All',
  'tab.completeness': 'Completeness', 'tab.alerts': 'Alerts', 'tab.venues': 'Venues', 'tab.reports': 'Refusals',
  'tab.banks': 'Banks', 'tab.papers': 'Papers', 'tab.plans': 'Exam plans',
  'type.singleChoice': 'Single choice', 'type.multipleChoice': 'Multiple choice', 'type.trueFalse': 'True/false',
  'type.fillBlank': 'Fill in the blanks', 'type.shortAnswer': 'Short answer', 'type.essay': 'Essay',
  'type.calculation': 'Calculation', 'type.flowchart': 'Flowchart', 'type.caseAnalysis': 'Case analysis', 'type.thesis': 'Thesis',
  'state.draft': 'draft', 'state.requested': 'awaiting approval', 'state.approved': 'approved', 'state.rejected': 'rejected',
  'state.issued': 'issued', 'status.active': 'active', 'status.retired': 'retired', saved: 'Saved.', yes: 'yes', no: 'no',
});
