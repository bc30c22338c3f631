// The exam clock comes from the server. Every answer that carries a `clock` is remembered together with
// performance.now() at that moment (the midpoint of the request, to halve the network delay); the server's
// time now is that serverTime plus the monotonic time elapsed since. Date.now() is never used for exam time.

export class ServerClock {
  constructor() {
    this.anchor = null; // {serverTime, perf}
    this.clock = null; // the last clock object from the server
  }

  /** Remembers a clock from the server. sentAt: performance.now() when the request left (optional). */
  update(clock, sentAt) {
    if (!clock || typeof clock.serverTime !== 'number') return;
    const now = performance.now();
    const perf = typeof sentAt === 'number' ? (sentAt + now) / 2 : now;
    this.anchor = { serverTime: clock.serverTime, perf };
    this.clock = clock;
  }

  get known() {
    return this.anchor !== null;
  }

  /** The server's time now, in Unix ms (null before the first answer). */
  now() {
    if (!this.anchor) return null;
    return this.anchor.serverTime + (performance.now() - this.anchor.perf);
  }

  get phase() {
    return this.clock ? this.clock.phase : null;
  }

  get endsAt() {
    return this.clock && typeof this.clock.endsAt === 'number' ? this.clock.endsAt : null;
  }

  /** Milliseconds until the start (waiting), or null. */
  untilStart() {
    if (!this.clock || !this.anchor) return null;
    return this.clock.startsAt - this.now();
  }

  /** Milliseconds left until the end (running), or null. While the room is paused the clock stands still: the
   *  server's remainingMs is the answer (its endsAt keeps moving with the pause). */
  remaining() {
    if (!this.clock || !this.anchor) return null;
    if (this.clock.phase === 'paused') return typeof this.clock.remainingMs === 'number' ? this.clock.remainingMs : null;
    if (this.endsAt === null) return null;
    return this.endsAt - this.now();
  }
}
