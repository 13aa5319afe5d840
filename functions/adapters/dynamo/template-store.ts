/** A tenant's message templates, one item per name in the tenant's template partition. */
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Template } from '../../domain/model.ts';
import type { TemplateStore } from '../../domain/ports.ts';
import { createDocumentClient, queryAll, strip } from './dynamo-helpers.ts';
import { keys } from './keys.ts';

export class DynamoTemplateStore implements TemplateStore {
  constructor(
    private readonly tableName: string,
    private readonly db: DynamoDBDocumentClient = createDocumentClient(),
  ) {}

  async getTemplate(tenantId: string, name: string): Promise<Template | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.template(tenantId, name) }),
    );
    return strip<Template>(Item);
  }

  async putTemplate(tenantId: string, template: Template): Promise<void> {
    await this.db.send(
      new PutCommand({ TableName: this.tableName, Item: { ...keys.template(tenantId, template.name), ...template } }),
    );
  }

  async deleteTemplate(tenantId: string, name: string): Promise<boolean> {
    const { Attributes } = await this.db.send(
      new DeleteCommand({ TableName: this.tableName, Key: keys.template(tenantId, name), ReturnValues: 'ALL_OLD' }),
    );
    return Attributes !== undefined;
  }

  async listTemplates(tenantId: string): Promise<Template[]> {
    const items = await queryAll(this.db, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.templates(tenantId) },
    });
    return items.map((item) => strip<Template>(item) as Template);
  }
}
