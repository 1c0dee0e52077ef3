import { randomUUID } from 'node:crypto';
import type { Cheese } from '../../generated/cheesefarm/v1/Cheese.js';
import type { ListOrdersResponse } from '../../generated/cheesefarm/v1/ListOrdersResponse.js';
import type { OrderEvent } from '../../generated/cheesefarm/v1/OrderEvent.js';
import { callUnary, openServerStream } from '../../client/grpc-client.js';
import { CLIENT_FLAGS_USAGE, clientSettings, connect, parseClientArgs } from '../client-options.js';
import { UsageError, type CliCommand } from '../command.js';
import { printCallError, printReply } from '../output.js';

const SERVICE = 'cheesefarm.v1.CheeseService';

const USAGE = `gatehouse cheese <order|get|list|watch> [flags]

  order --type TYPE --age MONTHS [--quantity N] [--idempotency-key KEY]
        TYPE is EMMENTAL, BRIE, PECORINO, ROQUEFORT or CANASTRA. Without
        --idempotency-key a new key is made; pass the printed key again to retry the same order safely.
  get ORDER_ID
  list [--type TYPE] [--page-size N] [--page-token TOKEN]
  watch [--type TYPE]      prints orders as they are placed, until Ctrl-C

${CLIENT_FLAGS_USAGE}`;

const describeOrder = (o: Cheese) =>
  `${o.orderId}  ${o.quantity} x ${o.type}, ${o.age} months, by ${o.orderedBy} at ${new Date(Number(o.orderedAt?.seconds ?? 0) * 1000).toISOString()} (key ${o.idempotencyKey})`;

/** `gatehouse cheese ...`: the CheeseService client. */
export const cheeseCommand: CliCommand = {
  name: 'cheese',
  summary: 'order, get, list and watch cheese orders',
  usage: USAGE,
  async run(argv) {
    const [sub, ...rest] = argv;
    const { values, positionals } = parseClientArgs(rest, {
      type: { type: 'string' }, age: { type: 'string' }, quantity: { type: 'string' }, 'idempotency-key': { type: 'string' },
      'page-size': { type: 'string' }, 'page-token': { type: 'string' },
    });
    if (values.help || !sub) throw new UsageError(sub ? '' : 'which cheese command? order, get, list or watch');
    const settings = clientSettings(values);
    const client = connect(SERVICE, settings);
    const options = { metadata: settings.metadata, deadline: settings.timeoutMs };
    const type = values.type?.toUpperCase();
    try {
      switch (sub) {
        case 'order': {
          if (!type || values.age === undefined) throw new UsageError('cheese order needs --type and --age');
          const request = { type, age: Number(values.age), quantity: Number(values.quantity ?? 1), idempotencyKey: values['idempotency-key'] ?? randomUUID() };
          printReply(await callUnary<Cheese>(client, 'order', request, options), settings.json, describeOrder);
          return 0;
        }
        case 'get': {
          if (!positionals[0]) throw new UsageError('cheese get needs an ORDER_ID');
          printReply(await callUnary<Cheese>(client, 'getOrder', { orderId: positionals[0] }, options), settings.json, describeOrder);
          return 0;
        }
        case 'list': {
          const request = { type, pageSize: Number(values['page-size'] ?? 20), pageToken: values['page-token'] ?? '' };
          printReply(await callUnary<ListOrdersResponse>(client, 'listOrders', request, options), settings.json, (page: ListOrdersResponse) =>
            [...(page.orders ?? []).map(describeOrder), page.nextPageToken ? `next page: --page-token ${page.nextPageToken}` : '(end)'].join('\n'));
          return 0;
        }
        case 'watch': {
          // A watch has no deadline: it runs until the user stops it.
          const stream = openServerStream<OrderEvent>(client, 'watchOrders', { type }, { metadata: settings.metadata });
          process.once('SIGINT', () => stream.cancel());
          try {
            for await (const event of stream) printReply(event, settings.json, (e: OrderEvent) => `${e.kind} ${describeOrder(e.order!)}`);
          } catch (error) {
            if ((error as { code?: number }).code === 1) return 0; // CANCELLED by Ctrl-C
            throw error;
          }
          return 0;
        }
        default:
          throw new UsageError(`unknown cheese command "${sub}"`);
      }
    } catch (error) {
      if (error instanceof UsageError) throw error;
      return printCallError(error, settings.json);
    } finally {
      client.close();
    }
  },
};
