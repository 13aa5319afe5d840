import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { type ICommandHooks, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { functionBundling, lazyPackageCommands, shellQuote } from './bundling.ts';

/** The package root: esbuild's project root and the home of `package-lock.json`. */
export const packageRoot = fileURLToPath(new URL('..', import.meta.url));

/** The Lambda sources shipped with this package. */
export const defaultSourceDir = join(packageRoot, 'functions');

export interface ParleyFunctionProps {
  /** File name under `<sourceDir>/handlers/`, without `.ts`; the file exports `handler`. */
  readonly handlerName: string;
  /**
   * Folder holding `handlers/<handlerName>.ts`. Must sit inside the package root (esbuild's project root).
   * @default the `functions/` folder of this package
   */
  readonly sourceDir?: string;
  readonly description?: string;
  /** @default 10 seconds (an HTTP API request) */
  readonly timeout?: Duration;
  /** More memory is more CPU: init and crypto are CPU-bound. @default 1024 */
  readonly memorySize?: number;
  readonly environment?: Record<string, string>;
  /** @default three months */
  readonly logRetention?: logs.RetentionDays;
  /**
   * For asynchronous invocations (SNS, EventBridge): where an event lands after its retries. Give a
   * {@link DeadLetterQueue}, which is encrypted, TLS-only and alarmed on.
   * @default no dead-letter queue
   */
  readonly deadLetterQueue?: sqs.IQueue;
  /** For asynchronous invocations: a destination for events that failed every attempt. @default none */
  readonly onFailure?: lambda.IDestination;
  /** For asynchronous invocations. @default 2 (Lambda's default) */
  readonly retryAttempts?: number;
  /**
   * Files shipped next to the bundle, at `/var/task/<file name>`: paths relative to the package root (esbuild's
   * project root), e.g. `web/chat.html`. A missing file fails the synth.
   * @default none
   */
  readonly extraFiles?: readonly string[];
}

/**
 * Local bundling runs these with the shell, in the project root: `inputDir` is the package root. After esbuild has
 * written the bundle: the extra files, then the packages the bundle loads on first use (`lazyPackageCommands`).
 */
const afterBundlingHooks = (files: readonly string[]): ICommandHooks => ({
  beforeBundling: () => [],
  beforeInstall: () => [],
  afterBundling: (inputDir, outputDir) => [
    ...files.map((file) => `cp ${shellQuote(join(inputDir, file))} ${shellQuote(`${outputDir}/`)}`),
    ...lazyPackageCommands(outputDir),
  ],
});

/**
 * Every Parley Lambda goes through here, so runtime, architecture, bundling, tracing and logging are set once:
 * Node.js 24 on arm64, a minified ESM bundle built by local esbuild (never Docker) with the AWS SDK bundled and
 * tree-shaken, X-Ray active tracing, a log group with a retention and a role that may write only to it.
 */
export class ParleyFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ParleyFunctionProps) {
    super(scope, id);
    const sourceDir = props.sourceDir ?? defaultSourceDir;

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
    });

    // An explicit role instead of AWSLambdaBasicExecutionRole: logs may go to this function's log group only.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Parley ${props.handlerName} function`,
    });
    this.logGroup.grantWrite(this.role);

    this.fn = new NodejsFunction(this, 'Function', {
      entry: join(sourceDir, 'handlers', `${props.handlerName}.ts`),
      handler: 'handler',
      projectRoot: packageRoot,
      depsLockFilePath: join(packageRoot, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: lambda.Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      description: props.description ?? `Parley ${props.handlerName}`,
      environment: { POWERTOOLS_SERVICE_NAME: 'parley', ...props.environment },
      // functionBundling in NodejsFunction's terms; it always bundles for platform node. Its `charset` setting
      // reaches esbuild only as an argument.
      bundling: {
        format: OutputFormat.ESM,
        minify: functionBundling.minify,
        sourceMap: functionBundling.sourcemap,
        target: functionBundling.target,
        mainFields: functionBundling.mainFields,
        bundleAwsSDK: true,
        externalModules: functionBundling.external,
        banner: functionBundling.banner.js,
        esbuildArgs: { '--charset': functionBundling.charset },
        forceDockerBundling: false,
        commandHooks: afterBundlingHooks(props.extraFiles ?? []),
      },
      deadLetterQueue: props.deadLetterQueue,
      onFailure: props.onFailure,
      retryAttempts: props.retryAttempts,
    });

    const defaultPolicy = this.role.node.tryFindChild('DefaultPolicy');
    if (defaultPolicy) {
      Validations.of(defaultPolicy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'X-Ray active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level ' +
          'permissions, so AWS requires Resource "*". Every other wildcard grant goes into its own named policy.',
      });
    }
  }

  /** Adds an environment variable the handler's `config.ts` reads at init. */
  addEnvironment(name: string, value: string): this {
    this.fn.addEnvironment(name, value);
    return this;
  }
}
