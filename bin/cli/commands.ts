/**
 * The `parley` admin CLI's commands, runnable in-process: `runCli(argv, io)` resolves to the exit code
 * (0 ok, 1 runtime failure, 2 bad arguments) and never throws.
 */
import { createDocumentClient } from '../../functions/adapters/dynamo/dynamo-helpers.ts';
import { DynamoTenantStore } from '../../functions/adapters/dynamo/tenant-store.ts';
import { generateApiKey } from '../../functions/domain/api-keys.ts';
import type { ApiKeyRecord, Tenant } from '../../functions/domain/model.ts';
import type { TenantStore } from '../../functions/domain/ports.ts';
import { type Command, commandUsages, parseCommand, UsageError } from './args.ts';
import { describeTargetError, NoTargetError, resolveTarget, type Target, TargetError } from './target.ts';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  now?: () => Date;
}

/** A failure the user should read as is: `parley: <message>`, exit 1. */
class CommandError extends Error {}

type TargetedCommand = Exclude<Command, { kind: 'help' }>;

const line = (text = '') => `${text}\n`;

const tenantTable = (tenants: Tenant[]): string => {
  if (tenants.length === 0) return line('No tenants.');
  return table([
    ['TENANT ID', 'NAME', 'SMS NUMBER', 'EMAIL FROM'],
    ...tenants.map((t) => [t.tenantId, t.name, t.smsNumber, t.emailFrom ?? '-']),
  ]);
};

/** What `key list` shows of a key: never the key or its hash. */
const keyView = (key: ApiKeyRecord, now: string) => ({
  keyId: key.keyId,
  scopes: key.scopes,
  createdAt: key.createdAt,
  ...(key.expiresAt !== undefined && { expiresAt: key.expiresAt }),
  ...(key.revokedAt !== undefined && { revokedAt: key.revokedAt }),
  ...(key.lastUsedAt !== undefined && { lastUsedAt: key.lastUsedAt }),
  status: key.revokedAt ? 'revoked' : key.expiresAt !== undefined && key.expiresAt <= now ? 'expired' : 'active',
});

const keyTable = (keys: ReturnType<typeof keyView>[]): string =>
  keys.length === 0
    ? line('No API keys.')
    : table([
        ['KEY ID', 'SCOPES', 'CREATED', 'LAST USED', 'EXPIRES', 'STATUS'],
        ...keys.map((k) => [
          k.keyId,
          k.scopes.join(','),
          k.createdAt,
          k.lastUsedAt ?? 'never',
          k.expiresAt ?? 'never',
          k.status,
        ]),
      ]);

const table = (rows: string[][]): string => {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  return rows
    .map((row) =>
      line(
        row
          .map((cell, column) => cell.padEnd(widths[column] ?? 0))
          .join('  ')
          .trimEnd(),
      ),
    )
    .join('');
};

