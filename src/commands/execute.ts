import type { Actor, Message, Rollout } from '../core/checklist/model';
import type { ChecklistService } from '../core/checklist/service';
import type { Command } from './parse';

/** What a command asks the platform to show. Platforms render these; the core never formats. */
export type Reply =
  | { kind: 'card'; rollout: Rollout }
  | { kind: 'notice'; rollout: Rollout; notice: Message; changed: boolean }
  | { kind: 'help'; rollout: Rollout }
  | { kind: 'mine'; rollout: Rollout }
  /** check, digest, setup, export: served by their own services on each platform. */
  | { kind: 'delegate'; rollout: Rollout; command: Extract<Command, { name: 'check' | 'digest' | 'setup' | 'export' | 'link' | 'unlink' }> };

/** Runs a parsed command against the checklist service. Errors (BwprepError) propagate to the platform's error handler. */
export async function executeCommand(service: ChecklistService, rollout: Rollout, cmd: Command, actor: Actor): Promise<Reply> {
  const id = rollout.id;
  const notice = (r: { rollout: Rollout; changed: boolean; notice: Message }): Reply => ({ kind: 'notice', ...r });
  switch (cmd.name) {
    case 'status':
      return { kind: 'card', rollout };
    case 'help':
      return { kind: 'help', rollout };
    case 'mine':
      return { kind: 'mine', rollout };
    case 'assign':
      return notice(await service.assign(id, cmd.step, cmd.user, actor));
    case 'unassign':
      return notice(await service.unassign(id, cmd.step, actor));
    case 'done':
      return notice(await service.markDone(id, cmd.step, actor, cmd.note));
    case 'reopen':
      return notice(await service.reopen(id, cmd.step, actor));
    case 'skip':
      return notice(await service.skip(id, cmd.step, cmd.reason, actor));
    case 'due':
      return notice(await service.setDue(id, cmd.step, cmd.date, actor));
    case 'lang':
      return notice(await service.setLocale(id, cmd.locale, actor));
    case 'check':
      if (cmd.step) service.step(cmd.step); // validate the id before any slow work
      return { kind: 'delegate', rollout, command: cmd };
    case 'digest':
    case 'setup':
    case 'export':
    case 'link':
    case 'unlink':
      return { kind: 'delegate', rollout, command: cmd };
  }
}
