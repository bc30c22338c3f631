// Talking to the venue server. Every error becomes an ApiError with the server's code and both texts
// (`messageZh`, `message`); a failed connection is an ApiError with `network: true` and status 0.

import { tBoth, pick } from './i18n.js';

export class ApiError extends Error {
  constructor({ status = 0, code = 'network', message = '', messageZh = '', problems = null, network = false, retryAfterSeconds = null } = {}) {
    super(message || code);
    this.retryAfterSeconds = retryAfterSeconds;
    this.status = status;
    this.code = code;
    this.messageEn = message;
    this.messageZh = messageZh;
    this.problems = problems;
    this.network = network;
  }

  /** True when trying again later may work: no connection, a server failure, or a timeout. */
  get retryable() {
    return this.network || this.status >= 500 || this.status === 408 || this.status === 429;
  }

  /** The message in both languages. */
  get texts() {
    if (this.network) return tBoth('error.network');
    const zh = this.messageZh || this.messageEn || this.code;
    const en = this.messageEn || this.messageZh || this.code;
    return { zh, en };
  }
}

/** A problem the page finds before asking the server (a missing reason, a bad number); shown like a server error. */
export class FormError extends Error {
  constructor(texts) {
    super(texts.en || texts.zh);
    this.texts = texts;
  }
}

/** The error's message in the current language (works for any thrown value). */
export function errorText(error) {
  return pick(errorTexts(error));
}

/** The error's message in both languages. */
export function errorTexts(error) {
  if (error instanceof ApiError || error instanceof FormError) return error.texts;
  const detail = error && error.message ? error.message : String(error);
  return tBoth('error.unexpected', { detail });
}

/**
 * One API call. `body` is sent as JSON unless `raw` is given (a File, Blob or ArrayBuffer sent as is, with
 * `contentType`, application/octet-stream by default). Returns the parsed JSON (or null for an empty answer);
 * throws ApiError.
 */
export async function api(path, { method = 'GET', body, raw, contentType, token, timeoutMs = 20000, keepalive = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload;
  if (raw !== undefined) {
    payload = raw;
    headers['Content-Type'] = contentType || 'application/octet-stream';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let response;
  try {
    response = await fetch(path, {
      method, headers, body: payload, cache: 'no-store', credentials: 'same-origin', signal: controller.signal, keepalive,
    });
  } catch (error) {
    throw new ApiError({ network: true, status: 0, code: 'network', message: String(error && error.message) });
  } finally {
    clearTimeout(timer);
  }
  let text = '';
  try {
    text = await response.text();
  } catch (error) {
    throw new ApiError({ network: true, status: 0, code: 'network', message: String(error && error.message) });
  }
  let json = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  if (!response.ok) {
    const detail = json && json.error ? json.error : {};
    throw new ApiError({
      status: response.status,
      code: detail.code || `http_${response.status}`,
      message: detail.message || `HTTP ${response.status}`,
      messageZh: detail.messageZh || `服务器返回 HTTP ${response.status}`,
      problems: detail.problems || null,
      retryAfterSeconds: Number.isFinite(detail.retryAfterSeconds) ? detail.retryAfterSeconds
        : (Number.parseInt(response.headers.get('Retry-After') || '', 10) || null),
    });
  }
  return json;
}

/**
 * A picture (or other file) that needs the bearer token, as an object URL for <img src> (the caller revokes it
 * with URL.revokeObjectURL when the picture goes). Throws ApiError like api().
 */
export async function fetchObjectURL(path, { token, timeoutMs = 20000 } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    let response;
    try {
      response = await fetch(path, { headers, cache: 'no-store', credentials: 'same-origin', signal: controller.signal });
    } catch (error) {
      throw new ApiError({ network: true, status: 0, code: 'network', message: String(error && error.message) });
    }
    if (!response.ok) {
      let detail = {};
      try {
        detail = (await response.json()).error || {};
      } catch {
        detail = {};
      }
      throw new ApiError({
        status: response.status, code: detail.code || `http_${response.status}`,
        message: detail.message || `HTTP ${response.status}`, messageZh: detail.messageZh || `服务器返回 HTTP ${response.status}`,
      });
    }
    return URL.createObjectURL(await response.blob());
  } finally {
    clearTimeout(timer);
  }
}

/** Reads JSON kept in localStorage; `fallback` when missing or unreadable. */
export function loadJSON(key, fallback) {
  try {
    const text = localStorage.getItem(key);
    return text === null ? fallback : JSON.parse(text);
  } catch {
    return fallback;
  }
}

/** Keeps JSON in localStorage; returns false when the browser refused (storage full or disabled). */
export function saveJSON(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
    return true;
  } catch {
    return false;
  }
}

export function removeKey(key) {
  try {
    localStorage.removeItem(key);
  } catch {
    /* nothing to do */
  }
}

/** Random hexadecimal text (crypto.getRandomValues works on plain-HTTP LAN pages too). */
export function randomHex(bytes = 8) {
  const values = new Uint8Array(bytes);
  crypto.getRandomValues(values);
  return Array.from(values, (b) => b.toString(16).padStart(2, '0')).join('');
}
