import { NotFoundError } from './errors.ts';
import type { Customer, Message, MessageChannel } from './model.ts';
import type { Clock, CustomerChanges, CustomerStore, MessageStore } from './ports.ts';

/**
 * Keeps the (tenant, channel, address) → customer pointers in step with a customer's addresses. Consent belongs to
 * the address (a STOP from a number holds whoever the number is later given to), so a new address's consent is
 * mirrored onto the customer, and onto `after`, before anything is sent to it.
 */
export const syncAddresses = async (customers: CustomerStore, before: Customer | undefined, after: Customer) => {
  const writes: Promise<unknown>[] = [];
  for (const [channel, key] of [
    ['sms', 'phone'],
    ['email', 'email'],
  ] as const) {
    const previous = before?.[key];
    const current = after[key];
    if (previous === current) continue;
    if (current) {
      writes.push(
        customers.putAddress(after.tenantId, channel, current, after.customerId).then(async (consent) => {
          if (!consent || consent.status === after.consent[channel]?.status) return;
          after.consent[channel] = consent;
          await customers.setCustomerConsent(after.tenantId, after.customerId, channel, consent);
        }),
      );
    }
    if (previous) writes.push(customers.deleteAddress(after.tenantId, channel, previous, after.customerId));
  }
  await Promise.all(writes);
};

/** The customer as the API shows it. */
export const customerView = (customer: Customer) => ({
  customerId: customer.customerId,
  ...(customer.phone !== undefined && { phone: customer.phone }),
  ...(customer.email !== undefined && { email: customer.email }),
  ...(customer.timezone !== undefined && { timezone: customer.timezone }),
  ...(customer.locale !== undefined && { locale: customer.locale }),
  preferences: customer.preferences,
  consent: customer.consent,
  createdAt: customer.createdAt,
  updatedAt: customer.updatedAt,
});

/** The answer a prompt message got, kept on the customer. */
const answerOf = (message: Message, customer: Customer | undefined) => {
  const answer = message.prompt ? customer?.promptAnswers[message.messageId] : undefined;
  return answer && { answer: { value: answer.answer, raw: answer.raw, at: answer.at, messageId: answer.messageId } };
};

/** A message as `GET /v1/messages/{id}` shows it. */
export const messageView = (message: Message, customer?: Customer) => ({
  messageId: message.messageId,
  customerId: message.customerId,
  direction: message.direction,
  channel: message.channel,
  to: message.to,
  from: message.from,
  ...(message.subject !== undefined && { subject: message.subject }),
  body: message.body,
  ...(message.fullText !== undefined && { fullText: message.fullText }),
  status: message.status,
  statusHistory: message.statusHistory,
  createdAt: message.createdAt,
  ...(message.template !== undefined && { template: message.template }),
  ...(message.urgency !== undefined && { urgency: message.urgency }),
  ...(message.category !== undefined && { category: message.category }),
  ...(message.segments !== undefined && { segments: message.segments, encoding: message.encoding }),
  ...(message.reference !== undefined && { reference: message.reference }),
  ...(message.prompt !== undefined && { prompt: message.prompt }),
  ...(message.failure !== undefined && { failure: message.failure }),
  ...(message.fallbackReason !== undefined && { fallbackReason: message.fallbackReason }),
  ...(message.fallback !== undefined && { fallback: message.fallback }),
  ...(message.fallbackFor !== undefined && { fallbackFor: message.fallbackFor }),
  ...(message.effect !== undefined && { effect: message.effect }),
  ...(message.inReplyTo !== undefined && { inReplyTo: message.inReplyTo }),
  ...answerOf(message, customer),
});

/** A message as a conversation timeline shows it. */
export const timelineEntry = (message: Message, customer?: Customer) => ({
  messageId: message.messageId,
  direction: message.direction,
  channel: message.channel,
  ...(message.subject !== undefined && { subject: message.subject }),
  body: message.body,
  ...(message.fullText !== undefined && { fullText: message.fullText }),
  status: message.status,
  createdAt: message.createdAt,
  ...(message.reference !== undefined && { reference: message.reference }),
  ...(message.prompt !== undefined && { prompt: message.prompt }),
  ...answerOf(message, customer),
  ...(message.effect !== undefined && { effect: message.effect }),
});

/** The customer's prompts still waiting for an answer, newest first. */
export const openPromptsOf = (customer: Customer, now: number) =>
  Object.values(customer.openPrompts)
    .filter((prompt) => Date.parse(prompt.expiresAt) > now)
    .sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1))
    .map((prompt) => ({
      messageId: prompt.messageId,
      type: prompt.type,
      ...(prompt.options && { options: prompt.options }),
      expiresAt: prompt.expiresAt,
      ...(prompt.reference !== undefined && { reference: prompt.reference }),
      summary: prompt.summary,
    }));

export interface CustomerDeps {
  customers: CustomerStore;
  messages: Pick<MessageStore, 'listTimeline'>;
  clock: Clock;
}

/** `GET /v1/customers/{id}`: the profile, or `not_found`. */
export const getCustomerProfile = async (deps: CustomerDeps, tenantId: string, customerId: string) => {
  const customer = await deps.customers.getCustomer(tenantId, customerId);
  if (!customer) throw new NotFoundError('Customer');
  return customerView(customer);
};

/** `PUT /v1/customers/{id}`: creates or updates the profile and the address pointers; `created` for a new one. */
export const putCustomer = async (
  deps: CustomerDeps,
  input: { tenantId: string; customerId: string; changes: CustomerChanges },
) => {
  const result = await deps.customers.upsertCustomer(input.tenantId, input.customerId, input.changes, {
    create: true,
    now: new Date(deps.clock.now()).toISOString(),
  });
  if (!result) throw new NotFoundError('Customer');
  await syncAddresses(deps.customers, result.before, result.after);
  return { created: result.before === undefined, customer: customerView(result.after) };
};

/**
 * The channel the customer is on now: the connected chat, else the channel of their latest inbound message, else
 * that of the latest message of the conversation; null for a conversation with nothing in it.
 */
export const activeChannelOf = (customer: Customer, latest: Message | undefined): MessageChannel | null =>
  customer.chat ? 'chat' : (customer.activeChannel ?? latest?.channel ?? null);

/** `GET /v1/customers/{id}/conversation`: one page of the cross-channel timeline, newest first. */
export const conversationView = async (
  deps: CustomerDeps,
  input: { tenantId: string; customerId: string; limit: number; before?: string },
) => {
  const customer = await deps.customers.getCustomer(input.tenantId, input.customerId);
  if (!customer) throw new NotFoundError('Customer');
  const page = await deps.messages.listTimeline(input.tenantId, input.customerId, {
    limit: input.limit,
    ...(input.before !== undefined && { before: input.before }),
  });
  return {
    customerId: input.customerId,
    activeChannel: activeChannelOf(customer, page.messages[0]),
    preferredChannel: customer.preferences.channel ?? customer.learnedChannel ?? null,
    openPrompts: openPromptsOf(customer, deps.clock.now()),
    messages: page.messages.map((message) => timelineEntry(message, customer)),
    ...(page.nextCursor !== undefined && { nextCursor: page.nextCursor }),
  };
};