const run = async (command: TargetedCommand, store: TenantStore, target: Target, io: CliIo): Promise<void> => {
  const now = (io.now ?? (() => new Date()))().toISOString();
  switch (command.kind) {
    case 'tenant create': {
      const { tenant } = command;
      if (await store.getTenant(tenant.tenantId)) {
        throw new CommandError(`tenant '${tenant.tenantId}' already exists`);
      }
      try {
        await store.putTenant({ ...tenant, createdAt: now });
      } catch (error) {
        if ((error as Error).message === 'SMS number is already used by another tenant') {
          throw new CommandError(`SMS number ${tenant.smsNumber} is already used by another tenant`);
        }
        throw error;
      }
      io.out(line(`Created tenant ${tenant.tenantId} (${tenant.name}, SMS ${tenant.smsNumber}).`));
      return;
    }
    case 'tenant list': {
      const tenants = (await store.listTenants()).sort((a, b) => a.tenantId.localeCompare(b.tenantId));
      io.out(command.json ? line(JSON.stringify(tenants, null, 2)) : tenantTable(tenants));
      return;
    }
    case 'key create': {
      if (!(await store.getTenant(command.tenantId))) {
        throw new CommandError(`tenant '${command.tenantId}' not found`);
      }
      const { keyId, apiKey, keyHash } = generateApiKey();
      const expiresAt =
        command.expiresInDays === undefined
          ? undefined
          : new Date(Date.parse(now) + command.expiresInDays * 86_400_000).toISOString();
      await store.putApiKey({
        keyId,
        tenantId: command.tenantId,
        keyHash,
        scopes: command.scopes,
        createdAt: now,
        ...(expiresAt !== undefined && { expiresAt }),
      });
      if (command.json) {
        io.out(line(JSON.stringify({ keyId, apiKey, ...(expiresAt !== undefined && { expiresAt }) })));
        return;
      }
      io.out(
        line(
          `Created API key ${keyId} for tenant ${command.tenantId} (scopes: ${command.scopes.join(', ')}` +
            `${expiresAt === undefined ? '' : `, expires ${expiresAt}`}):`,
        ) +
          line() +
          line(`  ${apiKey}`) +
          line() +
          line('Store it now: it cannot be shown again (only its hash is kept).'),
      );
      return;
    }
    case 'key list': {
      if (!(await store.getTenant(command.tenantId))) {
        throw new CommandError(`tenant '${command.tenantId}' not found`);
      }
      const keys = (await store.listApiKeys(command.tenantId))
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.keyId.localeCompare(b.keyId))
        .map((key) => keyView(key, now));
      io.out(command.json ? line(JSON.stringify(keys, null, 2)) : keyTable(keys));
      return;
    }
    case 'key revoke': {
      const record = await store.getApiKey(command.keyId);
      if (!record) throw new CommandError(`API key '${command.keyId}' not found`);
      if (record.revokedAt) {
        io.out(
          line(`API key ${command.keyId} (tenant ${record.tenantId}) was already revoked at ${record.revokedAt}.`),
        );
        return;
      }
      if (!(await store.revokeApiKey(command.keyId, now))) {
        throw new CommandError(`API key '${command.keyId}' not found`);
      }
      io.out(line(`Revoked API key ${command.keyId} (tenant ${record.tenantId}).`));
      io.out(
        line(
          target.kind === 'local'
            ? 'The local gateway refuses it at once.'
            : "On AWS it may keep working until the authorizer's cached answer expires: up to 5 minutes by default (authorizerCacheTtl).",
        ),
      );
      return;
    }
  }
};

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ').trim();

export const runCli = async (argv: readonly string[], io: CliIo): Promise<number> => {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(line(`parley: ${error.message}`) + line(error.usage));
      return 2;
    }
    io.err(line(`parley: ${oneLine((error as Error | undefined)?.message || String(error))}`));
    return 1;
  }
  if (command.kind === 'help') {
    io.out(command.text);
    return 0;
  }

  let target: Target | undefined;
  try {
    target = resolveTarget(command.target, io.env, io.cwd);
    const store = new DynamoTenantStore(target.tableName, createDocumentClient(target.client));
    await run(command, store, target, io);
    return 0;
  } catch (error) {
    if (error instanceof NoTargetError) {
      const usage = `usage: ${commandUsages[command.kind]} --table <name> [--region <region>] [--endpoint <url>]`;
      io.err(line(`parley: ${error.message}`) + line(usage));
      return 2;
    }
    const known =
      error instanceof CommandError || error instanceof TargetError
        ? error.message
        : target && describeTargetError(error, target);
    const message = known ?? ((error as Error | undefined)?.message || String(error));
    io.err(line(`parley: ${oneLine(message)}`));
    if (!known && io.env.PARLEY_DEBUG && error instanceof Error && error.stack) io.err(line(error.stack));
    return 1;
  } finally {
    target?.client.destroy();
  }
};
