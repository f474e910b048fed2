/**
 * The shape of an activity bwprep accepts on /api/messages, checked before botbuilder or the bot reads it.
 *
 * botbuilder trusts the wire: an entity without `type`, a mention without `mentioned`, `membersAdded` that is
 * not a list or a conversation id that is not a string throw TypeErrors deep inside a turn (found by
 * test/fuzz/teams-activities.fuzz.test.ts). The Bot Framework never sends such activities, so one that
 * breaks this shape is refused as a whole with 400, and the handlers can rely on the types below.
 * Fields bwprep does not read are passed through unchecked. Field names and types follow the Bot
 * Framework Activity schema (botframework-schema `Activity`, shared/reference/wire-formats.md).
 */
import { z } from 'zod';

/** A channel account (`from`, `recipient`, a member, a mention's `mentioned`): a string id, optional name and AAD object id. */
const account = z.looseObject({ id: z.string(), name: z.string().optional(), aadObjectId: z.string().optional() });

/** botbuilder's TurnContext.getMentions reads `type.toLowerCase()`, removeMentionText `mentioned.id` and `text`. */
const entity = z
  .looseObject({ type: z.string() })
  .refine(
    (e) => e.type.toLowerCase() !== 'mention' || (typeof e.text === 'string' && account.safeParse(e.mentioned).success),
    'a mention needs text and mentioned',
  )
  .refine(
    (e) => e.type !== 'clientInfo' || ['locale', 'timezone'].every((k) => e[k] === undefined || typeof e[k] === 'string'),
    'clientInfo locale and timezone are strings',
  );

const idAndName = z.looseObject({ id: z.string().optional(), name: z.string().optional() });

const activitySchema = z.looseObject({
  type: z.string(),
  id: z.string().optional(),
  name: z.string().optional(),
  text: z.string().optional(),
  textFormat: z.string().optional(),
  locale: z.string().optional(),
  localTimezone: z.string().optional(),
  channelId: z.string().optional(),
  replyToId: z.string().optional(),
  action: z.string().optional(),
  deliveryMode: z.string().optional(),
  /** Replies go there; with authentication it must equal the token's `serviceurl` claim. */
  serviceUrl: z.string().regex(/^https?:\/\/./),
  from: account.optional(),
  /** The bot: replies and conversation references are addressed from it. */
  recipient: account,
  conversation: z.looseObject({
    id: z.string().min(1),
    conversationType: z.string().optional(),
    tenantId: z.string().optional(),
    isGroup: z.boolean().optional(),
    name: z.string().optional(),
  }),
  entities: z.array(entity).optional(),
  channelData: z
    .looseObject({ tenant: idAndName.optional(), team: idAndName.optional(), channel: idAndName.optional(), eventType: z.string().optional() })
    .optional(),
  membersAdded: z.array(account).optional(),
  membersRemoved: z.array(account).optional(),
  attachments: z.array(z.looseObject({ contentType: z.string() })).optional(),
});

/**
 * Why `body` is no activity bwprep can handle (the path and problem of the first violation, for the log), or
 * undefined when it has the shape above. `value` is not checked here: each invoke checks its own.
 */
export function activityProblem(body: unknown): string | undefined {
  const r = activitySchema.safeParse(body);
  if (r.success) return undefined;
  const issue = r.error.issues[0];
  return issue ? `${issue.path.join('.') || '(activity)'}: ${issue.message}` : 'invalid';
}
