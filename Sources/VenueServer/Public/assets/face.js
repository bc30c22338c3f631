// Face verification pieces shared by the console (room screen) and the venue admin: the decision badge, the
// similarity number, the captured picture with the face box, and the list of verifications with thumbnails.
//
// Captured pictures need the staff bearer token (the kd_staff cookie may belong to another staff page in the
// same browser), so they are fetched as blobs and shown through object URLs (the CSP allows img-src blob:).
//
// data-testid hooks (prefix p = 'face' unless given): {p}-table, {p}-row-{id} (data-decision, data-person,
//   data-overridden, data-similarity), {p}-thumb-{id} (button; data-loaded), {p}-override-{id}, face-capture-dialog,
//   face-capture-canvas (data-drawn true|failed)

import { fetchObjectURL } from './api.js';
import { h, formatDateTime, formatTime } from './dom.js';
import { t, onLangChange } from './i18n.js';
import { openDialog } from './ui.js';

export const DECISIONS = ['match', 'mismatch', 'unusable'];
/** What a verification was for: the invigilator's desk check-in, the terminal's self check-in, a random re-check
 * during the exam, a staff member's sign-in. */
export const PURPOSES = ['checkIn', 'selfCheckIn', 'recheck', 'staffSignIn'];
export const PERSON_KINDS = ['candidate', 'staff'];
const DECISION_BADGE = { match: 'badge-ok', mismatch: 'badge-danger', unusable: 'badge-warn' };
const BOX_COLOUR = { match: '#1e7b3c', mismatch: '#c01c28', unusable: '#a45c00' };
const enc = encodeURIComponent;

/** The card labels of the verification tables (a CSS attr(), not text) follow the language switch. */
onLangChange(() => {
  document.querySelectorAll('table.faces td[data-label-key]').forEach((td) => {
    td.dataset.label = t(td.dataset.labelKey);
  });
});

/** The picture problems as translated words: tooDark → 太暗. */
export function flagWords(flags) {
  return flags.flatMap((f, i) => [i ? '、' : null, h('span', { i18n: `face.flag.${f}` })]).filter(Boolean);
}

/** 0.712 (three decimals), or — when the picture could not be judged. */
export function formatSimilarity(value) {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(3) : '—';
}

/** 通过 / 不符 / 无法判断 as a coloured badge. */
export function decisionBadge(decision, testid) {
  return h('span', {
    class: ['badge', DECISION_BADGE[decision] || null, 'face-decision'], testid, dataset: { decision },
    i18n: DECISIONS.includes(decision) ? `face.decision.${decision}` : null,
  }, DECISIONS.includes(decision) ? null : decision);
}

/**
 * Draws a picture onto a canvas at its own size, with the detected face's box (pixels of the picture) in the
 * colour of the decision. source: an <img>, <video> or <canvas>.
 */
export function drawCapture(canvas, source, width, height, face, decision) {
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(source, 0, 0, width, height);
  if (face && Number.isFinite(face.x) && Number.isFinite(face.width)) {
    const line = Math.max(2, Math.round(Math.min(width, height) / 160));
    ctx.lineWidth = line;
    ctx.strokeStyle = BOX_COLOUR[decision] || '#1a5fb4';
    ctx.strokeRect(face.x, face.y, face.width, face.height);
  }
}

/**
 * Captured pictures by verification id, fetched with the bearer token when their thumbnail comes into view and
 * kept as object URLs until released.
 */
export class CaptureImages {
  constructor(token) {
    this.token = token; // () => the current bearer token
    this.urls = new Map(); // id → Promise<object URL>
    this.observer = 'IntersectionObserver' in window
      ? new IntersectionObserver((entries) => {
        for (const entry of entries) {
          if (!entry.isIntersecting) continue;
          this.observer.unobserve(entry.target);
          this.fill(entry.target);
        }
      }, { rootMargin: '200px' })
      : null;
  }

  /** The object URL of the capture of verification id (fetched once). */
  url(id) {
    if (!this.urls.has(id)) {
      const promise = fetchObjectURL(`/api/face-verifications/${enc(id)}/image`, { token: this.token() });
      promise.catch(() => this.urls.delete(id)); // try again next time
      this.urls.set(id, promise);
    }
    return this.urls.get(id);
  }

  /** An <img> that gets its picture when it scrolls into view. */
  thumb(id, alt) {
    // No alt text until the picture is there: a browser shows the alt text of an <img> without src as a broken image.
    const img = h('img', { class: 'face-thumb', alt: '', width: 64, height: 48, dataset: { id, alt } });
    if (this.observer) this.observer.observe(img);
    else this.fill(img);
    return img;
  }

  async fill(img) {
    try {
      img.src = await this.url(img.dataset.id);
      img.alt = img.dataset.alt || '';
      img.closest('[data-loaded]')?.setAttribute('data-loaded', 'true');
    } catch {
      img.alt = t('face.noPicture');
      img.classList.add('is-missing');
    }
  }

  /** Frees the pictures of verifications no longer on show. */
  keepOnly(ids) {
    for (const [id, promise] of this.urls) {
      if (ids.has(id)) continue;
      this.urls.delete(id);
      promise.then((url) => URL.revokeObjectURL(url), () => {});
    }
  }

  clear() {
    if (this.observer) this.observer.disconnect();
    this.keepOnly(new Set());
  }
}

