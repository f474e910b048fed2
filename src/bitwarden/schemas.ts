import { z } from 'zod';

/**
 * zod schemas for the Bitwarden Public API responses bwprep reads (reference/bitwarden-public-api.md §2–§5).
 * Tolerant by design: enums are plain integers (new values keep appearing), nullable lists default to
 * empty, unknown keys are dropped, dates without a zone are read as UTC.
 */

const int = z.number().int();
const str = z.string();
const nstr = z
  .string()
  .nullish()
  .transform((v) => v ?? null);

/** `2026-08-20T14:03:11.123` (self-hosted, no zone) is UTC. */
function parseBitwardenDate(s: string): number {
  const withZone = /([zZ]|[+-]\d\d:?\d\d)$/.test(s) ? s : `${s}Z`;
  return Date.parse(withZone);
}

const date = z.string().transform((s, ctx) => {
  const ms = parseBitwardenDate(s);
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: 'custom', message: 'not a date' });
    return z.NEVER;
  }
  return new Date(ms).toISOString();
});

export const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  expires_in: z.coerce.number().positive().default(3600),
  token_type: z.string().optional(),
});

export const oauthErrorSchema = z.object({ error: z.string(), error_description: z.string().optional() });

/** An association's `id` is `Guid?` in the server model (AssociationWithPermissionsBaseModel.cs); null ones are dropped. */
const associationSchema = z.object({
  id: z
    .string()
    .nullish()
    .transform((v) => v ?? null),
  readOnly: z.boolean().nullish(),
  hidePasswords: z.boolean().nullish(),
  manage: z.boolean().nullish(),
});

const assocList = z
  .array(associationSchema)
  .nullish()
  .transform((v) => (v ? v.filter((a): a is typeof a & { id: string } => a.id !== null) : null));

export const memberSchema = z.object({
  id: str,
  userId: nstr,
  name: nstr,
  email: nstr,
  twoFactorEnabled: z
    .boolean()
    .nullish()
    .transform((v) => v ?? false),
  status: int,
  type: int,
  externalId: nstr,
  resetPasswordEnrolled: z
    .boolean()
    .nullish()
    .transform((v) => v ?? false),
  permissions: z
    .record(z.string(), z.unknown())
    .nullish()
    .transform((v) => v ?? null),
  collections: assocList.transform((v) => v ?? []),
});
export type Member = z.infer<typeof memberSchema>;

export const groupSchema = z.object({
  id: str,
  name: nstr,
  externalId: nstr,
  /** null in the list on servers from before 2022; `GET /public/groups/{id}` has them. */
  collections: assocList,
  /**
   * Servers before mid-2024 may send `accessAll: true`: the group reaches every collection, whatever its
   * list says (removed in bitwarden/server cae417e2a2, src/Api/AdminConsole/Public/Models/GroupBaseModel.cs).
   */
  accessAll: z
    .boolean()
    .nullish()
    .transform((v) => v ?? false),
});
export type Group = z.infer<typeof groupSchema>;

export const collectionSchema = z.object({
  id: str,
  externalId: nstr,
  /** null in the list before server v2025.12.2. */
  groups: assocList,
});
export type Collection = z.infer<typeof collectionSchema>;

export const policySchema = z.object({
  id: nstr,
  type: int,
  enabled: z.boolean(),
  data: z
    .record(z.string(), z.unknown())
    .nullish()
    .transform((v) => v ?? null),
});
export type Policy = z.infer<typeof policySchema>;

export const eventSchema = z.object({
  type: int,
  itemId: nstr,
  collectionId: nstr,
  groupId: nstr,
  policyId: nstr,
  memberId: nstr,
  actingUserId: nstr,
  installationId: nstr,
  date,
  device: int.nullish().transform((v) => v ?? null),
  ipAddress: nstr,
});
export type BwEvent = z.infer<typeof eventSchema>;

/** `{ object: "list", data: [...] }`; a legacy `continuationToken` on non-event lists is ignored. */
export function listSchema<T extends z.ZodTypeAny>(item: T) {
  return z.object({
    object: z.string().optional(),
    data: z
      .array(item)
      .nullish()
      .transform((v) => (v ?? []) as z.infer<T>[]),
  });
}

/** Event pages: `continuationToken` null, `""` or absent all mean "last page". */
export const eventPageSchema = z.object({
  object: z.string().optional(),
  data: z
    .array(eventSchema)
    .nullish()
    .transform((v) => v ?? []),
  continuationToken: z
    .string()
    .nullish()
    .transform((v) => (v ? v : null)),
});
export type EventPage = z.infer<typeof eventPageSchema>;

