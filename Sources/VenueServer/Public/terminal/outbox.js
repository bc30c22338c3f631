// A queue of records that must reach the server, kept in localStorage so that nothing is lost when the network,
// the server or the page goes away. Used for answer changes (POST /api/attempt/answers) and page events
// (POST /api/attempt/events).
//
// Rules (the product's core promise: an answer the candidate gave is never silently lost):
// - every record is written to localStorage before anything is sent; its id (changeId / eventId) is fixed then;
// - one request in flight at a time; on acknowledgement exactly the acknowledged ids are removed;
// - a record gets `sent: true` (persisted) before its first send; a newer record may replace an older one for the
//   same key only while that older one has never been sent (so a re-send keeps its id and the server can tell);
// - network errors and 5xx: keep everything, retry with backoff 1, 2, 4, 8, 10, 10 … s, for ever;
// - 401 / 409 terminal_moved / time_is_up / attempt_submitted / move_pending / move_rejected stop the queue (the page
//   decides what to show);
// - 409 room_paused (the invigilator paused the room): keep everything and retry with the same backoff; the page
//   kicks the queue as soon as the room runs again (`paused` tells the page why nothing is saved);
// - any other refusal (400 answer_*): a batch is split and sent one by one, and the single refused record is
//   dropped and reported, so one bad record can never block the others.

import { loadJSON, saveJSON } from '../assets/api.js';

const STOP_CODES = new Set(['terminal_moved', 'time_is_up', 'attempt_submitted', 'session_unknown', 'session_expired', 'session_ended', 'stopped',
  'move_pending', 'move_rejected']);
const HOLD_CODES = new Set(['sitting_not_started', 'room_paused']);

export class Outbox {
  /**
   * storageKey: localStorage key; idField: 'changeId' or 'eventId'; send(records) → Promise of {acknowledged};
   * sameSlot(a, b): true when b may replace a (optional); wire(record): the record as sent (optional).
   */
  constructor({ storageKey, idField, send, sameSlot = null, wire = null, maxBatch = 200, firstDelayMs = 400 }) {
    this.storageKey = storageKey;
    this.idField = idField;
    this.send = send;
    this.sameSlot = sameSlot;
    this.wire = wire || ((record) => {
      const copy = { ...record };
      delete copy.sent;
      return copy;
    });
    this.maxBatch = maxBatch;
    this.firstDelayMs = firstDelayMs;
    const stored = loadJSON(storageKey, []);
    this.items = Array.isArray(stored) ? stored : [];
    this.inFlight = false;
    this.timer = null;
    this.retrying = false;
    this.failures = 0;
    this.failureCount = 0; // grows with every failed send (drain() watches it)
    this.offline = false;
    this.lastError = null; // the last retryable error
    this.paused = false; // the server said the room is paused: records wait until it runs again
    this.rejected = null; // the last record the server refused, with its error
    this.stopped = null; // the error that stopped the queue
    this.isolate = 0;
    this.kickAfterFlight = false;
    this.listeners = new Set();
    this.waiters = new Set();
    this.storageOk = true;
    this.detached = false;
  }

  get count() {
    return this.items.length;
  }

  onChange(fn) {
    this.listeners.add(fn);
  }

  persist() {
    if (this.detached) return; // a newer queue owns the storage now
    this.storageOk = saveJSON(this.storageKey, this.items);
  }

  notify() {
    for (const waiter of [...this.waiters]) {
      if (this.items.length === 0 && !this.inFlight) waiter.done(true);
      else if (this.stopped || this.failureCount > waiter.failureCount) waiter.done(false);
    }
    this.listeners.forEach((fn) => fn(this));
  }

  /** Queues a record (written to localStorage at once) and sends it within about a second. */
  add(record) {
    if (this.sameSlot) {
      const index = this.items.findIndex((item) => !item.sent && this.sameSlot(item, record));
      if (index >= 0) this.items.splice(index, 1);
    }
    this.items.push({ ...record, sent: false });
    this.persist();
    this.rejected = null;
    this.schedule(this.firstDelayMs);
    this.notify();
  }

  /** Replaces every record (used when pending records are renumbered or dropped). */
  replaceAll(items) {
    this.items = items;
    this.persist();
    this.notify();
  }

