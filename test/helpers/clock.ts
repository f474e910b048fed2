import type { Clock } from '../../src/core/ports';

/** A clock a test moves by hand (schedules, due dates, token expiry). */
export class TestClock implements Clock {
  private at: Date;

  constructor(at: Date | string = '2026-11-25T09:00:00.000Z') {
    this.at = new Date(at);
  }

  now(): Date {
    return new Date(this.at);
  }

  set(at: Date | string): void {
    this.at = new Date(at);
  }

  advance(ms: number): void {
    this.at = new Date(this.at.getTime() + ms);
  }
}
