// policy/schedule.py: working time, from the schedule in the school's own time zone (correct
// across clock changes). Times are epoch milliseconds, days ISO "YYYY-MM-DD" strings.

export const WEEKDAY_NAMES = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

/**
 * Answers "is this instant working time?" from the bundle's schedule section. Python calls the
 * object itself (`working_time(at)`, its `__call__`); so does JS: the constructor returns a
 * function, `workingTime(ms)`, that carries the methods below.
 */
export class WorkingTime {
  /** hours: {monday: [[startSeconds, endSeconds], ...], ...}; terms: [[startDay, endDay], ...] */
  constructor(timeZone, hours, terms, closedDays, insetDays) {
    const self = (ms) => self._compute(ms);
    Object.setPrototypeOf(self, WorkingTime.prototype);
    self.zone = timeZone;
    self._format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
    });
    self._hours = WEEKDAY_NAMES.map((day) => hours[day] ?? []);
    self._terms = [...terms].sort();
    self._closed = new Set(closedDays);
    self._inset = new Set(insetDays);
    self._cacheMinute = NaN;
    self._cacheLocal = null;
    return self;
  }

  /** {date: "YYYY-MM-DD", weekday: 0 (Monday)..6, seconds: since local midnight} */
  local(ms) {
    // Every boundary is on a whole minute, and most requests arrive in the same minute as the
    // last one: remembering one minute's local time saves the time zone conversion.
    const minute = Math.floor(ms / 60000);
    if (minute !== this._cacheMinute) {
      const parts = {};
      for (const p of this._format.formatToParts(new Date(minute * 60000))) parts[p.type] = p.value;
      const date = `${parts.year.padStart(4, "0")}-${parts.month}-${parts.day}`;
      const weekday = (new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7;
      this._cacheLocal = { date, weekday, minuteSeconds: Number(parts.hour) * 3600 + Number(parts.minute) * 60 };
      this._cacheMinute = minute;
    }
    const c = this._cacheLocal;
    return { date: c.date, weekday: c.weekday, seconds: c.minuteSeconds + (ms - minute * 60000) / 1000 };
  }

  isWorkingDay(day) {
    if (this._closed.has(day)) return false;
    if (this._inset.has(day)) return true;
    return this._terms.some(([start, end]) => start <= day && day <= end);
  }

  _compute(ms) {
    const local = this.local(ms);
    const ranges = this._hours[local.weekday];
    if (!ranges.length || !this.isWorkingDay(local.date)) return false;
    return ranges.some(([start, end]) => start <= local.seconds && local.seconds < end);
  }
}

export function daysBetween(start, end) {
  const out = [];
  const last = Date.parse(`${end}T00:00:00Z`);
  for (let t = Date.parse(`${start}T00:00:00Z`); t <= last; t += 86400000) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

/** "HH:MM" as seconds since midnight (Python: a datetime.time). */
export function parseHhmm(text) {
  const [h, m] = text.split(":");
  const hours = Number(h);
  const minutes = Number(m);
  if (!Number.isInteger(hours) || !Number.isInteger(minutes) || hours > 23 || minutes > 59) {
    throw new TypeError(`not a time: ${text}`);
  }
  return hours * 3600 + minutes * 60;
}
