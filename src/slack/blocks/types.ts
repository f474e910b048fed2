import type { types } from '@slack/bolt';

export type KnownBlock = types.KnownBlock;
export type View = types.View;
export type ActionsElement = Extract<types.KnownBlock, { type: 'actions' }>['elements'][number];
