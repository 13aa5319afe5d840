import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ses from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';

export interface ParleyEmailProps {
  /** The SES identity (a domain verified in this account and region) outbound email is sent from. */
  readonly emailDomain: string;
}

/**
 * Outbound email: the SES configuration set every send names, and the one identity senders may use. The domain
 * identity itself (DKIM records, production access) is set up outside this stack.
 */
export class ParleyEmail extends Construct {
  readonly configurationSet: ses.ConfigurationSet;
  /** `arn:…:ses:<region>:<account>:identity/<emailDomain>` */
  readonly identityArn: string;
  readonly configurationSetArn: string;

  constructor(scope: Construct, id: string, props: ParleyEmailProps) {
    super(scope, id);
    this.configurationSet = new ses.ConfigurationSet(this, 'ConfigurationSet', {
      reputationMetrics: true,
      sendingEnabled: true,
      suppressionReasons: ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
    });
    const stack = Stack.of(this);
    this.identityArn = stack.formatArn({ service: 'ses', resource: 'identity', resourceName: props.emailDomain });
    this.configurationSetArn = stack.formatArn({
      service: 'ses',
      resource: 'configuration-set',
      resourceName: this.configurationSet.configurationSetName,
    });
  }

  /** `ses:SendEmail` and `ses:SendRawEmail` as the one identity, through the one configuration set. */
  grantSend(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['ses:SendEmail', 'ses:SendRawEmail'],
      resourceArns: [this.identityArn, this.configurationSetArn],
    });
  }
}
