/**
 * Command-line parsing for the `parley` admin CLI: argv in, a validated command out, or a UsageError carrying a
 * one-line message and the usage of the command it is about. No I/O here.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { allScopes, keyIdOf } from '../../functions/domain/api-keys.ts';
import { emailSchema } from '../../functions/domain/content-schemas.ts';
import { toE164 } from '../../functions/domain/phone.ts';
import type { Scope } from '../../functions/routes.ts';

export const commandUsages = {
  'tenant create':
    'parley tenant create <tenantId> --name <name> --sms-number <E.164> [--email-from <address>] [--help-text <text>]',
  'tenant list': 'parley tenant list [--json]',
  'key create': `parley key create <tenantId> --scopes ${allScopes.join(',')} [--expires-in-days <n>] [--json]`,
  'key list': 'parley key list <tenantId> [--json]',
  'key revoke': 'parley key revoke <keyId>',
} as const;

type CommandName = keyof typeof commandUsages;

const groups = { tenant: ['create', 'list'], key: ['create', 'list', 'revoke'] } as const;
type Group = keyof typeof groups;

export const helpText = `parley: manage Parley tenants and API keys

usage:
${Object.values(commandUsages)
  .map((line) => `  ${line}`)
  .join('\n')}
  parley --help

target (every command):
  without --table      the local gateway: $PARLEY_DATA_DIR/local.json (PARLEY_DATA_DIR defaults to .parley),
                       written by \`npm start\`
  --table <name>       the Parley DynamoDB table on AWS, with your default AWS credentials and region
  --region <region>    the AWS region of --table (default: the AWS SDK's, e.g. AWS_REGION or your profile)
  --endpoint <url>     a DynamoDB endpoint for --table other than AWS's (e.g. a local DynamoDB)
`;

/** Bad arguments: reported as one line plus the usage of the command, exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface TargetOptions {
  table?: string;
  region?: string;
  endpoint?: string;
}

export type Command =
  | { kind: 'help'; text: string }
  | {
      kind: 'tenant create';
      target: TargetOptions;
      tenant: { tenantId: string; name: string; smsNumber: string; emailFrom?: string; helpText?: string };
    }
  | { kind: 'tenant list'; target: TargetOptions; json: boolean }
  | {
      kind: 'key create';
      target: TargetOptions;
      tenantId: string;
      scopes: Scope[];
      expiresInDays?: number;
      json: boolean;
    }
  | { kind: 'key list'; target: TargetOptions; tenantId: string; json: boolean }
  | { kind: 'key revoke'; target: TargetOptions; keyId: string };

type Options = NonNullable<ParseArgsConfig['options']>;

const globalOptions: Options = {
  table: { type: 'string' },
  region: { type: 'string' },
  endpoint: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

const commandOptions: Record<CommandName, Options> = {
  'tenant create': {
    name: { type: 'string' },
    'sms-number': { type: 'string' },
    'email-from': { type: 'string' },
    'help-text': { type: 'string' },
  },
  'tenant list': { json: { type: 'boolean' } },
  'key create': { scopes: { type: 'string' }, 'expires-in-days': { type: 'string' }, json: { type: 'boolean' } },
  'key list': { json: { type: 'boolean' } },
  'key revoke': {},
};

const allOptions: Options = Object.assign({}, globalOptions, ...Object.values(commandOptions));

const usageOf = (name: CommandName) => `usage: ${commandUsages[name]}`;
/** Several usage lines, the first after `usage: `, the others aligned under it. */
const usageLines = (lines: string[]) => lines.map((text, i) => `${i === 0 ? 'usage: ' : '       '}${text}`).join('\n');
const groupUsage = (group: Group) =>
  usageLines(groups[group].map((sub) => commandUsages[`${group} ${sub}` as CommandName]));
const fullUsage = () => usageLines([...Object.values(commandUsages), 'parley --help']);

const tenantIdPattern = /^[a-z0-9][a-z0-9-]{1,19}$/;
const hasControlCharacter = (value: string) => [...value].some((c) => c.charCodeAt(0) < 0x20 || c === '\u007f');

