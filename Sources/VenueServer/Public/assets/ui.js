// In-page modal dialogs and short status messages shared by the console and admin pages (never window.prompt,
// alert or confirm: those cannot be translated, styled or tested, and some kiosk browsers block them).

import { h } from './dom.js';
import { applyI18n, setBilingualText } from './i18n.js';
import { errorTexts } from './api.js';

/**
 * A modal form. title and body are nodes; onConfirm() runs when the confirm button is pressed (or Enter in a
 * one-line field) and may throw an ApiError or FormError: its text is shown inside the dialog (data-testid
 * dialog-error) in the current language and the dialog stays open. The dialog closes when onConfirm resolves.
 *
 * Test hooks: {testid} (the <dialog>), dialog-confirm, dialog-cancel, dialog-error.
 */
export function openDialog({
  title, body = [], confirmKey = 'common.confirm', cancelKey = 'common.cancel', danger = false, onConfirm,
  testid = 'dialog', wide = false,
}) {
  const error = h('p', { class: 'form-error', testid: 'dialog-error', role: 'alert', hidden: true });
  const confirm = h('button', { type: 'submit', class: ['btn', danger ? 'btn-danger' : 'btn-primary'], testid: 'dialog-confirm', i18n: confirmKey });
  const cancel = h('button', { type: 'button', class: 'btn', testid: 'dialog-cancel', i18n: cancelKey });
  const form = h('form', { class: 'dialog-form', novalidate: true },
    h('div', { class: 'dialog-body' }, title, body, error),
    h('div', { class: 'dialog-actions' }, cancel, onConfirm ? confirm : null));
  const el = h('dialog', { class: ['dialog', wide ? 'dialog-wide' : null], testid }, form);
  let busy = false;
  const close = () => {
    if (el.open) el.close();
  };
  cancel.addEventListener('click', close);
  el.addEventListener('cancel', (event) => {
    if (busy) event.preventDefault();
  });
  el.addEventListener('close', () => el.remove());
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy || !onConfirm) return;
    busy = true;
    confirm.disabled = true;
    cancel.disabled = true;
    error.hidden = true;
    try {
      await onConfirm();
      close();
    } catch (err) {
      error.hidden = false;
      setBilingualText(error, errorTexts(err));
    } finally {
      busy = false;
      confirm.disabled = false;
      cancel.disabled = false;
    }
  });
  document.body.appendChild(el);
  applyI18n(el);
  el.showModal();
  const first = el.querySelector('input:not([type=hidden]):not([disabled]), select, textarea');
  if (first) first.focus();
  return { el, close };
}

/** A labelled form field: label text by i18n key, the control, an optional hint. */
export function field(labelKey, control, hintKey, params) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  return h('div', { class: 'field' },
    h('label', { class: 'field-label', for: id, i18n: labelKey, params }),
    control,
    hintKey ? h('p', { class: 'field-hint muted small', i18n: hintKey }) : null);
}

let messageTimer = null;
let messageSeq = 0;

/**
 * Shows a short message at the bottom of the screen (success or failure of an action) for a few seconds.
 * pair: {zh, en}; kind: ok | error. Test hook: {testid} with data-kind and data-seq (grows with every message).
 */
export function showMessage(pair, kind = 'ok', testid = 'page-message') {
  let region = document.getElementById('message-region');
  if (!region) {
    region = h('div', { id: 'message-region', class: 'message-region', 'aria-live': 'polite' });
    document.body.appendChild(region);
  }
  messageSeq += 1;
  const el = h('div', {
    class: ['message', kind === 'error' ? 'message-error' : 'message-ok'], role: kind === 'error' ? 'alert' : 'status',
    testid, dataset: { kind, seq: messageSeq },
  });
  const text = h('span', { class: 'message-text' });
  setBilingualText(text, pair);
  const closeButton = h('button', { type: 'button', class: 'btn btn-ghost btn-small message-close', i18nAria: 'common.close', on: { click: () => el.remove() } }, '×');
  el.append(text, closeButton);
  applyI18n(el);
  region.replaceChildren(el);
  clearTimeout(messageTimer);
  messageTimer = setTimeout(() => el.remove(), kind === 'error' ? 15000 : 8000);
  return el;
}
