/**
 * The SDK calls one accepted SMS send makes, done by hand in the same order with the same item shapes and fresh
 * ids: PutItem (idempotency claim), UpdateItem (customer upsert that opens the prompt), SNS Publish, PutItem
 * (message), PutEvents. No validation, templates, routing or middleware: the floor the handler is compared with.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../functions/adapters/dynamo/keys.ts';
import { newTimelineId, newUlid } from '../../functions/domain/ids.ts';

export interface RawSendInput {
  tenantId: string;
  customerId: string;
  phone: string;
  email: string;
  from: string;
  body: string;
  reference: string;
}

export class RawSender {
  private readonly ddb = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  private readonly sns = new SNSClient({});
  private readonly events = new EventBridgeClient({});

  constructor(
    private readonly tableName: string,
    private readonly eventBusName: string,
  ) {}

  async send(input: RawSendInput): Promise<{ messageId: string; providerMessageId: string }> {
    const { tenantId, customerId } = input;
    const nowMs = Date.now();
    const now = new Date(nowMs).toISOString();
    // The handler's own id makers (fast ULIDs), so id making costs the floor no more than it costs the handler.
    const messageId = `msg_${newUlid()}`;
    const timelineId = newTimelineId(nowMs);

    await this.ddb.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.messageClaim(tenantId, messageId),
          tenantId,
          messageId,
          customerId,
          timelineId,
          requestHash: randomBytes(32).toString('base64url'),
          leaseUntil: nowMs + 30_000,
          createdAt: now,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );

    const expiresAt = new Date(nowMs + 900_000).toISOString();
    await this.ddb.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.customer(tenantId, customerId),
        UpdateExpression:
          'SET tenantId = :tenantId, customerId = :customerId, updatedAt = :now, createdAt = if_not_exists(createdAt, :now), ' +
          'version = if_not_exists(version, :zero) + :one, preferences = if_not_exists(preferences, :emptyMap), ' +
          '#phone = :phone, #email = :email, #openPrompt = :openPrompt',
        ExpressionAttributeNames: { '#phone': 'phone', '#email': 'email', '#openPrompt': `op_${messageId}` },
        ExpressionAttributeValues: {
          ':tenantId': tenantId,
          ':customerId': customerId,
          ':now': now,
          ':emptyMap': {},
          ':zero': 0,
          ':one': 1,
          ':phone': input.phone,
          ':email': input.email,
          // The prompt opens on the customer in the same write, as the send handler does.
          ':openPrompt': {
            messageId,
            timelineId,
            type: 'confirm',
            expiresAt,
            reference: input.reference,
            summary: `${input.body.slice(0, 57)}...`,
            createdAt: now,
          },
        },
        ReturnValues: 'ALL_OLD',
      }),
    );

    const { MessageId: providerMessageId = '' } = await this.sns.send(
      new PublishCommand({
        PhoneNumber: input.phone,
        Message: input.body,
        MessageAttributes: {
          'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' },
          'AWS.MM.SMS.OriginationNumber': { DataType: 'String', StringValue: input.from },
        },
      }),
    );

    const sentAt = new Date().toISOString();
    await this.ddb.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.timelineItem(tenantId, customerId, timelineId),
          messageId,
          tenantId,
          customerId,
          timelineId,
          direction: 'outbound',
          channel: 'sms',
          status: 'sent',
          statusHistory: [
            { status: 'sending', at: now },
            { status: 'sent', at: sentAt },
          ],
          origin: 'send',
          urgency: 'high',
          category: 'transactional',
          createdAt: now,
          template: 'card-transaction-alert',
          reference: input.reference,
          to: input.phone,
          from: input.from,
          body: input.body,
          segments: 1,
          encoding: 'GSM-7',
          prompt: { type: 'confirm', expiresAt },
          providerMessageId,
          response: {
            statusCode: 202,
            body: { messageId, customerId, channel: 'sms', status: 'sent', segments: 1 },
          },
        },
      }),
    );

    await this.events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: this.eventBusName,
            Source: 'parley',
            DetailType: 'message.sent',
            Detail: JSON.stringify({
              tenantId,
              customerId,
              occurredAt: sentAt,
              messageId,
              reference: input.reference,
              channel: 'sms',
              providerMessageId,
            }),
          },
        ],
      }),
    );
    return { messageId, providerMessageId };
  }

  destroy(): void {
    this.ddb.destroy();
    this.sns.destroy();
    this.events.destroy();
  }
}

/** The SMS the demo template renders for the bench's request, so both sides publish the same text. */
export const benchSmsText = 'Demo Bank: did you pay $420.00 at ACME? Reply Y if this was you, N if not.';