/** Rewrites node:util's parseArgs errors (long, with hints about `--`) as one short line. */
const parseErrorMessage = (error: unknown): string => {
  const { code, message } = error as { code?: string; message?: string };
  const option = /'(-[^' ]+)/.exec(message ?? '')?.[1];
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option '${option ?? '?'}'`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return message?.includes('argument missing') || message?.includes('ambiguous')
        ? `option ${option ?? ''} needs a value (use ${option ?? '--option'}=<value> for one starting with '-')`
        : `option ${option ?? ''} takes no value`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${/'([^']*)'/.exec(message ?? '')?.[1] ?? ''}`.trim();
    default:
      return (message ?? String(error)).split('\n')[0] ?? 'invalid arguments';
  }
};

const validateTenantId = (value: string | undefined, usage: string): string => {
  if (value === undefined) throw new UsageError('missing <tenantId>', usage);
  if (!tenantIdPattern.test(value)) {
    throw new UsageError(
      `invalid tenant id '${value}': use 2-20 characters a-z, 0-9 and '-', starting with a letter or digit`,
      usage,
    );
  }
  return value;
};

const validateEmailFrom = (value: string, usage: string): string => {
  // A bare address, or `Display Name <address>` as SES accepts for Source.
  const named = /^([^<>]*?)\s*<([^<>]+)>$/.exec(value.trim());
  const address = named ? named[2] : value.trim();
  const displayName = named?.[1]?.trim();
  const valid =
    address !== undefined &&
    emailSchema.safeParse(address).success &&
    (displayName === undefined || (displayName.length > 0 && /^[\x20-\x7e]+$/.test(displayName)));
  if (!valid) {
    throw new UsageError(
      `invalid --email-from '${value}': use an address such as alerts@bank.example or "Bank <alerts@bank.example>"`,
      usage,
    );
  }
  return value.trim();
};

const validateScopes = (value: string | undefined, usage: string): Scope[] => {
  if (value === undefined) throw new UsageError('missing --scopes', usage);
  const requested = value
    .split(',')
    .map((scope) => scope.trim())
    .filter((scope) => scope !== '');
  if (requested.length === 0) {
    throw new UsageError(`--scopes needs at least one of ${allScopes.join(', ')}`, usage);
  }
  const unknown = requested.find((scope) => !(allScopes as readonly string[]).includes(scope));
  if (unknown !== undefined) {
    throw new UsageError(`unknown scope '${unknown}': use ${allScopes.join(', ')}`, usage);
  }
  return allScopes.filter((scope) => requested.includes(scope));
};

const validateTarget = (values: Record<string, unknown>, usage: string): TargetOptions => {
  const table = values.table as string | undefined;
  const region = values.region as string | undefined;
  const endpoint = values.endpoint as string | undefined;
  if (table === undefined) {
    if (region !== undefined || endpoint !== undefined) {
      throw new UsageError('--region and --endpoint only apply with --table', usage);
    }
    return {};
  }
  const tableName = /^[A-Za-z0-9_.-]{3,255}$/;
  const tableArn = /^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[A-Za-z0-9_.-]{3,255}$/;
  if (!tableName.test(table) && !tableArn.test(table)) {
    throw new UsageError(`invalid --table '${table}': use a DynamoDB table name or table ARN`, usage);
  }
  if (region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
    throw new UsageError(`invalid --region '${region}': use an AWS region such as us-east-1`, usage);
  }
  if (endpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(endpoint);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new UsageError(`invalid --endpoint '${endpoint}': use an http(s) URL`, usage);
    }
  }
  return {
    table,
    ...(region !== undefined && { region }),
    ...(endpoint !== undefined && { endpoint }),
  };
};

