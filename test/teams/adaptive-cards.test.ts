import { describe, expect, it } from 'vitest';
import { cardPayloadBytes, cardProblems, expectValidCard, TEAMS_MAX_PAYLOAD_BYTES } from './adaptive-cards';

/** A card shaped like the living card: text, facts, an owner picker, Action.Execute buttons. */
function card(extra: { body?: unknown[]; actions?: unknown[]; version?: string } = {}) {
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: extra.version ?? '1.5',
    body: [
      { type: 'TextBlock', text: 'Step 2a: Enforce the master password policy', weight: 'Bolder', wrap: true },
      {
        type: 'FactSet',
        facts: [
          { title: 'Owner', value: 'Bob Fake' },
          { title: 'Due', value: '1 Dec 2026' },
        ],
      },
      { type: 'Input.ChoiceSet', id: 'owner', label: 'Owner', choices: [{ title: 'Bob Fake', value: 'teams:00000000-0000-4000-8000-000000000b0b' }] },
      ...(extra.body ?? []),
    ],
    actions: extra.actions ?? [
      { type: 'Action.Execute', verb: 'step_done', title: 'Done', data: { step: '2a' } },
      { type: 'Action.Execute', verb: 'step_check', title: 'Check', data: { step: '2a' } },
    ],
  };
}

describe('Adaptive Card harness (Microsoft adaptivecards parser + Teams limits)', () => {
  it('accepts a clean 1.5 card with Action.Execute', () => {
    expect(cardProblems(card())).toEqual([]);
    expect(() => expectValidCard(card())).not.toThrow();
  });

  it('reports unknown element and action types from the parser', () => {
    const problems = cardProblems(card({ body: [{ type: 'Input.Rocket', id: 'r' }], actions: [{ type: 'Action.Teleport', title: 'Go' }] }));
    expect(problems.some((p) => p.includes('UnknownElementType'))).toBe(true);
    expect(problems.some((p) => p.includes('UnknownActionType'))).toBe(true);
  });

  it('reports what the validator finds: an empty choice set, duplicate ids', () => {
    const problems = cardProblems(card({ body: [{ type: 'Input.ChoiceSet', id: 'owner', choices: [] }] }));
    expect(problems).toContain('validation: CollectionCantBeEmpty: An Input.ChoiceSet must have at least one choice defined.');
    expect(problems.some((p) => p.includes('DuplicateId'))).toBe(true);
  });

  it('reports a property newer than the card version, unless the test accepts it by name', () => {
    const picker = {
      type: 'Input.ChoiceSet',
      id: 'people',
      choices: [{ title: 'Bob Fake', value: 'b' }],
      'choices.data': { type: 'Data.Query', dataset: 'graph.microsoft.com/users?scope=currentContext' },
    };
    const problems = cardProblems(card({ body: [picker] }));
    // The library dates `choices.data` to schema 1.6, while Teams renders the people picker on 1.5 cards.
    expect(problems).toEqual(['parse: UnsupportedProperty: Property "choices.data" is supported in version 1.6, but you are using version 1.5.']);
    expect(cardProblems(card({ body: [picker] }), { allow: [/^Property "choices\.data" is supported in version 1\.6/] })).toEqual([]);
  });

  it('refuses versions above 1.5 and cards that are not Adaptive Cards', () => {
    expect(cardProblems(card({ version: '1.6' }))).toContain('card version 1.6 is above 1.5, the highest Teams renders');
    expect(cardProblems({ type: 'MessageCard' })).toEqual(['not an AdaptiveCard (type must be "AdaptiveCard")']);
  });

  it('refuses a payload of 80 KB or more', () => {
    const big = card({ body: Array.from({ length: 400 }, (_, i) => ({ type: 'TextBlock', text: `${i} ${'x'.repeat(200)}`, wrap: true })) });
    expect(cardPayloadBytes(big)).toBeGreaterThanOrEqual(TEAMS_MAX_PAYLOAD_BYTES);
    expect(cardProblems(big).some((p) => p.startsWith('payload is'))).toBe(true);
    expect(() => expectValidCard(big)).toThrow(/payload is \d+ bytes/);
  });
});
