import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ParleyGateway, type ParleyGatewayProps } from './parley-gateway.ts';

export interface ParleyStackProps extends StackProps {
  readonly gateway: ParleyGatewayProps;
}

/** A stack holding one Parley gateway, with the outputs ops and the `parley` CLI need. */
export class ParleyStack extends Stack {
  readonly gateway: ParleyGateway;

  constructor(scope: Construct, id: string, props: ParleyStackProps) {
    super(scope, id, props);
    this.gateway = new ParleyGateway(this, 'Gateway', props.gateway);

    new CfnOutput(this, 'ApiUrl', { value: this.gateway.apiUrl, description: 'Base URL of the HTTP API v1' });
    new CfnOutput(this, 'WebSocketUrl', {
      value: this.gateway.webSocketUrl,
      description: 'The chat WebSocket URL (wss://), which the chat page served at <ApiUrl>chat connects to',
    });
    new CfnOutput(this, 'TableName', {
      value: this.gateway.table.table.tableName,
      description: 'The single table (for `npx parley ... --table`)',
    });
    new CfnOutput(this, 'EventBusName', {
      value: this.gateway.events.bus.eventBusName,
      description: 'Subscribe backends to this bus: source "parley"',
    });
    new CfnOutput(this, 'UndeliveredEventsQueueUrl', {
      value: this.gateway.undeliveredEvents.queue.queueUrl,
      description:
        'Events EventBridge kept refusing, one message per PutEvents call: replay its `entries` with PutEvents',
    });
    new CfnOutput(this, 'InboundSmsTopicArn', {
      value: this.gateway.inboundSmsTopic.topic.topicArn,
      description: 'Set as the two-way SMS destination of each origination number (AWS End User Messaging SMS)',
    });
    const inboundEmail = this.gateway.inboundEmailReceiving;
    new CfnOutput(this, 'InboundEmailRuleSetName', {
      value: inboundEmail.ruleSetName,
      description: inboundEmail.ownsRuleSet
        ? 'The SES receipt rule set of the reply domain; activate it with aws ses set-active-receipt-rule-set'
        : 'The existing SES receipt rule set the reply domain rule was added to',
    });
    new CfnOutput(this, 'InboundEmailMxRecord', {
      value: `10 inbound-smtp.${this.region}.amazonaws.com`,
      description: 'The MX record of the reply domain: SES receives its mail in this region',
    });
  }
}
