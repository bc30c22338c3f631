// Small DOM helpers shared by the pages. Text always goes in through textContent, never as HTML.

import { t, getLang, setLang, applyI18n } from './i18n.js';

/**
 * h('button', {class: 'btn', i18n: 'common.login', testid: 'login-submit', on: {click}}, ...children)
 * Props: class, text, i18n (+ params), i18nPlaceholder, i18nTitle, i18nAria, i18nAlt, testid, dataset, on,
 * aria-* / role / for / anything else as attribute; known DOM properties (value, checked, disabled …) as properties.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  const params = props && props.params;
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    switch (key) {
      case 'class':
        el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
        break;
      case 'text':
        el.textContent = String(value);
        break;
      case 'i18n':
        el.dataset.i18n = value;
        if (params) el.dataset.i18nParams = JSON.stringify(params);
        el.textContent = t(value, params);
        break;
      case 'params':
        break;
      case 'i18nPlaceholder':
        el.dataset.i18nPlaceholder = value;
        el.placeholder = t(value);
        break;
      case 'i18nTitle':
        el.dataset.i18nTitle = value;
        el.title = t(value);
        break;
      case 'i18nAria':
        el.dataset.i18nAria = value;
        el.setAttribute('aria-label', t(value));
        break;
      case 'i18nAlt':
        el.dataset.i18nAlt = value;
        el.alt = t(value);
        break;
      case 'testid':
        el.setAttribute('data-testid', value);
        break;
      case 'dataset':
        for (const [name, v] of Object.entries(value)) if (v !== undefined && v !== null) el.dataset[name] = String(v);
        break;
      case 'on':
        for (const [event, handler] of Object.entries(value)) el.addEventListener(event, handler);
        break;
      case 'for':
        el.htmlFor = value;
        break;
      default:
        if (key.startsWith('aria-') || key === 'role' || !(key in el)) el.setAttribute(key, value === true ? '' : String(value));
        else el[key] = value;
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** Replaces everything inside el. */
export function replaceChildren(el, ...children) {
  el.textContent = '';
  append(el, children);
  return el;
}

export function pad2(n) {
  return String(n).padStart(2, '0');
}

/** 01:23:45 from milliseconds (never negative). */
export function formatHMS(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  return `${pad2(hours)}:${pad2(minutes)}:${pad2(seconds)}`;
}

/** A server timestamp (Unix ms or ISO text) shown as local date and time, e.g. 2026-11-22 09:00:00. */
export function formatDateTime(value) {
  if (value === undefined || value === null || value === '') return '—';
  const date = new Date(typeof value === 'number' ? value : Date.parse(value));
  if (Number.isNaN(date.getTime())) return String(value);
  return `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())} ${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}`;
}

export function formatTime(value) {
  const text = formatDateTime(value);
  return text.length > 11 ? text.slice(11) : text;
}

/** 1.5 MB, 320 KB, 45 B. */
export function formatBytes(bytes) {
  if (!Number.isFinite(bytes)) return '';
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(bytes >= 10 * 1024 * 1024 ? 0 : 1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} B`;
}

/** Points as printed on a paper: 2, 2.5. */
export function formatPoints(value) {
  if (value === undefined || value === null) return '—';
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 100) / 100);
}

/** The button that switches between 中文 and English. */
export function languageButton() {
  return h('button', {
    type: 'button', class: 'btn btn-ghost lang-switch', testid: 'lang-switch', i18n: 'lang.switch', i18nTitle: 'lang.switchTitle',
    on: { click: () => setLang(getLang() === 'en' ? 'zh' : 'en') },
  });
}

/** Translates the static parts of a page written in HTML and sets its title. */
export function initPage(titleKey) {
  applyI18n(document);
  const setTitle = () => {
    document.title = `${t(titleKey)} · ${t('app.short')}`;
  };
  setTitle();
  return setTitle;
}