/** Parses `parley` arguments (without `node` and the script path). Throws UsageError on bad arguments. */
export const parseCommand = (argv: readonly string[]): Command => {
  // First pass, lenient: only to find the command words, whatever options surround them.
  const { positionals: words, values: loose } = parseArgs({
    args: [...argv],
    options: allOptions,
    strict: false,
    allowPositionals: true,
  });
  const [groupWord, subWord] = words;

  if (groupWord === undefined) {
    if (loose.help === true) return { kind: 'help', text: helpText };
    throw new UsageError('missing command', fullUsage());
  }
  if (!(groupWord in groups)) throw new UsageError(`unknown command '${groupWord}'`, fullUsage());
  const group = groupWord as Group;
  if (subWord === undefined) {
    if (loose.help === true) return { kind: 'help', text: `${groupUsage(group)}\n` };
    throw new UsageError(`missing ${group} command`, groupUsage(group));
  }
  if (!(groups[group] as readonly string[]).includes(subWord)) {
    throw new UsageError(`unknown ${group} command '${subWord}'`, groupUsage(group));
  }
  const name = `${group} ${subWord}` as CommandName;
  const usage = usageOf(name);

  // Second pass, strict: only the options this command takes.
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...globalOptions, ...commandOptions[name] },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw new UsageError(parseErrorMessage(error), usage);
  }
  const { values } = parsed;
  if (values.help === true) return { kind: 'help', text: `${usage}\n` };

  const args = parsed.positionals.slice(2);
  const arity = name === 'tenant list' ? 0 : 1;
  const extra = args[arity];
  if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`, usage);
  const target = validateTarget(values, usage);

  switch (name) {
    case 'tenant create': {
      const tenantId = validateTenantId(args[0], usage);
      const rawName = values.name as string | undefined;
      if (rawName === undefined) throw new UsageError('missing --name', usage);
      const tenantName = rawName.trim();
      if (tenantName === '' || tenantName.length > 100 || hasControlCharacter(tenantName)) {
        throw new UsageError('invalid --name: use 1-100 characters, no control characters', usage);
      }
      const rawNumber = values['sms-number'] as string | undefined;
      if (rawNumber === undefined) throw new UsageError('missing --sms-number', usage);
      const smsNumber = toE164(rawNumber.trim());
      if (smsNumber === undefined) {
        throw new UsageError(
          `invalid --sms-number '${rawNumber}': use a valid number in E.164 form, e.g. +12025550143`,
          usage,
        );
      }
      const rawEmailFrom = values['email-from'] as string | undefined;
      const emailFrom = rawEmailFrom === undefined ? undefined : validateEmailFrom(rawEmailFrom, usage);
      const rawHelpText = values['help-text'] as string | undefined;
      const helpTextValue = rawHelpText?.trim();
      if (helpTextValue !== undefined && (helpTextValue === '' || helpTextValue.length > 1600)) {
        throw new UsageError('invalid --help-text: use 1-1600 characters', usage);
      }
      return {
        kind: name,
        target,
        tenant: {
          tenantId,
          name: tenantName,
          smsNumber,
          ...(emailFrom !== undefined && { emailFrom }),
          ...(helpTextValue !== undefined && { helpText: helpTextValue }),
        },
      };
    }
    case 'tenant list':
      return { kind: name, target, json: values.json === true };
    case 'key create': {
      const rawDays = values['expires-in-days'] as string | undefined;
      const expiresInDays = rawDays === undefined ? undefined : Number(rawDays);
      if (
        expiresInDays !== undefined &&
        !(/^\d{1,4}$/.test(rawDays ?? '') && expiresInDays >= 1 && expiresInDays <= 3650)
      ) {
        throw new UsageError(`invalid --expires-in-days '${rawDays}': use a whole number of days, 1-3650`, usage);
      }
      return {
        kind: name,
        target,
        tenantId: validateTenantId(args[0], usage),
        scopes: validateScopes(values.scopes as string | undefined, usage),
        ...(expiresInDays !== undefined && { expiresInDays }),
        json: values.json === true,
      };
    }
    case 'key list':
      return { kind: name, target, tenantId: validateTenantId(args[0], usage), json: values.json === true };
    case 'key revoke': {
      const keyId = args[0];
      if (keyId === undefined) throw new UsageError('missing <keyId>', usage);
      const fromKey = keyIdOf(keyId);
      if (fromKey !== undefined) {
        throw new UsageError(`that is an API key, not a key id: its key id is '${fromKey}'`, usage);
      }
      if (!/^[0-9a-z]{1,64}$/.test(keyId)) throw new UsageError(`invalid key id '${keyId}'`, usage);
      return { kind: name, target, keyId };
    }
  }
};