export const configSchema = z.object({
  version: z
    .string()
    .nullish()
    .transform((v) => v ?? null),
  gitHash: nstr,
  server: z
    .object({ name: z.string().nullish(), url: z.string().nullish() })
    .nullish()
    .transform((v) => v ?? null),
  environment: z
    .object({ cloudRegion: z.string().nullish(), vault: z.string().nullish(), api: z.string().nullish(), identity: z.string().nullish() })
    .nullish()
    .transform((v) => v ?? null),
});
export type ServerConfig = z.infer<typeof configSchema>;

export const subscriptionSchema = z.object({
  passwordManager: z
    .object({
      seats: z.number().nullish(),
      maxAutoScaleSeats: z.number().nullish(),
      storage: z.number().nullish(),
    })
    .nullish(),
});

export const publicErrorSchema = z.object({ object: z.string().optional(), message: z.string().nullish() });

/** Policy type numbers (reference §4.1); unknown numbers are shown as `#n`. */
export const POLICY_TYPES = {
  twoFactor: 0,
  masterPassword: 1,
  singleOrg: 3,
  resetPassword: 8,
} as const;

export const MEMBER_STATUS = { revoked: -1, invited: 0, accepted: 1, confirmed: 2, staged: 3 } as const;
export const MEMBER_TYPE = { owner: 0, admin: 1, user: 2, custom: 4 } as const;
/**
 * Browser-extension device types (bitwarden/server src/Core/Enums/DeviceType.cs): ChromeExtension 2,
 * FirefoxExtension 3, OperaExtension 4, EdgeExtension 5, VivaldiExtension 19, SafariExtension 20.
 */
export const EXTENSION_DEVICES: ReadonlySet<number> = new Set([2, 3, 4, 5, 19, 20]);
export const EVENT_USER_LOGGED_IN = 1000;

/**
 * Event types that show a person using a client, counted for browser-extension use (5b) when the event's
 * `device` is an extension. Sources in bitwarden/server (src/Core/Dirt/Enums/EventType.cs for the numbers):
 * - 1000 User_LoggedIn: logged by the identity server with the logging-in client's device type.
 * - Every type the client-event endpoint accepts (src/Events/Controllers/CollectController.cs, `Post`):
 *   clients collect these locally and upload them in batches; the server stores them with the client's
 *   device type (EventMessage takes it from the request context) and the client's date.
 *   User_ClientExportedVault 1007; Cipher_ClientViewed 1107, ..TogglePasswordVisible 1108,
 *   ..ToggledHiddenFieldVisible 1109, ..ToggledCardCodeVisible 1110, ..CopiedPassword 1111,
 *   ..CopiedHiddenField 1112, ..CopiedCardCode 1113, ..Autofilled 1114, ..ToggledCardNumberVisible 1117,
 *   the bank-account, licence, passport, SWIFT, IBAN and national-id copy/toggle types 1119–1132;
 *   OrganizationUser_NotificationBannerActionClicked 1522; Organization_ClientExportedVault 1602;
 *   Organization_ItemOrganization_Accepted/Declined 1618/1619; Organization_AutoConfirmEnabled/Disabled_Admin
 *   1620/1621; Organization_InviteLinkClientCopied 1627; PhishingBlocker_SiteAccessed/SiteExited/Bypassed
 *   2400–2402. (Cipher_ClientToggledTOTPSeedVisible 1118 is in the enum but the endpoint drops it.)
 * - Vault changes made in the extension, logged by the API with the extension's device type:
 *   Cipher_Created 1100, _Updated 1101, _Deleted 1102, _AttachmentCreated 1103, _AttachmentDeleted 1104,
 *   _Shared 1105, _UpdatedCollections 1106, _SoftDeleted 1115, _Restored 1116.
 * Not counted: failed logins (1005, 1006) and everything an admin or the server does to others.
 */
export const CLIENT_COLLECTED_EVENT_TYPES: ReadonlySet<number> = new Set([
  1007, 1107, 1108, 1109, 1110, 1111, 1112, 1113, 1114, 1117, 1119, 1120, 1121, 1122, 1123, 1124, 1125, 1126, 1127, 1128, 1129, 1130, 1131, 1132, 1522, 1602,
  1618, 1619, 1620, 1621, 1627, 2400, 2401, 2402,
]);
export const EXTENSION_USE_EVENT_TYPES: ReadonlySet<number> = new Set([
  EVENT_USER_LOGGED_IN,
  ...CLIENT_COLLECTED_EVENT_TYPES,
  1100,
  1101,
  1102,
  1103,
  1104,
  1105,
  1106,
  1115,
  1116,
]);
