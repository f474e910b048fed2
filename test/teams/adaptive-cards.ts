/**
 * Checks an Adaptive Card the way Microsoft's own renderer library reads it: parsed with the
 * `adaptivecards` package (its UMD build, `adaptivecards/dist/adaptivecards.js`; the ESM `lib/` build
 * does not resolve in Node) and validated with its `validateProperties()`. Parsing and validating need no
 * DOM (only rendering does), so no jsdom.
 *
 *   expectValidCard(card);                 // throws listing every problem
 *   const problems = cardProblems(card);   // [] when the card is fine
 *
 * Problems reported:
 * - every parse event, parsing for a 1.5 host as Teams is (unknown element or action types, properties
 *   newer than 1.5, …);
 * - every validation event (empty choice sets, duplicate ids, too many actions, …);
 * - a card version above what Teams renders (1.5, chat-platforms.md T3/T6), or a card that is not an
 *   AdaptiveCard;
 * - a payload of 80 KB or more as Teams would receive it (the card in a message attachment), Teams'
 *   guidance for message size (chat-platforms.md T2).
 */
import { createRequire } from 'node:module';
import type * as AdaptiveCards from 'adaptivecards';

// Types from the package's lib/ declarations; code from its UMD build, which Node can load.
const AC = createRequire(__filename)('adaptivecards/dist/adaptivecards.js') as typeof AdaptiveCards;

/** Teams renders Adaptive Cards up to this version. */
const TEAMS_MAX_CARD_VERSION = '1.5';
/** Teams' guidance for a message's size: aim below 80 KB (bytes of the activity JSON). */
export const TEAMS_MAX_PAYLOAD_BYTES = 80 * 1024;

export interface CardCheckOptions {
  /**
   * Messages of parse or validation events a caller knowingly accepts, each with a reason in the test.
   * Matching events are left out of the problems; nothing is accepted by default.
   */
  allow?: RegExp[];
}

function versionNumber(v: unknown): number | undefined {
  if (typeof v !== 'string' || !/^\d+\.\d+$/.test(v)) return undefined;
  const [major, minor] = v.split('.').map(Number) as [number, number];
  return major * 100 + minor;
}

/** Bytes of a message activity carrying the card as its one attachment. */
export function cardPayloadBytes(card: unknown): number {
  const activity = { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: card }] };
  return Buffer.byteLength(JSON.stringify(activity), 'utf8');
}

/** Every problem Microsoft's parser, its validator, or Teams' limits find in `card`; [] when none. */
export function cardProblems(card: unknown, opts: CardCheckOptions = {}): string[] {
  const problems: string[] = [];
  const allowed = (m: string) => (opts.allow ?? []).some((r) => r.test(m));
  if (!card || typeof card !== 'object' || (card as { type?: unknown }).type !== 'AdaptiveCard') return ['not an AdaptiveCard (type must be "AdaptiveCard")'];
  const version = (card as { version?: unknown }).version;
  const v = versionNumber(version);
  if (v === undefined) problems.push(`card version ${JSON.stringify(version)} is not a version like "1.5"`);
  else if (v > (versionNumber(TEAMS_MAX_CARD_VERSION) as number))
    problems.push(`card version ${String(version)} is above ${TEAMS_MAX_CARD_VERSION}, the highest Teams renders`);

  const parsed = new AC.AdaptiveCard();
  const context = new AC.SerializationContext();
  // Read as a Teams client reads it: a host that supports schema 1.5.
  context.targetVersion = AC.Versions.v1_5;
  parsed.parse(card, context);
  for (let i = 0; i < context.eventCount; i++) {
    const e = context.getEventAt(i);
    const m = `parse: ${AC.ValidationEvent[e.event]}: ${e.message}`;
    if (!allowed(e.message)) problems.push(m);
  }
  for (const e of parsed.validateProperties().validationEvents) {
    const m = `validation: ${AC.ValidationEvent[e.event]}: ${e.message}`;
    if (!allowed(e.message)) problems.push(m);
  }
  const bytes = cardPayloadBytes(card);
  if (bytes >= TEAMS_MAX_PAYLOAD_BYTES) problems.push(`payload is ${bytes} bytes; Teams' guidance is below ${TEAMS_MAX_PAYLOAD_BYTES}`);
  return problems;
}

/** Throws with every problem listed unless the card is clean. */
export function expectValidCard(card: unknown, opts: CardCheckOptions = {}): void {
  const problems = cardProblems(card, opts);
  if (problems.length) throw new Error(`Adaptive Card has ${problems.length} problem(s):\n  - ${problems.join('\n  - ')}`);
}