/** The captured picture large, with the face box and the numbers (from a thumbnail). */
export function openCapture(view, images) {
  const canvas = h('canvas', { class: 'face-still', testid: 'face-capture-canvas', width: view.imageWidth || 640, height: view.imageHeight || 480 });
  const status = h('p', { class: 'muted small', i18n: 'common.loading' });
  openDialog({
    testid: 'face-capture-dialog',
    wide: true,
    title: h('h2', {}, `${view.name || ''} ${view.personId}`),
    body: [
      canvas,
      status,
      h('dl', { class: 'kv face-kv' },
        h('dt', { i18n: 'face.col.time' }), h('dd', {}, formatDateTime(view.at)),
        h('dt', { i18n: 'face.col.decision' }), h('dd', {}, decisionBadge(view.decision)),
        h('dt', { i18n: 'face.similarity' }), h('dd', {}, h('span', { class: 'mono' }, formatSimilarity(view.similarity)), '（',
          h('span', { i18n: 'face.threshold' }), ' ', h('span', { class: 'mono' }, formatSimilarity(view.threshold)), '）'),
        h('dt', { i18n: 'face.col.by' }), h('dd', {}, view.by || '—'),
        view.flags && view.flags.length ? [h('dt', { i18n: 'face.flags' }), h('dd', {}, flagWords(view.flags))] : null,
        view.override ? [h('dt', { i18n: 'face.col.override' }), h('dd', { class: 'pre-wrap' }, `${view.override.reason}（${view.override.by} · ${formatDateTime(view.override.at)}）`)] : null,
        h('dt', { i18n: 'face.model' }), h('dd', { class: 'mono small' }, view.model || '—')),
    ],
    cancelKey: 'common.close',
  });
  images.url(view.id).then((url) => new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = reject;
    img.src = url;
  })).then((img) => {
    drawCapture(canvas, img, img.naturalWidth, img.naturalHeight, view.face, view.decision);
    canvas.dataset.drawn = 'true';
    status.remove();
  }, () => {
    canvas.dataset.drawn = 'failed';
    status.dataset.i18n = 'face.noPicture';
    status.textContent = t('face.noPicture');
  });
}

/**
 * The list of verifications as a table (cards on a phone). options: images (CaptureImages), seats (Map
 * admission → seat, for a room), showPlace (sitting and room columns), showKind (candidate or staff), prefix
 * (test ids). The purpose (desk check-in, self check-in, re-check, staff sign-in) shows under the time.
 */
export function verificationTable(list, { images, seats = null, showPlace = false, showKind = false, prefix = 'face' }) {
  const columns = ['picture', 'time', showKind ? 'kind' : null, 'candidate', showPlace ? 'place' : null, 'decision', 'similarity', 'by', 'override'].filter(Boolean);
  const cell = (key, { cls = null, testid = null } = {}, ...children) => h('td', {
    class: [`fcol-${key}`, cls], testid, dataset: { label: t(`face.col.${key}`), labelKey: `face.col.${key}` },
  }, ...children);
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data faces', testid: `${prefix}-table` },
    h('thead', {}, h('tr', {}, columns.map((key) => h('th', { class: key === 'similarity' ? 'num' : null, i18n: `face.col.${key}` })))),
    h('tbody', {}, list.map((v) => h('tr', {
      testid: `${prefix}-row-${v.id}`,
      dataset: {
        decision: v.decision, person: v.personId, overridden: v.override ? 'true' : 'false', similarity: v.similarity ?? '',
        purpose: v.purpose || '', kind: v.personKind || '',
      },
    },
    cell('picture', {}, v.pictureDeletedAt
      ? h('span', { class: 'muted small', testid: `${prefix}-picture-deleted-${v.id}`, i18n: 'face.pictureDeleted' })
      : h('button', {
        type: 'button', class: 'photo-button face-thumb-button', testid: `${prefix}-thumb-${v.id}`, dataset: { loaded: 'false' },
        i18nTitle: 'face.openPicture', on: { click: () => openCapture(v, images) },
      }, images.thumb(v.id, v.name || v.personId))),
    cell('time', { cls: 'nowrap' }, showPlace ? formatDateTime(v.at) : formatTime(v.at),
      PURPOSES.includes(v.purpose) ? [h('br'), h('span', { class: 'muted small', testid: `${prefix}-purpose-${v.id}`, i18n: `face.purpose.${v.purpose}` })] : null),
    showKind ? cell('kind', { cls: 'nowrap' }, PERSON_KINDS.includes(v.personKind)
      ? h('span', { class: 'badge', testid: `${prefix}-kind-${v.id}`, i18n: `face.admin.kind.${v.personKind}` }) : v.personKind || '—') : null,
    cell('candidate', {},
      seats && seats.get(v.personId) ? h('span', { class: 'seat-no' }, `${seats.get(v.personId)} `) : null,
      h('span', { class: 'cand-name' }, v.name || ''), ' ', h('span', { class: 'mono small' }, v.personId)),
    showPlace ? cell('place', { cls: 'small' }, [v.sittingId, v.roomId].filter(Boolean).join(' / ') || '—') : null,
    cell('decision', {}, decisionBadge(v.decision),
      v.problem ? [' ', h('span', {
        class: 'badge badge-warn', i18n: v.problem === 'camera_unavailable' ? 'face.problemWord.camera_unavailable' : null,
      }, v.problem === 'camera_unavailable' ? null : v.problem)] : null,
      v.flags && v.flags.length ? h('span', { class: 'muted small face-flags' }, flagWords(v.flags)) : null),
    cell('similarity', { cls: 'num mono' }, formatSimilarity(v.similarity)),
    cell('by', { cls: 'mono small' }, v.by || '—'),
    cell('override', { cls: 'pre-wrap', testid: `${prefix}-override-${v.id}` }, v.override
      ? [h('span', { class: 'badge badge-warn', i18n: 'face.overridden' }), ' ', v.override.reason, h('span', { class: 'muted small' }, `（${v.override.by}）`)]
      : ''))))));
}