  schedule(delay) {
    if (this.stopped) return;
    if (this.inFlight) {
      this.kickAfterFlight = true;
      return;
    }
    if (this.timer) {
      if (this.retrying) return; // a backoff wait is running; kick() cuts it short
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      this.retrying = false;
      this.pump();
    }, delay);
  }

  /** Sends now, cutting any backoff wait short (the network is back, or the candidate wants to submit). */
  kick() {
    if (this.stopped) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
      this.retrying = false;
    }
    if (this.inFlight) {
      this.kickAfterFlight = true;
      return;
    }
    this.pump();
  }

  async pump() {
    if (this.inFlight || this.stopped || this.items.length === 0) {
      this.notify();
      return;
    }
    const batch = this.items.slice(0, this.isolate > 0 ? 1 : this.maxBatch);
    let changed = false;
    for (const record of batch) {
      if (!record.sent) {
        record.sent = true;
        changed = true;
      }
    }
    if (changed) this.persist();
    this.inFlight = true;
    this.kickAfterFlight = false;
    this.notify();
    let retryIn = null;
    try {
      const answer = await this.send(batch.map((record) => this.wire(record)));
      const acknowledged = new Set((answer && answer.acknowledged) || []);
      this.items = this.items.filter((record) => !acknowledged.has(record[this.idField]));
      this.persist();
      this.failures = 0;
      this.offline = false;
      this.paused = false;
      this.lastError = null;
      if (this.isolate > 0) this.isolate -= 1;
    } catch (error) {
      if (STOP_CODES.has(error.code) || error.status === 401) {
        this.stopped = error;
      } else if (error.retryable || HOLD_CODES.has(error.code)) {
        this.failures += 1;
        this.failureCount += 1;
        this.offline = Boolean(error.network || error.status >= 500);
        this.paused = error.code === 'room_paused';
        this.lastError = error;
        retryIn = Math.min(10000, 1000 * 2 ** (this.failures - 1));
      } else if (batch.length > 1) {
        this.isolate = batch.length; // find the refused record by sending one at a time
      } else {
        const bad = batch[0];
        this.items = this.items.filter((record) => record !== bad);
        this.persist();
        this.rejected = { record: bad, error };
        this.failureCount += 1;
        if (this.isolate > 0) this.isolate -= 1;
      }
    } finally {
      this.inFlight = false;
    }
    if (!this.stopped && this.items.length > 0) {
      if (retryIn !== null && !this.kickAfterFlight) {
        this.retrying = true;
        this.timer = setTimeout(() => {
          this.timer = null;
          this.retrying = false;
          this.pump();
        }, retryIn);
      } else {
        this.kickAfterFlight = false;
        setTimeout(() => this.pump(), 0);
      }
    }
    this.notify();
  }

  /**
   * Tries to empty the queue now. Resolves true when everything is acknowledged, false as soon as a send fails
   * (or the queue is stopped, or timeoutMs passes first).
   */
  drain(timeoutMs = 20000) {
    return new Promise((resolve) => {
      if (this.items.length === 0 && !this.inFlight) {
        resolve(true);
        return;
      }
      if (this.stopped) {
        resolve(false);
        return;
      }
      const waiter = {
        failureCount: this.failureCount,
        done: (value) => {
          clearTimeout(waiter.timer);
          this.waiters.delete(waiter);
          resolve(value);
        },
      };
      waiter.timer = setTimeout(() => waiter.done(this.items.length === 0 && !this.inFlight), timeoutMs);
      this.waiters.add(waiter);
      this.kick();
    });
  }

  stop(error) {
    this.stopped = error;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.notify();
  }

  /** Stops for good and never writes to storage again (the page has made a new queue for the same key). */
  detach(error) {
    this.stop(error || { code: 'stopped' });
    this.detached = true;
  }

  resume() {
    this.stopped = null;
    this.failures = 0;
    this.kick();
  }

  /** The room runs again: send what waited at once. */
  unpause() {
    this.paused = false;
    this.failures = 0;
    this.kick();
  }

  clear() {
    this.items = [];
    this.persist();
    this.notify();
  }
}
