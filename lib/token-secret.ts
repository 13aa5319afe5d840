import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface TokenSecretProps {
  /** Customer-managed key that encrypts the secret. */
  readonly encryptionKey: kms.IKey;
}

/** The HMAC key that signs reply-address and chat-link tokens: 64 random characters, generated at deploy. */
export class TokenSecret extends Construct {
  readonly secret: secretsmanager.Secret;
  private readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: TokenSecretProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description: 'Parley: HMAC key for reply-address and chat-link tokens',
      encryptionKey: props.encryptionKey,
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
    });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Not a credential to a service but an HMAC signing key: the handlers read it once per container and ' +
        'verify with that one key, so a scheduled rotation would invalidate every outstanding reply address and ' +
        'chat link at once. Rotate by hand (put-secret-value) in a quiet window until a two-key overlap exists.',
    });
  }

  /** `secretsmanager:GetSecretValue` on this secret, and decryption with its key through Secrets Manager only. */
  grantRead(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [this.secret.secretArn],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kms:Decrypt'],
      resourceArns: [this.encryptionKey.keyArn],
      conditions: {
        StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` },
      },
    });
  }
}
